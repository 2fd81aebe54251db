//! The command queue on SQLite or PostgreSQL.
//!
//! The hot path is the report cycle ([`QueueStore::cycle`]): on PostgreSQL one statement
//! (record the status, pick the head of the queue, mark it sent) and one commit for the
//! requests of all devices asking at that moment; on SQLite its three indexed steps ([`QueueStore::record_status`],
//! [`QueueStore::next_command`], [`QueueStore::mark_sent`]). Its cost does not grow with the size
//! of the history.
//!
//! # Layout
//! - `cycle`: the report cycle, and `cycle::batch` running many devices' cycles at once.
//! - [`enqueue`](QueueStore::enqueue): one command row plus one delivery per target, in bulk.
//! - `history`: commands and deliveries as administrators read them.
//! - `retention`: expiry and purging, so tables stay bounded.
//! - `schedules`: periodic jobs one replica at a time runs, and where each stopped.
//! - `rows`: the row types.

mod cycle;
mod enqueue;
mod history;
pub mod history_seed;
mod outbox;
mod retention;
mod rows;
mod schedules;

pub use cycle::batch::BatchCounters;
use cycle::batch::Batcher;
pub use cycle::{Cycle, Reported};
pub use enqueue::{EnqueueOutcome, NewCommand, Target};
pub use history::CommandFilter;
pub use outbox::OutboxRow;
use outbox::INSERT_OUTBOX;
pub use retention::SweepReport;
pub use rows::{AuditRow, CommandRow, DeliveryRow, DeliveryStatus};

use crate::error::Error;
use mdm_core::CommandStatus;
use service_kit::db::{BeginWrite, Db};
use service_kit::events::NewEvent;
use service_kit::with_db;
use std::sync::Arc;

/// The migrations of each engine, run at start; the diagnosis compares them with what the
/// database records.
pub static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
/// See [`SQLITE_MIGRATIONS`].
pub static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The next command to send to a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextCommand {
    /// Its CommandUUID.
    pub command_uuid: String,
    /// Its RequestType.
    pub request_type: String,
    /// The plist to send.
    pub payload: Vec<u8>,
    /// Whether it was sent before (a device may ask again for the same head command).
    pub sent_before: bool,
}

/// The queue store of command-svc.
#[derive(Debug, Clone)]
pub struct QueueStore {
    db: Db,
    /// Whether command events go to the outbox (`[events] outbox`).
    events: bool,
    /// Runs the cycles of devices asking at once together (PostgreSQL only).
    batcher: Option<Arc<Batcher>>,
}

impl QueueStore {
    /// Wraps a pool and runs the migrations for its engine.
    pub async fn open(db: Db) -> Result<QueueStore, Error> {
        db.migrate(&SQLITE_MIGRATIONS, &POSTGRES_MIGRATIONS).await?;
        let batcher = match &db {
            Db::Postgres(pool) => Some(Batcher::start(pool)),
            Db::Sqlite(_) => None,
        };
        Ok(QueueStore {
            db,
            events: true,
            batcher,
        })
    }

    /// With or without command events in the outbox (cancellations and expiries are always
    /// recorded).
    pub fn with_events(mut self, events: bool) -> QueueStore {
        self.events = events;
        self
    }

    /// How the cycles were batched (PostgreSQL; `None` on SQLite, where each runs alone).
    pub fn cycle_batches(&self) -> Option<&BatchCounters> {
        self.batcher.as_ref().map(|b| b.counters())
    }

