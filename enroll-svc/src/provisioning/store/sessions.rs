//! OTA enrollments in progress: created in phase 1 with the Profile Service challenge, bound to
//! the device's UDID by phase 2 (once), read by phase 3.

use super::challenges::KEEP_EXPIRED_MS;
use super::PkiStore;
use crate::error::Error;
use service_kit::with_db;

/// A session to create (phase 1).
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Identifier.
    pub id: String,
    /// SHA-256 of the Profile Service challenge.
    pub challenge_sha256: Vec<u8>,
    /// The token used.
    pub enrollment_token_id: String,
    /// The token's user.
    pub user_name: Option<String>,
    /// Unix ms.
    pub expires_at: i64,
}

/// A stored session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    /// Identifier.
    pub id: String,
    /// The token used.
    pub enrollment_token_id: String,
    /// The token's user.
    pub user_name: Option<String>,
    /// Bound in phase 2.
    pub udid: Option<String>,
    /// Unix ms.
    pub expires_at: i64,
    /// Unix ms of phase 2.
    pub verified_at: Option<i64>,
}

const COLUMNS: &str = "id, enrollment_token_id, user_name, udid, expires_at, verified_at";

impl PkiStore {
    /// Stores a new session, dropping long-expired ones.
    pub async fn create_session(&self, s: &NewSession, now: i64) -> Result<(), Error> {
        with_db!(&self.db, pool => async {
            sqlx::query("DELETE FROM ota_sessions WHERE expires_at < $1")
                .bind(now - KEEP_EXPIRED_MS)
                .execute(pool)
                .await?;
            sqlx::query(
                "INSERT INTO ota_sessions (id, challenge_sha256, enrollment_token_id, user_name,
                    created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&s.id)
            .bind(&s.challenge_sha256)
            .bind(&s.enrollment_token_id)
            .bind(s.user_name.as_deref())
            .bind(now)
            .bind(s.expires_at)
            .execute(pool)
            .await
            .map(|_| ())
        }.await)?;
        Ok(())
    }

    /// Phase 2: binds the session of `challenge_sha256` to a device, once and before it
    /// expires. `None` for an unknown, expired or already used challenge.
    pub async fn verify_session(
        &self,
        challenge_sha256: &[u8],
        udid: &str,
        serial_number: Option<&str>,
        product: Option<&str>,
        now: i64,
    ) -> Result<Option<Session>, Error> {
        let sql = format!(
            "UPDATE ota_sessions SET udid = $2, serial_number = $3, product = $4, verified_at = $5
             WHERE challenge_sha256 = $1 AND verified_at IS NULL AND expires_at > $5
             RETURNING {COLUMNS}"
        );
        Ok(
            with_db!(&self.db, pool => sqlx::query_as::<_, Session>(&sql)
            .bind(challenge_sha256)
            .bind(udid)
            .bind(serial_number)
            .bind(product)
            .bind(now)
            .fetch_optional(pool)
            .await)?,
        )
    }

    /// A session by identifier.
    pub async fn session(&self, id: &str) -> Result<Option<Session>, Error> {
        let sql = format!("SELECT {COLUMNS} FROM ota_sessions WHERE id = $1");
        Ok(
            with_db!(&self.db, pool => sqlx::query_as::<_, Session>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?,
        )
    }
}
