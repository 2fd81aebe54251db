//! The report cycle in one call: record the device's status for the command it answered, pick
//! the head of its queue and note it as sent.
//!
//! On PostgreSQL that is one statement: data-modifying CTEs record the status and mark the next
//! command sent, so a command round trip costs one network round trip and one commit instead
//! of three and two. All CTEs read one snapshot, in which the command just answered still looks
//! queued: the head is therefore chosen among the others, which is what both outcomes need (a
//! final status dequeues it; a NotNow skips it for the rest of the connection). The cycles of
//! devices asking at the same moment run as one such statement over arrays ([`batch`]). SQLite
//! has no data-modifying CTEs; there the three statements run in turn, as cheap as they are
//! in-process.
//!
//! Only deliveries of the device's current generation (or of generation 0, queued before the
//! enrollment was known) are served. On Idle, the start of a session, deliveries left from an
//! earlier generation are marked superseded in the same statement; the `next` CTE never picks
//! them, so no row is touched by two CTEs.

pub(super) mod batch;

use super::{DeliveryStatus, NextCommand, QueueStore};
use crate::error::Error;
use mdm_core::CommandStatus;
use sqlx::PgPool;

/// The status a device reported for a command.
#[derive(Debug, Clone, Copy)]
pub struct Reported<'a> {
    /// CommandUUID.
    pub command_uuid: &'a str,
    /// Its status (never Idle).
    pub status: CommandStatus,
    /// The whole report, kept as the result of a final status.
    pub body: &'a [u8],
    /// What the result says about the device (`mdm.v1.InventoryUpdate`, encoded), written to
    /// the inventory outbox in the same transaction as the result.
    pub inventory: Option<&'a [u8]>,
}

/// What a cycle did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// Whether the reported status changed anything (false: repeated, or not queued).
    pub recorded: bool,
    /// The command to send now, already noted as sent.
    pub next: Option<NextCommand>,
}

/// The cycle statement around the CTE that records the status (`$1` enrollment, `$2` reported
/// CommandUUID, `$3` final status, `$4` report, `$5` now, `$6` connection, `$7` Idle, `$8` the
/// enrollment's generation, `$9` the inventory update for the outbox, or NULL, `$10` the event
/// type of the report and `$11` its status, `$12` whether events are recorded). The events of the report and of the first sending
/// of the next command go to the event outbox in the same statement; the result itself is not
/// copied there (the outbox's pull joins it, see [`super::PULL_EVENTS`]).
macro_rules! cycle_sql {
    ($record:literal) => {
        concat!(
            "WITH recorded AS (",
            $record,
            "), outbox AS (
                INSERT INTO inventory_outbox (enrollment_id, reported_at, payload)
                SELECT $1, $5, $9 WHERE $9 IS NOT NULL AND EXISTS (SELECT 1 FROM recorded)
            ), superseded AS (
                UPDATE deliveries SET status = 'superseded', completed_at = $5
                WHERE $7 AND enrollment_id = $1 AND status = 'queued'
                  AND generation <> 0 AND generation < $8
            ), next AS (
                SELECT d.command_uuid, c.request_type, c.payload, d.sent_at
                FROM deliveries d JOIN commands c ON c.command_uuid = d.command_uuid
                WHERE d.enrollment_id = $1 AND d.status = 'queued'
                  AND (d.generation = $8 OR d.generation = 0)
                  AND (c.expires_at IS NULL OR c.expires_at > $5)
                  AND ($7 OR d.not_now_connection IS NULL OR d.not_now_connection <> $6)
                  AND d.command_uuid IS DISTINCT FROM $2
                ORDER BY d.priority DESC, d.command_uuid
                LIMIT 1
            ), sent AS (
                UPDATE deliveries d SET sent_at = $5 FROM next
                WHERE d.enrollment_id = $1 AND d.command_uuid = next.command_uuid
                  AND d.sent_at IS NULL
            ), events AS (
                INSERT INTO event_outbox (type, occurred_at, enrollment_id, command_uuid, status)
                SELECT $10::text, $5, $1, $2, $11::text FROM recorded WHERE $12
                UNION ALL
                SELECT 'command.delivered', $5, $1, next.command_uuid, NULL FROM next
                WHERE $12 AND next.sent_at IS NULL
            )
            SELECT (SELECT COUNT(*) FROM recorded), next.command_uuid, next.request_type,
                   next.payload, next.sent_at
            FROM (SELECT 1) AS one LEFT JOIN next ON TRUE"
        )
    };
}

const AFTER_IDLE: &str = cycle_sql!("SELECT 1 WHERE FALSE");
const AFTER_FINAL: &str = cycle_sql!(
    "UPDATE deliveries SET status = $3, result = $4, completed_at = $5, not_now_connection = NULL
     WHERE enrollment_id = $1 AND command_uuid = $2 AND status = 'queued' RETURNING 1"
);
const AFTER_NOT_NOW: &str = cycle_sql!(
    "UPDATE deliveries SET not_now_connection = $6, not_now_count = not_now_count + 1
     WHERE enrollment_id = $1 AND command_uuid = $2 AND status = 'queued' RETURNING 1"
);

/// The event a device's report makes.
pub(super) fn event_type(status: CommandStatus) -> &'static str {
    match status {
        CommandStatus::Acknowledged => "command.acknowledged",
        CommandStatus::Error | CommandStatus::CommandFormatError => "command.error",
        CommandStatus::NotNow => "command.not_now",
        // Idle reports no command: it records nothing, so it makes no event.
        CommandStatus::Idle => "",
    }
}

type CycleRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<Vec<u8>>,
    Option<i64>,
);

/// One device request's cycle, owned: what [`QueueStore::cycle`] was asked, as it travels to
/// the batcher ([`batch`]).
#[derive(Debug, Clone)]
pub(super) struct CycleInput {
    pub enrollment_id: String,
    pub generation: i64,
    pub reported: Option<ReportedOwned>,
    pub connection_id: String,
    pub idle: bool,
    pub now: i64,
    /// Whether command events are recorded.
    pub events: bool,
}

/// [`Reported`], owned.
#[derive(Debug, Clone)]
pub(super) struct ReportedOwned {
    pub command_uuid: String,
    pub status: CommandStatus,
    pub body: Vec<u8>,
    pub inventory: Option<Vec<u8>>,
}

impl CycleInput {
    /// The status the device reported (Idle when it answered no command).
    pub(super) fn reported_status(&self) -> CommandStatus {
        self.reported
            .as_ref()
            .map_or(CommandStatus::Idle, |r| r.status)
    }
}

/// The next command a cycle row names, if any.
pub(super) fn next_command(
    uuid: Option<String>,
    request_type: Option<String>,
    payload: Option<Vec<u8>>,
    sent_at: Option<i64>,
) -> Option<NextCommand> {
    match (uuid, request_type, payload) {
        (Some(command_uuid), Some(request_type), Some(payload)) => Some(NextCommand {
            command_uuid,
            request_type,
            payload,
            sent_before: sent_at.is_some(),
        }),
        _ => None,
    }
}

/// One cycle in one statement (PostgreSQL): what a batch of one runs.
pub(super) async fn run_one(pool: &PgPool, input: &CycleInput) -> Result<Cycle, sqlx::Error> {
    let reported = input.reported.as_ref();
    let (sql, status) = match reported.map(|r| r.status) {
        None | Some(CommandStatus::Idle) => (AFTER_IDLE, ""),
        Some(CommandStatus::NotNow) => (AFTER_NOT_NOW, ""),
        Some(status) => (AFTER_FINAL, DeliveryStatus::from_final(status).as_str()),
    };
    let reported_status = input.reported_status();
    let (recorded, uuid, request_type, payload, sent_at): CycleRow = sqlx::query_as(sql)
        .bind(&input.enrollment_id)
        .bind(reported.map(|r| r.command_uuid.as_str()))
        .bind(status)
        .bind(reported.map_or(&[][..], |r| r.body.as_slice()))
        .bind(input.now)
        .bind(&input.connection_id)
        .bind(input.idle)
        .bind(input.generation)
        .bind(reported.and_then(|r| r.inventory.as_deref()))
        .bind(event_type(reported_status))
        .bind(reported_status.as_str())
        .bind(input.events)
        .fetch_one(pool)
        .await?;
    Ok(Cycle {
        recorded: recorded > 0,
        next: next_command(uuid, request_type, payload, sent_at),
    })
}

impl QueueStore {
    /// Records `reported` (if the device answered a command) and answers the next command for
    /// `enrollment_id` in its `generation` on `connection_id`, noted as sent. `idle` starts the
    /// connection over (commands it answered NotNow to are offered again, and those of earlier
    /// generations are superseded).
    ///
    /// On PostgreSQL the cycles of devices asking at the same moment run together, one statement
    /// and one commit for all of them ([`batch`]).
    pub async fn cycle(
        &self,
        enrollment_id: &str,
        generation: i64,
        reported: Option<Reported<'_>>,
        connection_id: &str,
        idle: bool,
        now: i64,
    ) -> Result<Cycle, Error> {
        let Some(batcher) = &self.batcher else {
            return self
                .cycle_in_steps(
                    enrollment_id,
                    generation,
                    reported,
                    connection_id,
                    idle,
                    now,
                )
                .await;
        };
        let input = CycleInput {
            enrollment_id: enrollment_id.to_owned(),
            generation,
            reported: reported.map(|r| ReportedOwned {
                command_uuid: r.command_uuid.to_owned(),
                status: r.status,
                body: r.body.to_vec(),
                inventory: r.inventory.map(<[u8]>::to_vec),
            }),
            connection_id: connection_id.to_owned(),
            idle,
            now,
            events: self.events,
        };
        Ok(batcher.cycle(input).await?)
    }

    async fn cycle_in_steps(
        &self,
        enrollment_id: &str,
        generation: i64,
        reported: Option<Reported<'_>>,
        connection_id: &str,
        idle: bool,
        now: i64,
    ) -> Result<Cycle, Error> {
        if idle {
            self.supersede_earlier(enrollment_id, generation, now)
                .await?;
        }
        let recorded = match reported {
            Some(r) => {
                self.record_status(
                    enrollment_id,
                    r.command_uuid,
                    r.status,
                    r.body,
                    r.inventory,
                    connection_id,
                    now,
                )
                .await?
            }
            None => false,
        };
        let next = self
            .next_command(enrollment_id, generation, connection_id, idle, now)
            .await?;
        if let Some(next) = &next {
            if !next.sent_before {
                self.mark_sent(enrollment_id, &next.command_uuid, now)
                    .await?;
            }
        }
        Ok(Cycle { recorded, next })
    }
}
