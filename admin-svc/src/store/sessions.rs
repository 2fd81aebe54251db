//! Web console sessions as stored: the SHA-256 of the cookie's secret, the token the session was
//! opened with, and its times. Opening and ending one commits with its audit entry.

use super::{AdminStore, Audit};
use crate::error::ApiError;
use service_kit::db::BeginWrite;
use service_kit::with_db;

/// How often a session's `last_seen_at` is written at most.
const TOUCH_EVERY_MS: i64 = 60_000;

/// What kind of token a session was opened with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A token from the configuration, named by its name.
    Configured,
    /// A token made through the API, named by its ID.
    Api,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Configured => "configured",
            TokenKind::Api => "api",
        }
    }
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    /// SHA-256 of the cookie's secret.
    pub id_sha256: Vec<u8>,
    /// `configured` or `api`.
    pub token_kind: String,
    /// The configured token's name, or the API token's ID.
    pub token_ref: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms: the session ends then.
    pub expires_at: i64,
    /// Unix ms, to within a minute.
    pub last_seen_at: i64,
}

impl SessionRow {
    /// A new session, opened `now` and ending at `expires_at`.
    pub fn new(
        id_sha256: [u8; 32],
        kind: TokenKind,
        token_ref: &str,
        now: i64,
        expires_at: i64,
    ) -> SessionRow {
        SessionRow {
            id_sha256: id_sha256.to_vec(),
            token_kind: kind.as_str().to_owned(),
            token_ref: token_ref.to_owned(),
            created_at: now,
            expires_at,
            last_seen_at: now,
        }
    }

    /// The kind of token it was opened with (`None` for a value this version never writes).
    pub fn kind(&self) -> Option<TokenKind> {
        match self.token_kind.as_str() {
            "configured" => Some(TokenKind::Configured),
            "api" => Some(TokenKind::Api),
            _ => None,
        }
    }
}

const COLUMNS: &str = "id_sha256, token_kind, token_ref, created_at, expires_at, last_seen_at";

impl AdminStore {
    /// Stores a new session with its audit entry (`actor` signed in), and drops the sessions that
    /// ended before `stale_before` (expired, or idle since then) so the table stays small.
    pub async fn open_session(
        &self,
        session: &SessionRow,
        actor: &str,
        stale_before: i64,
    ) -> Result<(), ApiError> {
        let insert =
            format!("INSERT INTO console_sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
        let done: Result<(), sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "DELETE FROM console_sessions WHERE expires_at <= $1 OR last_seen_at < $2",
            )
            .bind(session.created_at)
            .bind(stale_before)
            .execute(&mut *tx)
            .await?;
            sqlx::query(&insert)
                .bind(&session.id_sha256)
                .bind(&session.token_kind)
                .bind(&session.token_ref)
                .bind(session.created_at)
                .bind(session.expires_at)
                .bind(session.last_seen_at)
                .execute(&mut *tx)
                .await?;
            Audit {
                at: session.created_at,
                actor,
                action: "console.signed_in",
                detail: format!("{} token {}", session.token_kind, session.token_ref),
            }
            .write(&mut *tx)
            .await?;
            tx.commit().await
        }.await);
        Ok(done?)
    }

    /// The session whose secret hashes to `id_sha256`, live or not.
    pub async fn session(&self, id_sha256: &[u8]) -> Result<Option<SessionRow>, ApiError> {
        let sql = format!("SELECT {COLUMNS} FROM console_sessions WHERE id_sha256 = $1");
        Ok(
            with_db!(&self.db, pool => sqlx::query_as::<_, SessionRow>(&sql)
            .bind(id_sha256)
            .fetch_optional(pool)
            .await)?,
        )
    }

    /// Notes a session's use, at most once a minute.
    pub async fn touch_session(&self, id_sha256: &[u8], now: i64) -> Result<(), ApiError> {
        with_db!(&self.db, pool => sqlx::query(
            "UPDATE console_sessions SET last_seen_at = $2
             WHERE id_sha256 = $1 AND last_seen_at < $3",
        )
        .bind(id_sha256)
        .bind(now)
        .bind(now - TOUCH_EVERY_MS)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Ends a session with its audit entry (`actor` signed out); `false` when there was none.
    pub async fn end_session(
        &self,
        id_sha256: &[u8],
        actor: &str,
        now: i64,
    ) -> Result<bool, ApiError> {
        let ended: Result<bool, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let deleted = sqlx::query("DELETE FROM console_sessions WHERE id_sha256 = $1")
                .bind(id_sha256)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if deleted > 0 {
                Audit {
                    at: now,
                    actor,
                    action: "console.signed_out",
                    detail: String::new(),
                }
                .write(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(deleted > 0)
        }.await);
        Ok(ended?)
    }
}