    /// The pool, for readiness checks and shutdown.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Records a device's status for a command it was sent. A final status (Acknowledged, Error,
    /// CommandFormatError) dequeues it with the report kept as its result, and `inventory` (what
    /// the result says about the device) goes to the outbox in the same transaction; NotNow
    /// keeps it queued but skipped on `connection_id`. Returns false when nothing changed: a
    /// repeated status, or a command that is no longer queued for this enrollment (harmless).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_status(
        &self,
        enrollment_id: &str,
        command_uuid: &str,
        status: CommandStatus,
        report: &[u8],
        inventory: Option<&[u8]>,
        connection_id: &str,
        now: i64,
    ) -> Result<bool, Error> {
        let updated = match status {
            CommandStatus::Idle => return Ok(false),
            CommandStatus::NotNow => {
                let recorded: Result<u64, sqlx::Error> = with_db!(&self.db, pool => async {
                    let mut tx = pool.begin_write().await?;
                    let done = sqlx::query(
                        "UPDATE deliveries SET not_now_connection = $3, not_now_count = not_now_count + 1
                         WHERE enrollment_id = $1 AND command_uuid = $2 AND status = 'queued'",
                    )
                    .bind(enrollment_id)
                    .bind(command_uuid)
                    .bind(connection_id)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() > 0 && self.events {
                        report_event(enrollment_id, command_uuid, status).write(&mut *tx, now).await?;
                    }
                    tx.commit().await?;
                    Ok(done.rows_affected())
                }.await);
                recorded?
            }
            final_status => {
                let recorded: Result<u64, sqlx::Error> = with_db!(&self.db, pool => async {
                    let mut tx = pool.begin_write().await?;
                    let done = sqlx::query(
                        "UPDATE deliveries SET status = $3, result = $4, completed_at = $5, not_now_connection = NULL
                         WHERE enrollment_id = $1 AND command_uuid = $2 AND status = 'queued'",
                    )
                    .bind(enrollment_id)
                    .bind(command_uuid)
                    .bind(DeliveryStatus::from_final(final_status).as_str())
                    .bind(report)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() > 0 && self.events {
                        report_event(enrollment_id, command_uuid, final_status).write(&mut *tx, now).await?;
                    }
                    if let (1.., Some(inventory)) = (done.rows_affected(), inventory) {
                        sqlx::query(INSERT_OUTBOX)
                            .bind(enrollment_id)
                            .bind(now)
                            .bind(inventory)
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(done.rows_affected())
                }.await);
                recorded?
            }
        };
        Ok(updated > 0)
    }

    /// The head of an enrollment's queue for its `generation`: highest priority first, then
    /// enqueue order; never an expired command, nor one queued for an earlier generation; not a
    /// command the device answered NotNow to on this connection unless the device starts over
    /// with Idle.
    pub async fn next_command(
        &self,
        enrollment_id: &str,
        generation: i64,
        connection_id: &str,
        idle: bool,
        now: i64,
    ) -> Result<Option<NextCommand>, Error> {
        let row: Option<(String, String, Vec<u8>, Option<i64>)> = with_db!(&self.db, pool => sqlx::query_as(
            "SELECT d.command_uuid, c.request_type, c.payload, d.sent_at
             FROM deliveries d JOIN commands c ON c.command_uuid = d.command_uuid
             WHERE d.enrollment_id = $1 AND d.status = 'queued'
               AND (d.generation = $5 OR d.generation = 0)
               AND (c.expires_at IS NULL OR c.expires_at > $2)
               AND ($4 OR d.not_now_connection IS NULL OR d.not_now_connection <> $3)
             ORDER BY d.priority DESC, d.command_uuid
             LIMIT 1",
        )
        .bind(enrollment_id)
        .bind(now)
        .bind(connection_id)
        .bind(idle)
        .bind(generation)
        .fetch_optional(pool)
        .await)?;
        Ok(row.map(
            |(command_uuid, request_type, payload, sent_at)| NextCommand {
                command_uuid,
                request_type,
                payload,
                sent_before: sent_at.is_some(),
            },
        ))
    }

    /// Notes the first time a command was sent to an enrollment.
    pub async fn mark_sent(
        &self,
        enrollment_id: &str,
        command_uuid: &str,
        now: i64,
    ) -> Result<(), Error> {
        let marked: Result<(), sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE deliveries SET sent_at = $3
                 WHERE enrollment_id = $1 AND command_uuid = $2 AND sent_at IS NULL",
            )
            .bind(enrollment_id)
            .bind(command_uuid)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() > 0 && self.events {
                NewEvent {
                    kind: "command.delivered",
                    enrollment_id,
                    command_uuid: Some(command_uuid),
                    ..NewEvent::default()
                }
                .write(&mut *tx, now)
                .await?;
            }
            tx.commit().await
        }.await);
        Ok(marked?)
    }

    /// Deliveries waiting and the time the oldest was queued (Unix ms), for the queue gauges.
    pub async fn queue_stats(&self) -> Result<(i64, Option<i64>), Error> {
        let stats = with_db!(&self.db, pool => sqlx::query_as::<_, (i64, Option<i64>)>(
            "SELECT COUNT(*), MIN(queued_at) FROM deliveries WHERE status = 'queued'",
        )
        .fetch_one(pool)
        .await)?;
        Ok(stats)
    }

    /// Withdraws a command from every queue it still waits in, and records who cancelled it
    /// (the first cancellation's time and author are kept, and audited). `None` when it does
    /// not exist.
    pub async fn cancel(
        &self,
        command_uuid: &str,
        by: &str,
        now: i64,
    ) -> Result<Option<u64>, Error> {
        let postgres = matches!(self.db, Db::Postgres(_));
        let result: Result<Option<u64>, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let found: Option<(String, Option<i64>)> = sqlx::query_as(
                "SELECT request_type, cancelled_at FROM commands WHERE command_uuid = $1",
            )
            .bind(command_uuid)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((request_type, cancelled_at)) = found else {
                return Ok(None);
            };
            let cancelled = if postgres {
                let n: i64 = sqlx::query_scalar(CANCEL_WITH_EVENTS_POSTGRES)
                    .bind(command_uuid)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                u64::try_from(n).unwrap_or(0)
            } else {
                sqlx::query(CANCELLED_EVENTS)
                    .bind(command_uuid)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(CANCEL)
                    .bind(command_uuid)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            };
            if cancelled_at.is_none() {
                sqlx::query(
                    "UPDATE commands SET cancelled_at = $2, cancelled_by = $3 WHERE command_uuid = $1",
                )
                .bind(command_uuid)
                .bind(now)
                .bind(by)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO audit_log (at, actor, action, request_type, command_uuid, enrollment_id, reason)
                     VALUES ($1, $2, 'command.cancelled', $3, $4, '', $5)",
                )
                .bind(now)
                .bind(by)
                .bind(&request_type)
                .bind(command_uuid)
                .bind(format!("{cancelled} queued deliveries withdrawn"))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(Some(cancelled))
        }.await);
        Ok(result?)
    }

    /// Marks what is still queued for an earlier generation of an enrollment as superseded:
    /// the enrollment started afresh since, and a re-enrolled device must not run what was
    /// meant for the one before (an old EraseDevice on a re-provisioned iPad). Runs at the
    /// device's Idle; history stays, so an administrator sees what never ran.
    pub async fn supersede_earlier(
        &self,
        enrollment_id: &str,
        generation: i64,
        now: i64,
    ) -> Result<u64, Error> {
        let superseded = with_db!(&self.db, pool => sqlx::query(SUPERSEDE_EARLIER)
        .bind(enrollment_id)
        .bind(generation)
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(superseded)
    }
}

