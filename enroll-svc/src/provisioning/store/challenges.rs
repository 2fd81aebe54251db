//! One-time SCEP challenges: created bound to a subject (and an OTA enrollment or a token),
//! checked before issuing, consumed in the same transaction as the issuance is recorded (see
//! [`PkiStore::record_with_challenge`]).

use super::{Flow, PkiStore};
use crate::error::Error;
use service_kit::with_db;

/// How long expired challenges and sessions are kept before the clean-up drops them (for
/// "expired" rather than "unknown" in logs).
pub const KEEP_EXPIRED_MS: i64 = 24 * 3600 * 1000;

/// A challenge to create.
#[derive(Debug, Clone)]
pub struct NewChallenge {
    /// SHA-256 of the challenge.
    pub sha256: Vec<u8>,
    /// The CN the certificate gets.
    pub common_name: String,
    /// The flow the certificate is issued for.
    pub flow: Flow,
    /// The OTA enrollment it belongs to.
    pub ota_session_id: Option<String>,
    /// The token that asked for it.
    pub enrollment_token_id: Option<String>,
    /// The enrollment whose identity it renews (a renewal profile's challenge).
    pub renewal_for: Option<String>,
    /// The serial of the certificate it renews.
    pub renews_serial: Option<String>,
    /// SHA-256 of the certificate it renews.
    pub renews_sha256: Option<Vec<u8>>,
    /// Unix ms.
    pub expires_at: i64,
}

/// A stored challenge.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Challenge {
    /// The CN the certificate gets.
    pub common_name: String,
    /// The flow.
    #[sqlx(try_from = "String")]
    pub flow: Flow,
    /// The OTA enrollment it belongs to.
    pub ota_session_id: Option<String>,
    /// The token that asked for it.
    pub enrollment_token_id: Option<String>,
    /// The enrollment whose identity it renews.
    pub renewal_for: Option<String>,
    /// The serial of the certificate it renews.
    pub renews_serial: Option<String>,
    /// SHA-256 of the certificate it renews.
    pub renews_sha256: Option<Vec<u8>>,
    /// Unix ms.
    pub expires_at: i64,
    /// Unix ms when it was used.
    pub used_at: Option<i64>,
}

/// What a presented challenge is.
#[derive(Debug, Clone)]
pub enum ChallengeCheck {
    /// Usable.
    Valid(Challenge),
    /// Already used.
    Used,
    /// Past its expiry.
    Expired,
    /// Never issued (or long gone).
    Unknown,
}

impl PkiStore {
    /// Stores a challenge, dropping long-expired ones on the way (the table stays bounded by
    /// the issuance rate times the retention).
    pub async fn create_challenge(&self, c: &NewChallenge, now: i64) -> Result<(), Error> {
        with_db!(&self.db, pool => async {
            sqlx::query("DELETE FROM scep_challenges WHERE expires_at < $1")
                .bind(now - KEEP_EXPIRED_MS)
                .execute(pool)
                .await?;
            sqlx::query(
                "INSERT INTO scep_challenges (challenge_sha256, common_name, flow, ota_session_id,
                    enrollment_token_id, renewal_for, renews_serial, renews_sha256, created_at,
                    expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&c.sha256)
            .bind(&c.common_name)
            .bind(c.flow.as_str())
            .bind(c.ota_session_id.as_deref())
            .bind(c.enrollment_token_id.as_deref())
            .bind(c.renewal_for.as_deref())
            .bind(c.renews_serial.as_deref())
            .bind(c.renews_sha256.as_deref())
            .bind(now)
            .bind(c.expires_at)
            .execute(pool)
            .await
            .map(|_| ())
        }.await)?;
        Ok(())
    }

    /// Looks a challenge up without consuming it.
    pub async fn check_challenge(&self, sha256: &[u8], now: i64) -> Result<ChallengeCheck, Error> {
        let found = with_db!(&self.db, pool => sqlx::query_as::<_, Challenge>(
            "SELECT common_name, flow, ota_session_id, enrollment_token_id, renewal_for, renews_serial,
                    renews_sha256, expires_at, used_at
             FROM scep_challenges WHERE challenge_sha256 = $1",
        )
        .bind(sha256)
        .fetch_optional(pool)
        .await)?;
        Ok(match found {
            None => ChallengeCheck::Unknown,
            Some(c) if c.used_at.is_some() => ChallengeCheck::Used,
            Some(c) if c.expires_at <= now => ChallengeCheck::Expired,
            Some(c) => ChallengeCheck::Valid(c),
        })
    }
}
