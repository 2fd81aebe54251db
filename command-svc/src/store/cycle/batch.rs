//! Cycles of many devices in one statement (PostgreSQL).
//!
//! A device request costs PostgreSQL far more around its statement than in it: the round trip,
//! starting the plan, the commit and its WAL flush took two thirds of PostgreSQL's CPU in the
//! closed-loop benchmark, the rows written a third. So the cycles of devices that ask at the same
//! moment run together: one statement over arrays (one element per device, [`BATCH_SQL`]) and
//! one commit, with the same CTEs as a single cycle joined on each device's row.
//!
//! Nothing waits to fill a batch. The first cycle to arrive starts one at once if fewer than
//! [`MAX_IN_FLIGHT`] are running; whatever arrives while they all run forms the next, so a
//! batch is as large as the load makes it and a lone device pays one statement as before.
//! A device appears at most once per batch (its CTEs would read one snapshot twice); a second
//! request of the same device waits for the next batch. If a batch fails, each of its cycles
//! runs alone, so one device's fault or a deadlock between batches fails no other device.

use super::{event_type, next_command, run_one, Cycle, CycleInput};
use crate::store::DeliveryStatus;
use mdm_core::CommandStatus;
use prometheus_client::metrics::counter::Counter;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Semaphore};

/// Batches running at once (each holds one pooled connection). Two, not four: fewer batches in
/// flight make each larger, and the closed-loop benchmark (mTLS, 1,000 devices, two cores)
/// did 1,690 and 1,863 cycles/s with two against 1,591 and 1,660 with four, alternating.
const MAX_IN_FLIGHT: usize = 2;
/// Cycles per statement at most: the statement's arrays stay small.
const MAX_BATCH: usize = 64;
/// Cycles waiting for a batch at most before callers wait to hand theirs over.
const QUEUE: usize = 4096;

