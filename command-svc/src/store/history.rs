//! Commands and deliveries as administrators read them.

use super::rows::{AuditRow, CommandRow, DeliveryRow};
use super::QueueStore;
use crate::error::Error;
use service_kit::with_db;

/// The columns of a [`CommandRow`].
const COMMAND_COLUMNS: &str = "command_uuid, request_type, payload, priority, expires_at,
    requested_by, reason, created_at, cancelled_at, cancelled_by";

/// What to list of commands.
#[derive(Debug, Clone, Default)]
pub struct CommandFilter<'a> {
    /// Only this RequestType.
    pub request_type: Option<&'a str>,
    /// Only those queued by this requester.
    pub requested_by: Option<&'a str>,
}

/// The statuses of a delivery the device refused: Error and CommandFormatError.
/// The count of queued deliveries the device answered NotNow, beside the statuses' counts.
pub const NOT_NOW: &str = "not_now";

const ERROR_STATUSES: &str = "('error', 'command_format_error')";

const DELIVERY_COLUMNS: &str =
    "d.enrollment_id, d.command_uuid, c.request_type, d.priority, d.status,
    d.not_now_count, d.queued_at, d.sent_at, d.completed_at, d.result";

impl QueueStore {
    /// One command.
    pub async fn command(&self, command_uuid: &str) -> Result<Option<CommandRow>, Error> {
        let sql = format!("SELECT {COMMAND_COLUMNS} FROM commands WHERE command_uuid = $1");
        let row = with_db!(&self.db, pool => sqlx::query_as::<_, CommandRow>(&sql)
        .bind(command_uuid)
        .fetch_optional(pool)
        .await)?;
        Ok(row)
    }

    /// Commands newest first (CommandUUIDs are UUIDv7), before `before` (the last one of the
    /// previous page), matching `filter`.
    pub async fn list_commands(
        &self,
        filter: &CommandFilter<'_>,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CommandRow>, Error> {
        let sql = format!(
            "SELECT {COMMAND_COLUMNS} FROM commands
             WHERE ($1 IS NULL OR request_type = $1) AND ($2 IS NULL OR requested_by = $2)
               AND ($3 IS NULL OR command_uuid < $3)
             ORDER BY command_uuid DESC LIMIT $4"
        );
        let rows = with_db!(&self.db, pool => sqlx::query_as::<_, CommandRow>(&sql)
            .bind(filter.request_type)
            .bind(filter.requested_by)
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// How many of a command's deliveries are in each status, and how many of the queued ones
    /// the device answered NotNow ([`NOT_NOW`]; statuses with none are left out).
    pub async fn status_counts(&self, command_uuid: &str) -> Result<Vec<(String, i64)>, Error> {
        let mut counts = with_db!(&self.db, pool => sqlx::query_as::<_, (String, i64)>(
            "SELECT status, COUNT(*) FROM deliveries WHERE command_uuid = $1 GROUP BY status",
        )
        .bind(command_uuid)
        .fetch_all(pool)
        .await)?;
        // Still queued, but the device said NotNow at least once: busy, not silent.
        let not_now: i64 = with_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries
             WHERE command_uuid = $1 AND status = 'queued' AND not_now_count > 0",
        )
        .bind(command_uuid)
        .fetch_one(pool)
        .await)?;
        if not_now > 0 {
            counts.push((NOT_NOW.to_owned(), not_now));
        }
        Ok(counts)
    }

    /// A command's deliveries in enrollment-ID order after `after`, optionally of one status.
    pub async fn deliveries_of(
        &self,
        command_uuid: &str,
        status: Option<&str>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, Error> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN commands c ON c.command_uuid = d.command_uuid
             WHERE d.command_uuid = $1 AND ($2 IS NULL OR d.status = $2) AND d.enrollment_id > $3
             ORDER BY d.enrollment_id LIMIT $4"
        );
        let rows = with_db!(&self.db, pool => sqlx::query_as::<_, DeliveryRow>(&sql)
            .bind(command_uuid)
            .bind(status)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// An enrollment's queue and history, newest command first, before `before` (the last
    /// CommandUUID of the previous page).
    pub async fn deliveries_for(
        &self,
        enrollment_id: &str,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, Error> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN commands c ON c.command_uuid = d.command_uuid
             WHERE d.enrollment_id = $1 AND ($2 IS NULL OR d.command_uuid < $2)
             ORDER BY d.command_uuid DESC LIMIT $3"
        );
        let rows = with_db!(&self.db, pool => sqlx::query_as::<_, DeliveryRow>(&sql)
            .bind(enrollment_id)
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Deliveries waiting in a queue (sent or not, not answered): a count over the queue's
    /// partial index (`deliveries_next`), whatever the size of the history.
    pub async fn in_flight(&self) -> Result<u64, Error> {
        let n: i64 = with_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE status = 'queued'",
        )
        .fetch_one(pool)
        .await)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Deliveries the device refused (Error, CommandFormatError) that completed at or after
    /// `since` (Unix ms): a range of the partial index of refusals (`deliveries_refused`), which
    /// holds none of the history's successes.
    pub async fn errors_since(&self, since: i64) -> Result<u64, Error> {
        let sql = format!(
            "SELECT COUNT(*) FROM deliveries
             WHERE completed_at IS NOT NULL AND completed_at >= $1 AND status IN {ERROR_STATUSES}"
        );
        let n: i64 = with_db!(&self.db, pool => sqlx::query_scalar(&sql)
            .bind(since)
            .fetch_one(pool)
            .await)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The latest `limit` deliveries the device refused, of any age, newest completed first:
    /// the partial index of refusals (`deliveries_refused`) read backwards.
    pub async fn recent_errors(&self, limit: i64) -> Result<Vec<DeliveryRow>, Error> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN commands c ON c.command_uuid = d.command_uuid
             WHERE d.completed_at IS NOT NULL AND d.status IN {ERROR_STATUSES}
             ORDER BY d.completed_at DESC LIMIT $1"
        );
        let rows = with_db!(&self.db, pool => sqlx::query_as::<_, DeliveryRow>(&sql)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Audit entries of one command: (at, actor, action, enrollment, reason).
    pub async fn audit_of(
        &self,
        command_uuid: &str,
    ) -> Result<Vec<(i64, String, String, String, String)>, Error> {
        let rows = with_db!(&self.db, pool => sqlx::query_as(
            "SELECT at, actor, action, enrollment_id, reason FROM audit_log
             WHERE command_uuid = $1 ORDER BY id",
        )
        .bind(command_uuid)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// Audit entries newest first: before `before_id` (if any), of one enrollment and one
    /// action (if given).
    pub async fn list_audit(
        &self,
        before_id: Option<i64>,
        limit: i64,
        enrollment_id: Option<&str>,
        action: Option<&str>,
    ) -> Result<Vec<AuditRow>, Error> {
        let rows = with_db!(&self.db, pool => sqlx::query_as::<_, AuditRow>(
            "SELECT id, at, actor, action, request_type, command_uuid, enrollment_id, reason
             FROM audit_log
             WHERE ($1 IS NULL OR id < $1) AND ($2 IS NULL OR enrollment_id = $2)
               AND ($3 IS NULL OR action = $3)
             ORDER BY id DESC LIMIT $4",
        )
        .bind(before_id)
        .bind(enrollment_id)
        .bind(action)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }
}
