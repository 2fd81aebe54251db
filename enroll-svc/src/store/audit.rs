//! enroll-svc's audit log: refused bindings, approved re-enrollments, revoked certificates.
//! Append-only; read newest first.

use super::EnrollmentStore;
use crate::error::Error;
use service_kit::{now_ms, with_db};

/// An entry to append.
#[derive(Debug, Clone)]
pub struct NewAuditEntry<'a> {
    /// Who: an admin token's name, or `device:<enrollment>`.
    pub actor: &'a str,
    /// What, e.g. `enrollment.rebind_refused`.
    pub action: &'a str,
    /// About which enrollment.
    pub enrollment_id: &'a str,
    /// Why, or what was refused.
    pub detail: &'a str,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    /// Increasing.
    pub id: i64,
    /// Unix ms.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// About which enrollment.
    pub enrollment_id: String,
    /// Why.
    pub detail: String,
}

/// Which entries to read.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery<'a> {
    /// Only ids below this one; `None` from the newest.
    pub before_id: Option<i64>,
    /// At most this many.
    pub limit: i64,
    /// Only this enrollment.
    pub enrollment_id: Option<&'a str>,
    /// Only this action.
    pub action: Option<&'a str>,
}

/// Appends an entry: `$1` at, `$2` actor, `$3` action, `$4` enrollment, `$5` detail. Shared with
/// the writes that must commit together with their audit entry.
pub(super) const INSERT_AUDIT: &str =
    "INSERT INTO audit_log (at, actor, action, enrollment_id, detail) VALUES ($1, $2, $3, $4, $5)";

impl EnrollmentStore {
    /// Appends an entry.
    pub async fn audit(&self, entry: &NewAuditEntry<'_>) -> Result<(), Error> {
        with_db!(&self.db, pool => sqlx::query(INSERT_AUDIT)
        .bind(now_ms())
        .bind(entry.actor)
        .bind(entry.action)
        .bind(entry.enrollment_id)
        .bind(entry.detail)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Entries newest first.
    pub async fn list_audit(&self, query: &AuditQuery<'_>) -> Result<Vec<AuditEntry>, Error> {
        let rows = with_db!(&self.db, pool => sqlx::query_as::<_, AuditEntry>(
            "SELECT id, at, actor, action, enrollment_id, detail FROM audit_log
             WHERE ($1 IS NULL OR id < $1) AND ($2 IS NULL OR enrollment_id = $2)
               AND ($3 IS NULL OR action = $3)
             ORDER BY id DESC LIMIT $4",
        )
        .bind(query.before_id)
        .bind(query.enrollment_id)
        .bind(query.action)
        .bind(query.limit)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }
}
