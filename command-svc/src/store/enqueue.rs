//! Enqueue: one command row and one delivery per target, in one transaction.
//!
//! Bulk inserts differ by engine: PostgreSQL takes the targets as one array parameter
//! (`unnest`), SQLite takes them in multi-row `VALUES` batches under its parameter limit. Both
//! keep a 100,000-target enqueue to a few statements.

use super::QueueStore;
use crate::error::Error;
use service_kit::db::{is_unique_violation, BeginWrite, Db};
use sqlx::{Postgres, Sqlite, Transaction};

/// Rows per SQLite `INSERT`: 5 parameters each, far below SQLite's 32,766 limit.
const SQLITE_BATCH: usize = 2_000;

/// One target of a command: an enrollment and the generation it is queued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The enrollment.
    pub enrollment_id: String,
    /// Its generation when the command was queued (0: not enrolled yet).
    pub generation: i64,
}

/// A command to queue.
#[derive(Debug, Clone)]
pub struct NewCommand<'a> {
    /// Server-generated CommandUUID.
    pub command_uuid: &'a str,
    /// RequestType.
    pub request_type: &'a str,
    /// The rendered plist for devices.
    pub payload: &'a [u8],
    /// Priority (higher first).
    pub priority: i32,
    /// Expiry (Unix ms).
    pub expires_at: Option<i64>,
    /// Client idempotency key.
    pub idempotency_key: Option<&'a str>,
    /// Who asked.
    pub requested_by: &'a str,
    /// Why.
    pub reason: &'a str,
    /// Targets, deduplicated.
    pub targets: &'a [Target],
    /// Write one audit entry per target (destructive commands).
    pub audit: bool,
}

/// What an enqueue did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnqueueOutcome {
    /// Queued as a new command.
    Queued,
    /// The idempotency key matched this earlier command: nothing new was queued.
    Duplicate {
        /// The earlier command.
        command_uuid: String,
        /// Its RequestType.
        request_type: String,
        /// Its number of targets.
        targets: u64,
    },
}