/// Cycles of many devices, one statement per batch: `$1` enrollment IDs, `$2` generations,
/// `$3` reported CommandUUIDs (NULL: none), `$4` final delivery statuses ('' when the report is
/// not final), `$5` NotNow, `$6` reports, `$7` connections, `$8` Idle, `$9` now, `$10`
/// inventory updates (NULL: none), `$11` the report's event type and `$12` its status, `$13`
/// whether events are recorded. Each CTE is the single cycle's ([`super::AFTER_FINAL`] and its
/// siblings) joined on the input row of its device. Each also names the batch's devices
/// (`d.enrollment_id = ANY($1)`, redundant with the join): whatever order the planner joins in,
/// `deliveries` is then read by index for those devices only. Without it, statistics taken while
/// no delivery was queued (a large history, a small queue) made the planner read every queued
/// delivery for each batch, which halved the benchmark's cycle rate with a long history.
const BATCH_SQL: &str = "WITH input AS (
        SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bool[],
                             $6::bytea[], $7::text[], $8::bool[], $9::bigint[], $10::bytea[],
                             $11::text[], $12::text[], $13::bool[])
            WITH ORDINALITY AS i (enrollment_id, generation, reported, status, not_now, body,
                                  connection, idle, now, inventory, event_type, event_status,
                                  events, ord)
    ), final AS (
        UPDATE deliveries d SET status = i.status, result = i.body, completed_at = i.now,
                                not_now_connection = NULL
        FROM input i
        WHERE i.status <> '' AND d.enrollment_id = i.enrollment_id
          AND d.command_uuid = i.reported AND d.status = 'queued' AND d.enrollment_id = ANY($1)
        RETURNING i.ord
    ), not_now AS (
        UPDATE deliveries d SET not_now_connection = i.connection,
                                not_now_count = d.not_now_count + 1
        FROM input i
        WHERE i.not_now AND d.enrollment_id = i.enrollment_id
          AND d.command_uuid = i.reported AND d.status = 'queued' AND d.enrollment_id = ANY($1)
        RETURNING i.ord
    ), recorded AS (
        SELECT ord FROM final UNION ALL SELECT ord FROM not_now
    ), outbox AS (
        INSERT INTO inventory_outbox (enrollment_id, reported_at, payload)
        SELECT i.enrollment_id, i.now, i.inventory FROM input i JOIN recorded r ON r.ord = i.ord
        WHERE i.inventory IS NOT NULL
    ), superseded AS (
        UPDATE deliveries d SET status = 'superseded', completed_at = i.now
        FROM input i
        WHERE i.idle AND d.enrollment_id = i.enrollment_id AND d.status = 'queued'
          AND d.enrollment_id = ANY($1) AND d.generation <> 0 AND d.generation < i.generation
    ), next AS (
        SELECT i.ord, i.enrollment_id, i.now, i.events, n.command_uuid, n.request_type, n.payload,
               n.sent_at
        FROM input i CROSS JOIN LATERAL (
            SELECT d.command_uuid, c.request_type, c.payload, d.sent_at
            FROM deliveries d JOIN commands c ON c.command_uuid = d.command_uuid
            WHERE d.enrollment_id = i.enrollment_id AND d.status = 'queued'
              AND (d.generation = i.generation OR d.generation = 0)
              AND (c.expires_at IS NULL OR c.expires_at > i.now)
              AND (i.idle OR d.not_now_connection IS NULL OR d.not_now_connection <> i.connection)
              AND d.command_uuid IS DISTINCT FROM i.reported
            ORDER BY d.priority DESC, d.command_uuid
            LIMIT 1
        ) n
    ), sent AS (
        UPDATE deliveries d SET sent_at = next.now FROM next
        WHERE d.enrollment_id = next.enrollment_id AND d.command_uuid = next.command_uuid
          AND d.sent_at IS NULL AND d.status = 'queued' AND d.enrollment_id = ANY($1)
    ), events AS (
        INSERT INTO event_outbox (type, occurred_at, enrollment_id, command_uuid, status)
        SELECT i.event_type, i.now, i.enrollment_id, i.reported, i.event_status
        FROM input i JOIN recorded r ON r.ord = i.ord WHERE i.events
        UNION ALL
        SELECT 'command.delivered', next.now, next.enrollment_id, next.command_uuid, NULL
        FROM next WHERE next.events AND next.sent_at IS NULL
    )
    SELECT i.ord, r.ord IS NOT NULL, next.command_uuid, next.request_type, next.payload,
           next.sent_at
    FROM input i LEFT JOIN recorded r ON r.ord = i.ord LEFT JOIN next ON next.ord = i.ord
    ORDER BY i.ord";

type BatchRow = (
    i64,
    bool,
    Option<String>,
    Option<String>,
    Option<Vec<u8>>,
    Option<i64>,
);

/// A cycle waiting for its batch, and where its outcome goes.
struct Waiting {
    input: CycleInput,
    outcome: oneshot::Sender<Result<Cycle, sqlx::Error>>,
}

/// How batching goes: cycles per statement is `batched` over `statements` (of the cycles that
/// ran with others).
#[derive(Debug, Clone, Default)]
pub struct BatchCounters {
    /// Statements that ran cycles (a batch, or one cycle alone).
    pub statements: Counter,
    /// Cycles that ran in a statement with others.
    pub batched: Counter,
}

/// Hands cycles to the task that batches them.
#[derive(Debug)]
pub(crate) struct Batcher {
    waiting: mpsc::Sender<Waiting>,
    counters: BatchCounters,
}

impl Batcher {
    /// Starts the batching task over `pool`; it ends when the last handle is dropped.
    pub(crate) fn start(pool: &PgPool) -> Arc<Batcher> {
        let pool = generic_plans(pool);
        let (waiting, arrivals) = mpsc::channel(QUEUE);
        let counters = BatchCounters::default();
        tokio::spawn(gather(pool, arrivals, counters.clone()));
        Arc::new(Batcher { waiting, counters })
    }

    /// Its counters.
    pub(crate) fn counters(&self) -> &BatchCounters {
        &self.counters
    }

    /// Runs `input` in the next batch and answers its outcome.
    pub(crate) async fn cycle(&self, input: CycleInput) -> Result<Cycle, sqlx::Error> {
        let (outcome, answer) = oneshot::channel();
        self.waiting
            .send(Waiting { input, outcome })
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::WorkerCrashed)?
    }
}

