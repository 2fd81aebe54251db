//! The admin dashboard's counts: enrollments per status, those seen lately, and enrolled devices
//! whose identity expires soon. Each is one aggregate over an index (`enrollments_status_id`,
//! `enrollments_last_seen`, `issued_certificates_sha256`), so the answer costs an index scan,
//! never a walk through the rows the device list pages over.

use super::{EnrollmentStatus, EnrollmentStore};
use crate::error::Error;
use service_kit::with_db;

/// How many enrollments (device and user channels) are in each status, and how many were seen
/// since a time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnrollmentCounts {
    /// Authenticate received, TokenUpdate not yet.
    pub authenticated: u64,
    /// Managed.
    pub enrolled: u64,
    /// Checked out.
    pub checked_out: u64,
    /// Whose last message arrived at or after the time asked for.
    pub seen_since: u64,
    /// Enrolled, with an identity from this server's CA that expires before the time asked
    /// for (expired ones included).
    pub identities_expiring: u64,
}

impl EnrollmentCounts {
    /// Every enrollment, whatever its status: the statuses partition the table.
    pub fn total(&self) -> u64 {
        self.authenticated + self.enrolled + self.checked_out
    }
}

impl EnrollmentStore {
    /// Enrollments per status, those seen at or after `seen_since`, and enrolled ones whose
    /// identity expires before `expiring_before` (Unix ms).
    pub async fn counts(
        &self,
        seen_since: i64,
        expiring_before: i64,
    ) -> Result<EnrollmentCounts, Error> {
        let mut counts = EnrollmentCounts::default();
        for (status, n) in self.status_counts().await? {
            let slot = match status {
                EnrollmentStatus::Authenticated => &mut counts.authenticated,
                EnrollmentStatus::Enrolled => &mut counts.enrolled,
                EnrollmentStatus::CheckedOut => &mut counts.checked_out,
            };
            *slot = n;
        }
        counts.seen_since = self.seen_since(seen_since).await?;
        counts.identities_expiring = self.identities_expiring(expiring_before).await?;
        Ok(counts)
    }

    /// Enrolled enrollments whose bound certificate, as this CA issued it, is valid only until
    /// before `before`. An identity from elsewhere (pre-issued, migrated) is not known here.
    async fn identities_expiring(&self, before: i64) -> Result<u64, Error> {
        let n: i64 = with_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM enrollments e
             JOIN issued_certificates c ON c.sha256 = e.cert_sha256
             WHERE e.status = 'enrolled' AND c.not_after < $1",
        )
        .bind(before)
        .fetch_one(pool)
        .await)?;
        Ok(count(n))
    }

    /// Enrollments per status (statuses with none are left out).
    async fn status_counts(&self) -> Result<Vec<(EnrollmentStatus, u64)>, Error> {
        let rows: Vec<(String, i64)> = with_db!(&self.db, pool => sqlx::query_as(
            "SELECT status, COUNT(*) FROM enrollments GROUP BY status",
        )
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|(status, n)| {
                let status = EnrollmentStatus::try_from(status)
                    .map_err(|e| Error::Database(sqlx::Error::Decode(e.into())))?;
                Ok((status, count(n)))
            })
            .collect()
    }

    /// Enrollments whose last message arrived at or after `since` (Unix ms).
    async fn seen_since(&self, since: i64) -> Result<u64, Error> {
        let n: i64 = with_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM enrollments WHERE last_seen_at >= $1",
        )
        .bind(since)
        .fetch_one(pool)
        .await)?;
        Ok(count(n))
    }
}

/// A SQL `COUNT(*)` (never negative) as a count.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