impl QueueStore {
    /// Queues `command` for its targets.
    pub async fn enqueue(
        &self,
        command: &NewCommand<'_>,
        now: i64,
    ) -> Result<EnqueueOutcome, Error> {
        if let Some(key) = command.idempotency_key {
            if let Some(earlier) = self.by_idempotency_key(key).await? {
                return Ok(earlier);
            }
        }
        let result = match &self.db {
            Db::Sqlite(pool) => match pool.begin_write().await {
                Ok(mut tx) => match insert_sqlite(&mut tx, command, self.events, now).await {
                    Ok(()) => tx.commit().await,
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            },
            Db::Postgres(pool) => match pool.begin_write().await {
                Ok(mut tx) => match insert_postgres(&mut tx, command, self.events, now).await {
                    Ok(()) => tx.commit().await,
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            },
        };
        match (result, command.idempotency_key) {
            (Ok(()), _) => Ok(EnqueueOutcome::Queued),
            // Two requests with one key raced and this one lost: answer with the winner.
            (Err(e), Some(key)) if is_unique_violation(&e) => self
                .by_idempotency_key(key)
                .await?
                .ok_or(Error::Database(e)),
            (Err(e), _) => Err(e.into()),
        }
    }

    async fn by_idempotency_key(&self, key: &str) -> Result<Option<EnqueueOutcome>, Error> {
        let row: Option<(String, String, i64)> = service_kit::with_db!(&self.db, pool => sqlx::query_as(
            "SELECT c.command_uuid, c.request_type,
                    (SELECT COUNT(*) FROM deliveries d WHERE d.command_uuid = c.command_uuid)
             FROM commands c WHERE c.idempotency_key = $1",
        )
        .bind(key)
        .fetch_optional(pool)
        .await)?;
        Ok(row.map(
            |(command_uuid, request_type, targets)| EnqueueOutcome::Duplicate {
                command_uuid,
                request_type,
                targets: u64::try_from(targets).unwrap_or(0),
            },
        ))
    }
}

/// One `command.queued` event per delivery just queued (`$1` CommandUUID, `$2` now): the same
/// statement on both engines, in the enqueue's transaction.
const QUEUED_EVENTS: &str =
    "INSERT INTO event_outbox (type, occurred_at, enrollment_id, command_uuid)
     SELECT 'command.queued', $2, enrollment_id, command_uuid FROM deliveries
     WHERE command_uuid = $1 AND status = 'queued'";

const INSERT_COMMAND: &str = "INSERT INTO commands (command_uuid, request_type, payload, priority,
        expires_at, idempotency_key, requested_by, reason, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

async fn insert_postgres(
    tx: &mut Transaction<'_, Postgres>,
    c: &NewCommand<'_>,
    events: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(INSERT_COMMAND)
        .bind(c.command_uuid)
        .bind(c.request_type)
        .bind(c.payload)
        .bind(c.priority)
        .bind(c.expires_at)
        .bind(c.idempotency_key)
        .bind(c.requested_by)
        .bind(c.reason)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    let ids: Vec<&str> = c.targets.iter().map(|t| t.enrollment_id.as_str()).collect();
    let generations: Vec<i64> = c.targets.iter().map(|t| t.generation).collect();
    sqlx::query(
        "INSERT INTO deliveries (enrollment_id, command_uuid, priority, status, queued_at, generation)
         SELECT target, $2, $3, 'queued', $4, generation
         FROM unnest($1::text[], $5::bigint[]) AS t (target, generation)
         ON CONFLICT DO NOTHING",
    )
    .bind(&ids)
    .bind(c.command_uuid)
    .bind(c.priority)
    .bind(now)
    .bind(&generations)
    .execute(&mut **tx)
    .await?;
    if events {
        sqlx::query(QUEUED_EVENTS)
            .bind(c.command_uuid)
            .bind(now)
            .execute(&mut **tx)
            .await?;
    }
    if c.audit {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, request_type, command_uuid, enrollment_id, reason)
             SELECT $2, $3, 'command.queued', $4, $5, target, $6 FROM unnest($1::text[]) AS target",
        )
        .bind(&ids)
        .bind(now)
        .bind(c.requested_by)
        .bind(c.request_type)
        .bind(c.command_uuid)
        .bind(c.reason)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn insert_sqlite(
    tx: &mut Transaction<'_, Sqlite>,
    c: &NewCommand<'_>,
    events: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(INSERT_COMMAND)
        .bind(c.command_uuid)
        .bind(c.request_type)
        .bind(c.payload)
        .bind(c.priority)
        .bind(c.expires_at)
        .bind(c.idempotency_key)
        .bind(c.requested_by)
        .bind(c.reason)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    for batch in c.targets.chunks(SQLITE_BATCH) {
        let rows = vec!["(?, ?, ?, 'queued', ?, ?)"; batch.len()].join(", ");
        let sql = format!(
            "INSERT INTO deliveries (enrollment_id, command_uuid, priority, status, queued_at, generation)
             VALUES {rows} ON CONFLICT DO NOTHING"
        );
        let mut query = sqlx::query(&sql);
        for target in batch {
            query = query
                .bind(&target.enrollment_id)
                .bind(c.command_uuid)
                .bind(c.priority)
                .bind(now)
                .bind(target.generation);
        }
        query.execute(&mut **tx).await?;
        if c.audit {
            let rows = vec!["(?, ?, 'command.queued', ?, ?, ?, ?)"; batch.len()].join(", ");
            let sql = format!(
                "INSERT INTO audit_log (at, actor, action, request_type, command_uuid, enrollment_id, reason)
                 VALUES {rows}"
            );
            let mut query = sqlx::query(&sql);
            for target in batch {
                query = query
                    .bind(now)
                    .bind(c.requested_by)
                    .bind(c.request_type)
                    .bind(c.command_uuid)
                    .bind(&target.enrollment_id)
                    .bind(c.reason);
            }
            query.execute(&mut **tx).await?;
        }
    }
    if events {
        sqlx::query(QUEUED_EVENTS)
            .bind(c.command_uuid)
            .bind(now)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
