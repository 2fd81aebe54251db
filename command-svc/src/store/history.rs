//! Commands and deliveries as administrators read them.

use super::rows::{AuditRow, CommandRow, DeliveryRow};
use super::QueueStore;
use crate::error::Error;
use service_kit::db::BeginWrite;
use service_kit::with_db;

/// Deliveries listed with a command, at most (counts cover all of them).
pub const COMMAND_DELIVERIES_SHOWN: i64 = 1_000;

const DELIVERY_COLUMNS: &str =
    "d.enrollment_id, d.command_uuid, c.request_type, d.priority, d.status,
    d.not_now_count, d.queued_at, d.sent_at, d.completed_at, d.result";

impl QueueStore {
    /// One command.
    pub async fn command(&self, command_uuid: &str) -> Result<Option<CommandRow>, Error> {
        let row = with_db!(&self.db, pool => sqlx::query_as::<_, CommandRow>(
            "SELECT command_uuid, request_type, payload, priority, expires_at, requested_by, reason, created_at
             FROM commands WHERE command_uuid = $1",
        )
        .bind(command_uuid)
        .fetch_optional(pool)
        .await)?;
        Ok(row)
    }

    /// A command's first deliveries (enrollment-ID order) and the count per status.
    pub async fn deliveries_of(
        &self,
        command_uuid: &str,
    ) -> Result<(Vec<DeliveryRow>, Vec<(String, i64)>), Error> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN commands c ON c.command_uuid = d.command_uuid
             WHERE d.command_uuid = $1 ORDER BY d.enrollment_id LIMIT $2"
        );
        const COUNTS: &str =
            "SELECT status, COUNT(*) FROM deliveries WHERE command_uuid = $1 GROUP BY status";
        // Both reads come from one snapshot, so the list and the counts always agree (a device
        // answering in between must not show as pending in one and acknowledged in the other).
        let (deliveries, counts) = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            if self.db.engine() == "postgres" {
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .execute(&mut *tx)
                    .await?;
            }
            let deliveries = sqlx::query_as::<_, DeliveryRow>(&sql)
                .bind(command_uuid)
                .bind(COMMAND_DELIVERIES_SHOWN)
                .fetch_all(&mut *tx)
                .await?;
            let counts = sqlx::query_as::<_, (String, i64)>(COUNTS)
                .bind(command_uuid)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>((deliveries, counts))
        }
        .await)?;
        Ok((deliveries, counts))
    }

    /// An enrollment's queue and history, newest command first.
    pub async fn deliveries_for(
        &self,
        enrollment_id: &str,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, Error> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN commands c ON c.command_uuid = d.command_uuid
             WHERE d.enrollment_id = $1 ORDER BY d.command_uuid DESC LIMIT $2"
        );
        let rows = with_db!(&self.db, pool => sqlx::query_as::<_, DeliveryRow>(&sql)
            .bind(enrollment_id)
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