/// The event of a device's report on a command.
fn report_event<'a>(
    enrollment_id: &'a str,
    command_uuid: &'a str,
    status: CommandStatus,
) -> NewEvent<'a> {
    NewEvent {
        kind: cycle::event_type(status),
        enrollment_id,
        command_uuid: Some(command_uuid),
        status: Some(status.as_str()),
        ..NewEvent::default()
    }
}

/// Withdraws a command's queued deliveries (`$1` CommandUUID, `$2` now).
const CANCEL: &str = "UPDATE deliveries SET status = 'cancelled', completed_at = $2
     WHERE command_uuid = $1 AND status = 'queued'";
/// Their `command.cancelled` events, written first in SQLite's write transaction (which no other
/// writer can enter, so the rows read are the rows then updated).
const CANCELLED_EVENTS: &str =
    "INSERT INTO event_outbox (type, occurred_at, enrollment_id, command_uuid, status)
     SELECT 'command.cancelled', $2, enrollment_id, command_uuid, 'Cancelled' FROM deliveries
     WHERE command_uuid = $1 AND status = 'queued'";
/// Both in one statement on PostgreSQL, where concurrent writers exist: the events are of the
/// rows this update changed. Answers how many.
const CANCEL_WITH_EVENTS_POSTGRES: &str = "WITH cancelled AS (
        UPDATE deliveries SET status = 'cancelled', completed_at = $2
        WHERE command_uuid = $1 AND status = 'queued' RETURNING enrollment_id
     ), events AS (
        INSERT INTO event_outbox (type, occurred_at, enrollment_id, command_uuid, status)
        SELECT 'command.cancelled', $2, enrollment_id, $1, 'Cancelled' FROM cancelled
     )
     SELECT COUNT(*) FROM cancelled";

/// The outbox as admin-svc pulls it: a command event carries its RequestType, and a result
/// event the device's report, both read from where they are kept once (`$1` the limit).
pub const PULL_EVENTS: &str = "SELECT o.position, o.id, o.type, o.occurred_at, o.enrollment_id,
        o.command_uuid, c.request_type, o.status, COALESCE(o.raw, d.result) AS raw, o.attributes
     FROM event_outbox o
     LEFT JOIN commands c ON c.command_uuid = o.command_uuid
     LEFT JOIN deliveries d ON o.type IN ('command.acknowledged', 'command.error')
        AND d.enrollment_id = o.enrollment_id AND d.command_uuid = o.command_uuid
     ORDER BY o.position LIMIT $1";

/// `$1` enrollment, `$2` its current generation, `$3` now. Generation 0 (queued before the
/// enrollment was known) is never superseded: it waits for whichever generation asks.
const SUPERSEDE_EARLIER: &str = "UPDATE deliveries SET status = 'superseded', completed_at = $3
     WHERE enrollment_id = $1 AND status = 'queued' AND generation <> 0 AND generation < $2";
