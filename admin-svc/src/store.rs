//! admin-svc's own database: admin tokens made through the API (their secrets as SHA-256 only),
//! the web console's sessions ([`sessions`]) and the audit log of what was done with them; the
//! events received from the services ([`events`]), webhooks and their deliveries ([`webhooks`]),
//! blueprints and their runs ([`blueprints`]). Every change an administrator makes commits with
//! its audit entry.

mod blueprints;
mod events;
mod renewals;
mod sessions;
mod webhooks;

pub use blueprints::{BlueprintRow, RunRow};
pub use events::{BlueprintMatch, EventFilter, EventRow, Ingested, Received, EVENT_COLUMNS};
pub use renewals::{RenewalChanges, RenewalRow};
pub use sessions::{SessionRow, TokenKind};
pub use webhooks::{Attempt, DeliveryCounts, DeliveryRow, DueDelivery, WebhookRow};

use crate::error::ApiError;
use service_kit::db::{is_unique_violation, BeginWrite, Db};
use service_kit::with_db;

/// The migrations of each engine, run at start; the diagnosis compares them with what the
/// database records.
pub static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
/// See [`SQLITE_MIGRATIONS`].
pub static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How often a token's `last_used_at` is written at most: the API stays read-only for reads.
const TOUCH_EVERY_MS: i64 = 60_000;

/// A token as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRow {
    /// Its ID.
    pub id: String,
    /// Its name (the actor in history and audit).
    pub name: String,
    /// SHA-256 of the secret.
    pub sha256: Vec<u8>,
    /// Comma-separated scope names.
    pub scopes: String,
    /// Who made it.
    pub created_by: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms; it stops working then.
    pub expires_at: i64,
    /// Unix ms, to within [`TOUCH_EVERY_MS`].
    pub last_used_at: Option<i64>,
    /// Unix ms.
    pub revoked_at: Option<i64>,
}

/// An audit entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    /// Increasing.
    pub id: i64,
    /// Unix ms.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// About what (a token's ID and name, ...).
    pub detail: String,
}

const TOKEN_COLUMNS: &str =
    "id, name, sha256, scopes, created_by, created_at, expires_at, last_used_at, revoked_at";

/// An entry of admin-svc's audit log, written in the transaction of the change it records.
struct Audit<'a> {
    at: i64,
    actor: &'a str,
    action: &'static str,
    detail: String,
}

impl Audit<'_> {
    /// Writes the entry with `executor` (the change's transaction), on either engine.
    async fn write<'e, DB, E>(self, executor: E) -> Result<(), sqlx::Error>
    where
        DB: sqlx::Database,
        E: sqlx::Executor<'e, Database = DB>,
        for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
        for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        sqlx::query("INSERT INTO audit_log (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(self.at)
            .bind(self.actor.to_owned())
            .bind(self.action.to_owned())
            .bind(self.detail)
            .execute(executor)
            .await
            .map(|_| ())
    }
}

/// The admin store.
#[derive(Debug, Clone)]
pub struct AdminStore {
    db: Db,
}

impl AdminStore {
    /// Wraps a pool and runs the migrations for its engine.
    pub async fn open(db: Db) -> Result<AdminStore, sqlx::migrate::MigrateError> {
        db.migrate(&SQLITE_MIGRATIONS, &POSTGRES_MIGRATIONS).await?;
        Ok(AdminStore { db })
    }

    /// The pool, for readiness checks and shutdown.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Stores a new token and its audit entry; `Conflict` when a live token has its name.
    pub async fn create_token(&self, token: &TokenRow) -> Result<(), ApiError> {
        let insert = format!(
            "INSERT INTO admin_tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        let detail = format!("{} ({}), scopes {}", token.id, token.name, token.scopes);
        let done: Result<(), sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            sqlx::query(&insert)
                .bind(&token.id)
                .bind(&token.name)
                .bind(&token.sha256)
                .bind(&token.scopes)
                .bind(&token.created_by)
                .bind(token.created_at)
                .bind(token.expires_at)
                .bind(token.last_used_at)
                .bind(token.revoked_at)
                .execute(&mut *tx)
                .await?;
            Audit {
                at: token.created_at,
                actor: &token.created_by,
                action: "admin_token.created",
                detail,
            }
            .write(&mut *tx)
            .await?;
            tx.commit().await
        }.await);
        done.map_err(|e| {
            if is_unique_violation(&e) {
                ApiError::Conflict(format!("a live token is already named {:?}", token.name))
            } else {
                ApiError::Database(e)
            }
        })
    }

    /// The live or dead token whose secret hashes to `sha256`.
    pub async fn token_by_secret(&self, sha256: &[u8]) -> Result<Option<TokenRow>, ApiError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM admin_tokens WHERE sha256 = $1");
        Ok(
            with_db!(&self.db, pool => sqlx::query_as::<_, TokenRow>(&sql)
            .bind(sha256)
            .fetch_optional(pool)
            .await)?,
        )
    }

    /// Notes a use, at most once a minute per token.
    pub async fn touch(&self, id: &str, now: i64) -> Result<(), ApiError> {
        with_db!(&self.db, pool => sqlx::query(
            "UPDATE admin_tokens SET last_used_at = $2
             WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(id)
        .bind(now)
        .bind(now - TOUCH_EVERY_MS)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// One token.
    pub async fn token(&self, id: &str) -> Result<Option<TokenRow>, ApiError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM admin_tokens WHERE id = $1");
        Ok(
            with_db!(&self.db, pool => sqlx::query_as::<_, TokenRow>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?,
        )
    }

    /// Tokens newest first, after `after` (the `(created_at, id)` of the previous page's last).
    pub async fn tokens(
        &self,
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<TokenRow>, ApiError> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM admin_tokens
             WHERE $1 IS NULL OR created_at < $1 OR (created_at = $1 AND id < $2)
             ORDER BY created_at DESC, id DESC LIMIT $3"
        );
        Ok(
            with_db!(&self.db, pool => sqlx::query_as::<_, TokenRow>(&sql)
            .bind(after.map(|(at, _)| at))
            .bind(after.map_or("", |(_, id)| id))
            .bind(limit)
            .fetch_all(pool)
            .await)?,
        )
    }

    /// Revokes a token (the first revocation's time is kept) with its audit entry. `None` when
    /// there is no such token.
    pub async fn revoke_token(
        &self,
        id: &str,
        by: &str,
        now: i64,
    ) -> Result<Option<TokenRow>, ApiError> {
        let sql = format!(
            "UPDATE admin_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1
             RETURNING {TOKEN_COLUMNS}"
        );
        let revoked: Result<Option<TokenRow>, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let row = sqlx::query_as::<_, TokenRow>(&sql)
                .bind(id)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = &row {
                Audit {
                    at: now,
                    actor: by,
                    action: "admin_token.revoked",
                    detail: format!("{} ({})", row.id, row.name),
                }
                .write(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(row)
        }.await);
        Ok(revoked?)
    }

    /// Audit entries newest first, before `before_id`, of one action if given.
    pub async fn audit(
        &self,
        before_id: Option<i64>,
        action: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditRow>, ApiError> {
        Ok(with_db!(&self.db, pool => sqlx::query_as::<_, AuditRow>(
            "SELECT id, at, actor, action, detail FROM audit_log
             WHERE ($1 IS NULL OR id < $1) AND ($2 IS NULL OR action = $2)
             ORDER BY id DESC LIMIT $3",
        )
        .bind(before_id)
        .bind(action)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
    }
}
