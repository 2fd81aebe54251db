//! Enrollment tokens: created by an administrator (single- or multi-use, expiring, optionally
//! naming the user), required by the enrollment URLs, revocable. The secret is shown once and
//! stored as a hash.

use super::profiles::random_secret;
use super::scep::secret_digest;
use super::store::{NewToken, PkiStore, TokenRecord, TokenUse};
use crate::error::Error;
use service_kit::now_ms;

/// Longest token lifetime: a year.
pub const MAX_TTL_MS: i64 = 366 * 24 * 3600 * 1000;

/// Longest description or user name.
const MAX_TEXT: usize = 256;

/// What an administrator asks for.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// What it is for.
    pub description: String,
    /// The user its enrollments belong to.
    pub user_name: Option<String>,
    /// `None`: unlimited until it expires; `Some(1)`: single use.
    pub max_uses: Option<u32>,
    /// Unix ms.
    pub expires_at: i64,
    /// Who asks.
    pub created_by: String,
}

/// Creates a token; answers it with its secret.
pub async fn create(
    store: &PkiStore,
    request: TokenRequest,
) -> Result<(TokenRecord, String), Error> {
    let now = now_ms();
    if request.expires_at <= now || request.expires_at > now + MAX_TTL_MS {
        return Err(Error::InvalidRequest(
            "expires_at must be in the future and within a year".into(),
        ));
    }
    let too_long = |s: &str| s.chars().count() > MAX_TEXT;
    if too_long(&request.description) || request.user_name.as_deref().is_some_and(too_long) {
        return Err(Error::InvalidRequest(format!(
            "description and user_name are at most {MAX_TEXT} characters"
        )));
    }
    let secret = random_secret()?;
    let record = store
        .create_token(
            &NewToken {
                id: uuid::Uuid::new_v4().to_string(),
                sha256: secret_digest(&secret)?,
                description: request.description,
                user_name: request.user_name.filter(|u| !u.is_empty()),
                max_uses: request.max_uses.map(i64::from),
                created_by: request.created_by,
                expires_at: request.expires_at,
            },
            now,
        )
        .await?;
    tracing::info!(target: "audit", token = %record.id, by = %record.created_by, "enrollment token created");
    Ok((record, secret))
}

/// Uses a token for one enrollment.
pub async fn redeem(store: &PkiStore, secret: &str) -> Result<TokenUse, Error> {
    // Bounded before hashing: a query string can be long.
    if secret.is_empty() || secret.len() > 512 {
        return Err(Error::InvalidToken);
    }
    store
        .use_token(&secret_digest(secret)?, now_ms())
        .await?
        .ok_or(Error::InvalidToken)
}
