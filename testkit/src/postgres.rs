//! A fresh PostgreSQL database per test, dropped afterwards.
//!
//! The server comes from `MDM_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! Only the explicit value `off` skips PostgreSQL tests; a server that cannot be reached is an error.

use std::time::Duration;

use anyhow::{ensure, Context};
use sqlx::{Connection, PgConnection};

/// Environment variable naming the PostgreSQL server used by tests, or `off`.
pub const POSTGRES_ENV: &str = "MDM_TEST_POSTGRES";

/// The server URL when `MDM_TEST_POSTGRES` is unset or empty.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// How long connecting or running one admin statement may take.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The server URL for PostgreSQL tests: env `MDM_TEST_POSTGRES`, default
/// `postgres://postgres@127.0.0.1:5432/postgres`. If `MDM_TEST_POSTGRES` is `off`, returns
/// `None` (callers print that the PostgreSQL run was skipped on purpose).
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var(POSTGRES_ENV) {
        Ok(v) if v.trim().eq_ignore_ascii_case("off") => None,
        Ok(v) if !v.trim().is_empty() => Some(v.trim().to_owned()),
        _ => Some(DEFAULT_POSTGRES_URL.to_owned()),
    }
}

/// A database `mdm_test_<uuid>` created for one test. Dropping it drops the database
/// (best effort, `WITH (FORCE)` so open connections do not block it), on a thread of its own
/// so it works inside and outside a tokio runtime.
pub struct TempDatabase {
    /// Connection URL of the new database.
    pub url: String,
    name: String,
    admin_url: String,
}

impl TempDatabase {
    /// Create a fresh database on the server of [`postgres_admin_url`]. `Ok(None)` means
    /// PostgreSQL tests are off; failing to reach the server is an error.
    pub async fn create() -> anyhow::Result<Option<TempDatabase>> {
        let Some(admin_url) = postgres_admin_url() else {
            return Ok(None);
        };
        TempDatabase::create_on(&admin_url).await.map(Some)
    }

    /// Create a fresh database on the server at `admin_url` (a URL whose user may create
    /// databases).
    pub async fn create_on(admin_url: &str) -> anyhow::Result<TempDatabase> {
        let name = format!("mdm_test_{}", uuid::Uuid::new_v4().simple());
        let url = with_database(admin_url, &name)?;
        let mut conn = connect_admin(admin_url).await?;
        tokio::time::timeout(
            ADMIN_TIMEOUT,
            sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn),
        )
        .await
        .context("CREATE DATABASE timed out")?
        .with_context(|| format!("CREATE DATABASE {name}"))?;
        let _ = conn.close().await;
        Ok(TempDatabase {
            url,
            name,
            admin_url: admin_url.to_owned(),
        })
    }

    /// The database's name (`mdm_test_<32 hex digits>`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let dropper = std::thread::Builder::new()
            .name("testkit-drop-db".to_owned())
            .spawn(move || -> anyhow::Result<()> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .context("build a runtime to drop the test database")?;
                runtime.block_on(drop_database(&admin_url, &name))
            });
        let result = match dropper {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("the drop thread panicked"))),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = result {
            eprintln!("testkit: could not drop test database {}: {e:#}", self.name);
        }
    }
}

async fn drop_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let mut conn = connect_admin(admin_url).await?;
    tokio::time::timeout(
        ADMIN_TIMEOUT,
        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn),
    )
    .await
    .context("DROP DATABASE timed out")??;
    let _ = conn.close().await;
    Ok(())
}

async fn connect_admin(admin_url: &str) -> anyhow::Result<PgConnection> {
    let hint =
        "set MDM_TEST_POSTGRES to a reachable server URL, or to `off` to skip PostgreSQL tests";
    tokio::time::timeout(ADMIN_TIMEOUT, PgConnection::connect(admin_url))
        .await
        .with_context(|| {
            format!(
                "connecting to PostgreSQL at {} timed out; {hint}",
                redact(admin_url)
            )
        })?
        .with_context(|| format!("connect to PostgreSQL at {}; {hint}", redact(admin_url)))
}

/// `url` with its database path replaced by `database` (query string kept).
fn with_database(url: &str, database: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base
        .find("://")
        .map(|i| i + 3)
        .with_context(|| format!("{} is not a postgres:// URL", redact(url)))?;
    ensure!(
        base.starts_with("postgres://") || base.starts_with("postgresql://"),
        "{} is not a postgres:// URL",
        redact(url)
    );
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

/// `url` without its password, for error messages.
fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!(
                "{}{user}:***@{host}{}",
                &url[..scheme_end],
                &rest[authority.len()..]
            )
        }
        _ => url.to_owned(),
    }
}