/// A pool of its own for the cycle statements, beside `pool` (the same server and database, at
/// most [`MAX_IN_FLIGHT`] connections), whose sessions always run the generic plan of a
/// prepared statement. Left to choose, PostgreSQL plans the batch afresh at every run once the
/// tables are large: with the arrays' real lengths the custom plan looks cheaper than the
/// generic one, but planning it cost ~0.9 ms against ~0.2 ms to run it (a million deliveries).
/// The generic plans are the ones `tests/history_plans.rs` holds to index lookups.
fn generic_plans(pool: &PgPool) -> PgPool {
    let options = (*pool.connect_options())
        .clone()
        .options([("plan_cache_mode", "force_generic_plan")]);
    PgPoolOptions::new()
        .max_connections(u32::try_from(MAX_IN_FLIGHT).unwrap_or(u32::MAX))
        .acquire_timeout(pool.options().get_acquire_timeout())
        .connect_lazy_with(options)
}

/// Forms batches from what arrived while earlier ones ran, and starts each when a slot is free.
async fn gather(pool: PgPool, mut arrivals: mpsc::Receiver<Waiting>, counters: BatchCounters) {
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    // A device's second cycle, held for a later batch than its first.
    let mut held: VecDeque<Waiting> = VecDeque::new();
    loop {
        if held.is_empty() {
            match arrivals.recv().await {
                Some(first) => held.push_back(first),
                None => return,
            }
        }
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        while held.len() < MAX_BATCH {
            match arrivals.try_recv() {
                Ok(next) => held.push_back(next),
                Err(_) => break,
            }
        }
        let batch = take_batch(&mut held);
        let (pool, counters) = (pool.clone(), counters.clone());
        tokio::spawn(async move {
            run(&pool, batch, &counters).await;
            drop(slot);
        });
    }
}

/// Takes up to [`MAX_BATCH`] cycles from `held`, one per device, in arrival order; the rest
/// stay held.
fn take_batch(held: &mut VecDeque<Waiting>) -> Vec<Waiting> {
    let mut devices = HashSet::new();
    let mut batch = Vec::new();
    let mut later = VecDeque::new();
    while let Some(waiting) = held.pop_front() {
        if batch.len() < MAX_BATCH && devices.insert(waiting.input.enrollment_id.clone()) {
            batch.push(waiting);
        } else {
            later.push_back(waiting);
        }
    }
    *held = later;
    batch
}

/// Runs one batch and answers each of its cycles.
async fn run(pool: &PgPool, batch: Vec<Waiting>, counters: &BatchCounters) {
    counters.statements.inc();
    if batch.len() == 1 {
        for one in batch {
            let outcome = run_one(pool, &one.input).await;
            let _ = one.outcome.send(outcome);
        }
        return;
    }
    let inputs: Vec<&CycleInput> = batch.iter().map(|w| &w.input).collect();
    match run_batch(pool, &inputs).await {
        Ok(cycles) => {
            counters.batched.inc_by(cycles.len() as u64);
            for (waiting, cycle) in batch.into_iter().zip(cycles) {
                // The caller may have gone (its request cancelled); the cycle stands.
                let _ = waiting.outcome.send(Ok(cycle));
            }
        }
        Err(error) => {
            tracing::debug!(%error, size = batch.len(), "a batch of cycles failed; each runs alone");
            for waiting in batch {
                counters.statements.inc();
                let outcome = run_one(pool, &waiting.input).await;
                let _ = waiting.outcome.send(outcome);
            }
        }
    }
}

