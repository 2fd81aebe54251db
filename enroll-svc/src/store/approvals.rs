//! An administrator's approval for an enrolled device to bind a new certificate at its next
//! Authenticate: the one proof a certificate that proves nothing by itself can have (a device
//! re-enrolled through the direct profile, a device moved from another CA).

use super::audit::INSERT_AUDIT;
use super::EnrollmentStore;
use crate::error::Error;
use service_kit::db::BeginWrite;
use service_kit::{now_ms, with_db};

/// A stored approval.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Approval {
    /// The enrollment it is for.
    pub enrollment_id: String,
    /// Who approved.
    pub approved_by: String,
    /// Why.
    pub reason: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms; unused after this.
    pub expires_at: i64,
}

impl EnrollmentStore {
    /// Approves the next re-binding of an existing device channel for `ttl_ms`, replacing an
    /// earlier approval; the approval and its audit entry commit together.
    pub async fn approve_reenrollment(
        &self,
        enrollment_id: &str,
        approved_by: &str,
        reason: &str,
        ttl_ms: i64,
    ) -> Result<Approval, Error> {
        let record = self
            .get(enrollment_id)
            .await?
            .ok_or_else(|| Error::NotFound(enrollment_id.to_string()))?;
        if record.channel.is_user() {
            return Err(Error::InvalidRequest(
                "user channels follow their device: approve the device channel".into(),
            ));
        }
        let now = now_ms();
        let approval: Result<Approval, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let approval = sqlx::query_as::<_, Approval>(
                "INSERT INTO reenrollment_approvals (enrollment_id, approved_by, reason, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (enrollment_id) DO UPDATE SET approved_by = excluded.approved_by,
                    reason = excluded.reason, created_at = excluded.created_at, expires_at = excluded.expires_at
                 RETURNING enrollment_id, approved_by, reason, created_at, expires_at",
            )
            .bind(enrollment_id)
            .bind(approved_by)
            .bind(reason)
            .bind(now)
            .bind(now + ttl_ms)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(INSERT_AUDIT)
                .bind(now)
                .bind(approved_by)
                .bind("enrollment.reenrollment_approved")
                .bind(enrollment_id)
                .bind(reason)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(approval)
        }.await);
        let approval = approval?;
        Ok(approval)
    }
}
