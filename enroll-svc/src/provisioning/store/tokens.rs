//! Enrollment tokens: the credential the enrollment URLs require. Stored as SHA-256; a use is
//! one conditional update, so a single-use token serves exactly one enrollment.

use super::PkiStore;
use crate::error::Error;
use service_kit::with_db;

/// A token to create.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Public identifier (for listing and revoking).
    pub id: String,
    /// SHA-256 of the secret.
    pub sha256: Vec<u8>,
    /// What it is for.
    pub description: String,
    /// The user its enrollments belong to.
    pub user_name: Option<String>,
    /// `None`: unlimited until it expires.
    pub max_uses: Option<i64>,
    /// Who created it.
    pub created_by: String,
    /// Unix ms.
    pub expires_at: i64,
}

/// A stored token (never the secret).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRecord {
    /// Public identifier.
    pub id: String,
    /// What it is for.
    pub description: String,
    /// The user its enrollments belong to.
    pub user_name: Option<String>,
    /// `None`: unlimited.
    pub max_uses: Option<i64>,
    /// Uses so far.
    pub uses: i64,
    /// Who created it.
    pub created_by: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub expires_at: i64,
    /// Unix ms.
    pub revoked_at: Option<i64>,
}

/// A successful use of a token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenUse {
    /// The token's identifier.
    pub id: String,
    /// The user its enrollments belong to.
    pub user_name: Option<String>,
}

const COLUMNS: &str =
    "id, description, user_name, max_uses, uses, created_by, created_at, expires_at, revoked_at";

impl PkiStore {
    /// Stores a new token.
    pub async fn create_token(&self, t: &NewToken, now: i64) -> Result<TokenRecord, Error> {
        let sql = format!(
            "INSERT INTO enrollment_tokens (id, token_sha256, description, user_name, max_uses,
                created_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
        );
        Ok(
            with_db!(&self.db, pool => sqlx::query_as::<_, TokenRecord>(&sql)
            .bind(&t.id)
            .bind(&t.sha256)
            .bind(&t.description)
            .bind(t.user_name.as_deref())
            .bind(t.max_uses)
            .bind(&t.created_by)
            .bind(now)
            .bind(t.expires_at)
            .fetch_one(pool)
            .await)?,
        )
    }

    /// Uses a token: `None` unless it exists, is not revoked, has not expired and has a use
    /// left.
    pub async fn use_token(&self, sha256: &[u8], now: i64) -> Result<Option<TokenUse>, Error> {
        Ok(with_db!(&self.db, pool => sqlx::query_as::<_, TokenUse>(
            "UPDATE enrollment_tokens SET uses = uses + 1
             WHERE token_sha256 = $1 AND revoked_at IS NULL AND expires_at > $2
               AND (max_uses IS NULL OR uses < max_uses)
             RETURNING id, user_name",
        )
        .bind(sha256)
        .bind(now)
        .fetch_optional(pool)
        .await)?)
    }

    /// Tokens, newest first, after `after` (the `(created_at, id)` of the last one of the
    /// previous page); only usable ones unless `include_inactive`.
    pub async fn list_tokens(
        &self,
        include_inactive: bool,
        after: Option<(i64, &str)>,
        limit: i64,
        now: i64,
    ) -> Result<Vec<TokenRecord>, Error> {
        let sql = format!(
            "SELECT {COLUMNS} FROM enrollment_tokens
             WHERE ($1 OR (revoked_at IS NULL AND expires_at > $2 AND (max_uses IS NULL OR uses < max_uses)))
               AND ($3 IS NULL OR created_at < $3 OR (created_at = $3 AND id < $4))
             ORDER BY created_at DESC, id DESC LIMIT $5"
        );
        Ok(
            with_db!(&self.db, pool => sqlx::query_as::<_, TokenRecord>(&sql)
            .bind(include_inactive)
            .bind(now)
            .bind(after.map(|(at, _)| at))
            .bind(after.map_or("", |(_, id)| id))
            .bind(limit)
            .fetch_all(pool)
            .await)?,
        )
    }

    /// One token, or `None`.
    pub async fn token(&self, id: &str) -> Result<Option<TokenRecord>, Error> {
        let sql = format!("SELECT {COLUMNS} FROM enrollment_tokens WHERE id = $1");
        Ok(
            with_db!(&self.db, pool => sqlx::query_as::<_, TokenRecord>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?,
        )
    }

    /// Revokes a token (idempotent). `None` when there is no such token.
    pub async fn revoke_token(&self, id: &str, now: i64) -> Result<Option<TokenRecord>, Error> {
        let sql = format!(
            "UPDATE enrollment_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1
             RETURNING {COLUMNS}"
        );
        Ok(
            with_db!(&self.db, pool => sqlx::query_as::<_, TokenRecord>(&sql)
            .bind(id)
            .bind(now)
            .fetch_optional(pool)
            .await)?,
        )
    }
}
