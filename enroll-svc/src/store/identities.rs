//! Identities near expiry: every enrolled device's bound certificate that our CA issued and that
//! expires within the notice period gets one `enrollment.identity_expiring` event, written with
//! the mark that keeps it from being emitted twice. A device is not renewed by itself: the
//! event (and the dashboard's count) is what tells an administrator before it is lost.

use super::EnrollmentStore;
use crate::error::Error;
use service_kit::db::{BeginWrite, Db};

/// The certificates to notice (`$1` the threshold, Unix ms): bound to an enrolled device
/// channel, not revoked, not noticed yet, expiring before the threshold.
macro_rules! unnoticed {
    () => {
        "FROM issued_certificates c JOIN enrollments e ON e.cert_sha256 = c.sha256
         WHERE e.status = 'enrolled' AND e.id = e.device_id AND c.revoked_at IS NULL
           AND c.expiry_noticed_at IS NULL AND c.not_after < $1"
    };
}

/// PostgreSQL: marked and announced in one statement, so two replicas never both announce.
const NOTICE_POSTGRES: &str = concat!(
    "WITH due AS (SELECT c.serial, c.not_after, e.id ",
    unnoticed!(),
    "), noticed AS (
        UPDATE issued_certificates SET expiry_noticed_at = $2
        WHERE serial IN (SELECT serial FROM due) AND expiry_noticed_at IS NULL
        RETURNING serial
     ), events AS (
        INSERT INTO event_outbox (type, occurred_at, enrollment_id, attributes)
        SELECT 'enrollment.identity_expiring', $2, due.id,
               json_build_object('serial', due.serial, 'not_after_ms', due.not_after)::text
        FROM due JOIN noticed ON noticed.serial = due.serial
     )
     SELECT COUNT(*) FROM noticed"
);

/// SQLite: announced, then marked, in one write transaction (no other writer in between).
const ANNOUNCE_SQLITE: &str = concat!(
    "INSERT INTO event_outbox (type, occurred_at, enrollment_id, attributes)
     SELECT 'enrollment.identity_expiring', $2, e.id,
            json_object('serial', c.serial, 'not_after_ms', c.not_after) ",
    unnoticed!()
);
const MARK_SQLITE: &str = concat!(
    "UPDATE issued_certificates SET expiry_noticed_at = $2 WHERE serial IN (SELECT c.serial ",
    unnoticed!(),
    ")"
);

impl EnrollmentStore {
    /// Announces the identities that expire before `threshold` (Unix ms) and were not
    /// announced yet; how many.
    pub async fn notice_expiring_identities(&self, threshold: i64, now: i64) -> Result<u64, Error> {
        let noticed: Result<u64, sqlx::Error> = match &self.db {
            Db::Postgres(pool) => sqlx::query_scalar::<_, i64>(NOTICE_POSTGRES)
                .bind(threshold)
                .bind(now)
                .fetch_one(pool)
                .await
                .map(|n| u64::try_from(n).unwrap_or(0)),
            Db::Sqlite(pool) => {
                async {
                    let mut tx = pool.begin_write().await?;
                    sqlx::query(ANNOUNCE_SQLITE)
                        .bind(threshold)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    let marked = sqlx::query(MARK_SQLITE)
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