/// The cycles of `inputs` (distinct devices) in one statement, in their order.
async fn run_batch(pool: &PgPool, inputs: &[&CycleInput]) -> Result<Vec<Cycle>, sqlx::Error> {
    let enrollments: Vec<&str> = inputs.iter().map(|i| i.enrollment_id.as_str()).collect();
    let generations: Vec<i64> = inputs.iter().map(|i| i.generation).collect();
    let reported: Vec<Option<&str>> = inputs
        .iter()
        .map(|i| i.reported.as_ref().map(|r| r.command_uuid.as_str()))
        .collect();
    let finals: Vec<&str> = inputs
        .iter()
        .map(|i| match i.reported_status() {
            CommandStatus::Idle | CommandStatus::NotNow => "",
            status => DeliveryStatus::from_final(status).as_str(),
        })
        .collect();
    let not_now: Vec<bool> = inputs
        .iter()
        .map(|i| i.reported_status() == CommandStatus::NotNow)
        .collect();
    let bodies: Vec<&[u8]> = inputs
        .iter()
        .map(|i| i.reported.as_ref().map_or(&[][..], |r| r.body.as_slice()))
        .collect();
    let connections: Vec<&str> = inputs.iter().map(|i| i.connection_id.as_str()).collect();
    let idle: Vec<bool> = inputs.iter().map(|i| i.idle).collect();
    let now: Vec<i64> = inputs.iter().map(|i| i.now).collect();
    let inventory: Vec<Option<&[u8]>> = inputs
        .iter()
        .map(|i| i.reported.as_ref().and_then(|r| r.inventory.as_deref()))
        .collect();
    let event_types: Vec<&str> = inputs
        .iter()
        .map(|i| event_type(i.reported_status()))
        .collect();
    let event_statuses: Vec<&str> = inputs
        .iter()
        .map(|i| i.reported_status().as_str())
        .collect();
    let events: Vec<bool> = inputs.iter().map(|i| i.events).collect();
    let rows: Vec<BatchRow> = sqlx::query_as(BATCH_SQL)
        .bind(enrollments)
        .bind(generations)
        .bind(reported)
        .bind(finals)
        .bind(not_now)
        .bind(bodies)
        .bind(connections)
        .bind(idle)
        .bind(now)
        .bind(inventory)
        .bind(event_types)
        .bind(event_statuses)
        .bind(events)
        .fetch_all(pool)
        .await?;
    // One row per input, in input order (`ORDER BY i.ord`, from 1).
    let in_order = rows.len() == inputs.len()
        && rows
            .iter()
            .zip(1..)
            .all(|(row, ord): (&BatchRow, i64)| row.0 == ord);
    if !in_order {
        return Err(sqlx::Error::Protocol(format!(
            "a batch of {} cycles answered {} rows out of order",
            inputs.len(),
            rows.len()
        )));
    }
    Ok(rows
        .into_iter()
        .map(
            |(_, recorded, uuid, request_type, payload, sent_at)| Cycle {
                recorded,
                next: next_command(uuid, request_type, payload, sent_at),
            },
        )
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(device: &str) -> Waiting {
        Waiting {
            input: CycleInput {
                enrollment_id: device.to_owned(),
                generation: 1,
                reported: None,
                connection_id: "c".into(),
                idle: true,
                now: 0,
                events: true,
            },
            outcome: oneshot::channel().0,
        }
    }

    fn devices(batch: &[Waiting]) -> Vec<&str> {
        batch
            .iter()
            .map(|w| w.input.enrollment_id.as_str())
            .collect()
    }

    #[test]
    fn a_batch_holds_each_device_once_and_the_rest_wait_in_order() {
        let mut held: VecDeque<Waiting> = ["A", "B", "A", "C", "B", "A"]
            .into_iter()
            .map(waiting)
            .collect();
        assert_eq!(devices(&take_batch(&mut held)), ["A", "B", "C"]);
        assert_eq!(devices(&take_batch(&mut held)), ["A", "B"]);
        assert_eq!(devices(&take_batch(&mut held)), ["A"]);
        assert!(held.is_empty());
    }

    #[test]
    fn a_batch_is_bounded() {
        let mut held: VecDeque<Waiting> = (0..MAX_BATCH + 3)
            .map(|i| waiting(&format!("D{i}")))
            .collect();
        assert_eq!(take_batch(&mut held).len(), MAX_BATCH);
        assert_eq!(devices(Vec::from(held).as_slice()), ["D64", "D65", "D66"]);
    }
}