/// An empty database of its own, for a store's test.
pub struct FreshDatabase {
    /// Its URL (`sqlite://…` or `postgres://…`).
    pub url: String,
    /// What keeps it: the temporary directory of the SQLite file, or the PostgreSQL database
    /// (dropped with it).
    pub keep: Box<dyn std::any::Any>,
}

/// A fresh database on `engine`, or `None` when PostgreSQL runs are off on purpose
/// (`MDM_TEST_POSTGRES=off`, said on stderr); failing to reach PostgreSQL panics.
pub async fn fresh_database(engine: crate::Engine) -> Option<FreshDatabase> {
    match engine {
        crate::Engine::Sqlite => {
            let dir = tempfile::tempdir().expect("tempdir");
            Some(FreshDatabase {
                url: format!("sqlite://{}", dir.path().join("store.db").display()),
                keep: Box::new(dir),
            })
        }
        crate::Engine::Postgres => {
            let Some(database) = TempDatabase::create().await.expect("PostgreSQL reachable") else {
                eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
                return None;
            };
            Some(FreshDatabase {
                url: database.url.clone(),
                keep: Box::new(database),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_in_urls() -> anyhow::Result<()> {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x")?,
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgresql://u:p@h?sslmode=disable", "x")?,
            "postgresql://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres:///postgres?host=/run/postgresql", "x")?,
            "postgres:///x?host=/run/postgresql"
        );
        assert!(with_database("mysql://h/db", "x").is_err());
        Ok(())
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[tokio::test]
    async fn creates_and_drops_a_database() -> anyhow::Result<()> {
        let Some(admin_url) = postgres_admin_url() else {
            eprintln!("MDM_TEST_POSTGRES=off: PostgreSQL test skipped on purpose");
            return Ok(());
        };
        let db = TempDatabase::create_on(&admin_url).await?;
        let name = db.name().to_owned();
        assert!(db.url.ends_with(&format!("/{name}")), "{}", db.url);

        let mut conn = PgConnection::connect(&db.url).await?;
        let (one,): (i32,) = sqlx::query_as("SELECT 1").fetch_one(&mut conn).await?;
        assert_eq!(one, 1);
        let (current,): (String,) = sqlx::query_as("SELECT current_database()")
            .fetch_one(&mut conn)
            .await?;
        assert_eq!(current, name);

        // Dropping works even with a connection still open (WITH (FORCE)).
        drop(db);
        let mut admin = PgConnection::connect(&admin_url).await?;
        let (count,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM pg_database WHERE datname = $1")
                .bind(&name)
                .fetch_one(&mut admin)
                .await?;
        assert_eq!(count, 0, "{name} is still listed in pg_database");
        drop(conn);
        Ok(())
    }

    #[tokio::test]
    async fn create_follows_the_environment() -> anyhow::Result<()> {
        let db = TempDatabase::create().await?;
        assert_eq!(db.is_some(), postgres_admin_url().is_some());
        if let Some(db) = db {
            let mut conn = PgConnection::connect(&db.url).await?;
            sqlx::query("CREATE TABLE t (id INTEGER)")
                .execute(&mut conn)
                .await?;
        }
        Ok(())
    }

    #[test]
    fn drop_works_outside_a_runtime() -> anyhow::Result<()> {
        let Some(admin_url) = postgres_admin_url() else {
            return Ok(());
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let db = runtime.block_on(TempDatabase::create_on(&admin_url))?;
        let name = db.name().to_owned();
        drop(db); // no runtime entered here
        let count: i64 = runtime.block_on(async {
            let mut admin = PgConnection::connect(&admin_url).await?;
            let (count,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM pg_database WHERE datname = $1")
                    .bind(&name)
                    .fetch_one(&mut admin)
                    .await?;
            anyhow::Ok(count)
        })?;
        assert_eq!(count, 0);
        Ok(())
    }

    #[tokio::test]
    async fn unreachable_server_is_an_error() {
        let port = crate::process::free_port();
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        let err = TempDatabase::create_on(&url)
            .await
            .err()
            .expect("no server listens on a free port");
        assert!(format!("{err:#}").contains("MDM_TEST_POSTGRES"), "{err:#}");
    }
}
