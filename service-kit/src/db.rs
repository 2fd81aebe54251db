//! One SQL pool over SQLite (the embedded default) or PostgreSQL (production).
//!
//! Services write each query once: [`with_db!`] expands a body for both pool types, so the same
//! SQL text (`$1` placeholders, `ON CONFLICT`, `RETURNING`, which both engines accept) is
//! compiled against each driver. Timestamps are `i64` Unix milliseconds and binary values
//! `BLOB`/`BYTEA`, so rows decode identically on both.

mod fault;

pub use fault::{is_transient, is_unique_violation};

use serde::Deserialize;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

/// Starting a transaction that is going to write.
///
/// On SQLite a plain `BEGIN` is deferred: the transaction takes the write lock only at its first
/// write, and if another connection committed since its first read SQLite refuses the upgrade
/// at once (`SQLITE_BUSY`, or `SQLITE_BUSY_SNAPSHOT` in WAL mode) without waiting for the busy
/// timeout, which concurrent enrollments turned into 500s. `BEGIN IMMEDIATE` takes the write
/// lock up front and waits its turn. PostgreSQL's row locks need nothing of the kind.
pub trait BeginWrite {
    /// The driver.
    type Database: sqlx::Database;
    /// Begins a transaction holding the write lock where the engine has one.
    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>,
    > + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

/// The `[database]` section of a service configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path/file.db` or `postgres://user@host:5432/db` (TLS:
    /// `?sslmode=verify-full&sslrootcert=/path/ca.pem`). When unset, the service uses a SQLite
    /// file named after itself under its data directory.
    #[serde(default)]
    pub url: Option<String>,
    /// Upper bound on pooled connections. Connections are long-lived: opening one per request
    /// costs milliseconds of CPU on PostgreSQL.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// How long a request waits for a pooled connection before failing with 503.
    #[serde(default = "default_acquire_timeout_ms")]
    pub acquire_timeout_ms: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: None,
            max_connections: default_max_connections(),
            acquire_timeout_ms: default_acquire_timeout_ms(),
        }
    }
}

impl DatabaseConfig {
    /// The URL in effect: the configured one, or a SQLite file named `file` under `data_dir`
    /// (the embedded default: nothing to install).
    pub fn url_or_sqlite(&self, data_dir: &std::path::Path, file: &str) -> String {
        self.url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join(file).display()))
    }
}

fn default_max_connections() -> u32 {
    16
}
fn default_acquire_timeout_ms() -> u64 {
    5_000
}

/// A pooled connection to one of the supported engines.
#[derive(Debug, Clone)]
pub enum Db {
    /// SQLite, one file per service.
    Sqlite(SqlitePool),
    /// PostgreSQL, one database (or schema) per service.
    Postgres(PgPool),
}

/// Warns when a PostgreSQL server off this host may be reached without TLS: sqlx's default
/// (`prefer`) silently falls back to plaintext. `sslmode=verify-full` (with `sslrootcert`) is
/// what a managed database wants.
fn warn_without_tls(options: &PgConnectOptions) {
    let host = options.get_host();
    let local = options.get_socket().is_some()
        || host.starts_with('/')
        || matches!(host, "localhost" | "127.0.0.1" | "::1");
    let required = matches!(
        options.get_ssl_mode(),
        PgSslMode::Require | PgSslMode::VerifyCa | PgSslMode::VerifyFull
    );
    if !local && !required {
        tracing::warn!(%host, "PostgreSQL may be reached without TLS: add sslmode=verify-full&sslrootcert=<CA file> to the database URL");
    }
}

/// Writes a query body once for both engines: `with_db!(db, pool => sqlx::query(..).execute(pool).await)`.
/// `$pool` is a `&SqlitePool` in one expansion and a `&PgPool` in the other.
#[macro_export]
macro_rules! with_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

impl Db {
    /// Opens a pool for `url` and checks that a connection can be made. A SQLite file and its
    /// directory are created when missing.
    pub async fn connect(config: &DatabaseConfig, url: &str) -> Result<Db, sqlx::Error> {
        let acquire_timeout = Duration::from_millis(config.acquire_timeout_ms);
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            warn_without_tls(&options);
            let pool = PgPoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(acquire_timeout)
                .connect_with(options)
                .await?;
            return Ok(Db::Postgres(pool));
        }
        if !url.starts_with("sqlite:") {
            return Err(sqlx::Error::Configuration(
                format!("unsupported database URL {url:?}: use sqlite:// or postgres://").into(),
            ));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            // WAL lets readers proceed while one writer commits; NORMAL sync is durable in WAL
            // mode except for the last transactions on power loss.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(acquire_timeout)
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite(pool))
    }

    /// Runs the service's migrations for this engine.
    pub async fn migrate(
        &self,
        sqlite: &Migrator,
        postgres: &Migrator,
    ) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(pool) => sqlite.run(pool).await,
            Db::Postgres(pool) => postgres.run(pool).await,
        }
    }

    /// `sqlite` or `postgres`, for logs and metrics.
    pub fn engine(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// One round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        with_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        with_db!(self, pool => pool.close().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_file_and_directory_are_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested/dir/svc.db");
        let url = format!("sqlite://{}", path.display());
        let db = Db::connect(&DatabaseConfig::default(), &url)
            .await
            .expect("connect");
        db.ping().await.expect("ping");
        assert_eq!(db.engine(), "sqlite");
        assert!(path.exists());
        db.close().await;
    }

    #[tokio::test]
    async fn unsupported_url_is_a_clear_error() {
        let err = Db::connect(&DatabaseConfig::default(), "mysql://x")
            .await
            .expect_err("refused");
        assert!(
            err.to_string().contains("unsupported database URL"),
            "{err}"
        );
    }
}
