//! push-svc's tables on SQLite or PostgreSQL (one implementation, see `service_kit::with_db!`).
//!
//! The push hot path is set-based: a Push for 100,000 enrollments reads their targets and
//! records their outcomes with one statement per chunk of [`CHUNK`] IDs, never one per device.
//!
//! # Layout
//! - `targets`: push targets, their outcomes, activity and the inactivity sweep.
//! - `certificates`: uploaded certificates (sealed keys) and the one-topic guard.
//! - `rows`: the row types.

mod certificates;
mod rows;
mod targets;

pub use certificates::NewCertificate;
pub use rows::{CertificateRow, TargetRow, TargetStatus};
pub use targets::{NewTarget, ResultGroup};

use crate::error::Error;
use service_kit::db::Db;

/// The migrations of each engine, run at start; the diagnosis compares them with what the
/// database records.
pub static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
/// See [`SQLITE_MIGRATIONS`].
pub static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// IDs per statement (bound as one list parameter).
pub const CHUNK: usize = 10_000;

/// The store of push-svc.
#[derive(Debug, Clone)]
pub struct PushStore {
    db: Db,
}

impl PushStore {
    /// Wraps a pool and runs the migrations for its engine.
    pub async fn open(db: Db) -> Result<PushStore, Error> {
        db.migrate(&SQLITE_MIGRATIONS, &POSTGRES_MIGRATIONS).await?;
        Ok(PushStore { db })
    }

    /// The pool, for readiness checks and shutdown.
    pub fn db(&self) -> &Db {
        &self.db
    }
}
