//! Identities near expiry: every enrolled device's bound certificate that expires within the
//! notice period gets one `enrollment.identity_expiring` event, written with the mark that keeps
//! it from being emitted twice; admin-svc renews the device on that event (docs/identities.md).
//! Certificates our CA issued and those from other CAs (kept as the edge forwarded them) are
//! swept alike, each from its own table.

use super::EnrollmentStore;
use crate::error::Error;
use service_kit::db::{BeginWrite, Db};
use std::sync::LazyLock;

/// The statements of one table of certificates.
struct Sweep {
    /// PostgreSQL: marked and announced in one statement, so two replicas never both announce.
    postgres: String,
    /// SQLite: announced, then marked, in one write transaction (no other writer in between).
    announce_sqlite: String,
    mark_sqlite: String,
}

impl Sweep {
    /// The sweep of `table`, whose rows also satisfy `condition` (on `c`), saying
    /// `issued_here` in the event. `$1` is the threshold, `$2` now (Unix ms).
    fn of(table: &str, condition: &str, issued_here: bool) -> Sweep {
        // Bound to an enrolled device channel, not noticed yet, expiring before the threshold.
        let unnoticed = format!(
            "FROM {table} c JOIN enrollments e ON e.cert_sha256 = c.sha256
             WHERE e.status = 'enrolled' AND e.id = e.device_id AND {condition}
               AND c.expiry_noticed_at IS NULL AND c.not_after < $1"
        );
        Sweep {
            postgres: format!(
                "WITH due AS (SELECT c.sha256, c.serial, c.not_after, e.id {unnoticed}),
                 noticed AS (
                    UPDATE {table} SET expiry_noticed_at = $2
                    WHERE sha256 IN (SELECT sha256 FROM due) AND expiry_noticed_at IS NULL
                    RETURNING sha256
                 ), events AS (
                    INSERT INTO event_outbox (type, occurred_at, enrollment_id, attributes)
                    SELECT 'enrollment.identity_expiring', $2, due.id,
                           json_build_object('serial', due.serial, 'not_after_ms', due.not_after,
                                             'issued_here', {issued_here})::text
                    FROM due JOIN noticed ON noticed.sha256 = due.sha256
                 )
                 SELECT COUNT(*) FROM noticed"
            ),
            announce_sqlite: format!(
                "INSERT INTO event_outbox (type, occurred_at, enrollment_id, attributes)
                 SELECT 'enrollment.identity_expiring', $2, e.id,
                        json_object('serial', c.serial, 'not_after_ms', c.not_after,
                                    'issued_here', json('{issued_here}'))
                 {unnoticed}"
            ),
            mark_sqlite: format!(
                "UPDATE {table} SET expiry_noticed_at = $2 WHERE sha256 IN (SELECT c.sha256 {unnoticed})"
            ),
        }
    }
}

static SWEEPS: LazyLock<[Sweep; 2]> = LazyLock::new(|| {
    [
        Sweep::of("issued_certificates", "c.revoked_at IS NULL", true),
        Sweep::of("foreign_certificates", "TRUE", false),
    ]
});

impl EnrollmentStore {
    /// Announces the identities that expire before `threshold` (Unix ms) and were not
    /// announced yet; how many.
    pub async fn notice_expiring_identities(&self, threshold: i64, now: i64) -> Result<u64, Error> {
        let mut noticed = 0;
        for sweep in SWEEPS.iter() {
            noticed += self.notice(sweep, threshold, now).await?;
        }
        Ok(noticed)
    }

    async fn notice(&self, sweep: &Sweep, threshold: i64, now: i64) -> Result<u64, Error> {
        let noticed: Result<u64, sqlx::Error> = match &self.db {
            Db::Postgres(pool) => sqlx::query_scalar::<_, i64>(&sweep.postgres)
                .bind(threshold)
                .bind(now)
                .fetch_one(pool)
                .await
                .map(|n| u64::try_from(n).unwrap_or(0)),
            Db::Sqlite(pool) => {
                async {
                    let mut tx = pool.begin_write().await?;
                    sqlx::query(&sweep.announce_sqlite)
                        .bind(threshold)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    let marked = sqlx::query(&sweep.mark_sqlite)
                        .bind(threshold)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    tx.commit().await?;
                    Ok(marked)
                }
                .await
            }
        };
        Ok(noticed?)
    }
}
