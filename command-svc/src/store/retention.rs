//! Expiry and purging, so the queue tables stay bounded under a steady load.

use super::QueueStore;
use crate::error::Error;
use service_kit::db::{BeginWrite, Db};
use service_kit::with_db;

/// Queued deliveries of commands past their expiry (`$1` now).
macro_rules! expiring {
    () => {
        "status = 'queued' AND command_uuid IN
       (SELECT command_uuid FROM commands WHERE expires_at IS NOT NULL AND expires_at <= $1)"
    };
}
const EXPIRE: &str = concat!(
    "UPDATE deliveries SET status = 'expired', completed_at = $1 WHERE ",
    expiring!()
);
/// Their `command.expired` events, first, in SQLite's write transaction (see `CANCELLED_EVENTS`).
const EXPIRED_EVENTS: &str = concat!(
    "INSERT INTO event_outbox (type, occurred_at, enrollment_id, command_uuid, status)
     SELECT 'command.expired', $1, enrollment_id, command_uuid, 'Expired' FROM deliveries WHERE ",
    expiring!()
);
/// Both in one statement on PostgreSQL; answers how many expired.
const EXPIRE_WITH_EVENTS_POSTGRES: &str = concat!(
    "WITH expired AS (UPDATE deliveries SET status = 'expired', completed_at = $1 WHERE ",
    expiring!(),
    " RETURNING enrollment_id, command_uuid), events AS (
        INSERT INTO event_outbox (type, occurred_at, enrollment_id, command_uuid, status)
        SELECT 'command.expired', $1, enrollment_id, command_uuid, 'Expired' FROM expired
     ) SELECT COUNT(*) FROM expired"
);

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Queued deliveries of expired commands, now marked expired.
    pub expired: u64,
    /// Finished deliveries (and their results) past the retention period, deleted.
    pub purged_deliveries: u64,
    /// Commands left without deliveries, deleted.
    pub purged_commands: u64,
    /// Audit entries past their retention, deleted.
    pub purged_audit: u64,
}

impl QueueStore {
    /// Marks expired commands' queued deliveries expired, then deletes what is older than the
    /// cut-offs. Safe to run on every replica at once: each statement is idempotent.
    pub async fn sweep(
        &self,
        now: i64,
        results_cutoff: i64,
        audit_cutoff: i64,
    ) -> Result<SweepReport, Error> {
        let db = &self.db;
        let expired = match db {
            Db::Postgres(pool) => {
                let n: i64 = sqlx::query_scalar(EXPIRE_WITH_EVENTS_POSTGRES)
                    .bind(now)
                    .fetch_one(pool)
                    .await?;
                u64::try_from(n).unwrap_or(0)
            }
            Db::Sqlite(pool) => {
                let expired: Result<u64, sqlx::Error> = async {
                    let mut tx = pool.begin_write().await?;
                    sqlx::query(EXPIRED_EVENTS)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    let n = sqlx::query(EXPIRE)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    tx.commit().await?;
                    Ok(n)
                }
                .await;
                expired?
            }
        };
        let purged_deliveries = with_db!(db, pool => sqlx::query(
            "DELETE FROM deliveries WHERE completed_at IS NOT NULL AND completed_at < $1",
        )
        .bind(results_cutoff)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        let purged_commands = with_db!(db, pool => sqlx::query(
            "DELETE FROM commands WHERE created_at < $1
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.command_uuid = commands.command_uuid)",
        )
        .bind(results_cutoff)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        let purged_audit = with_db!(db, pool => sqlx::query("DELETE FROM audit_log WHERE at < $1")
            .bind(audit_cutoff)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(SweepReport {
            expired,
            purged_deliveries,
            purged_commands,
            purged_audit,
        })
    }
}
