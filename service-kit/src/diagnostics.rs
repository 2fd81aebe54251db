//! `mdm.v1.Diagnostics`: what one replica finds wrong with itself, asked by admin-svc for
//! `mdmctl doctor`. Every service answers the same two findings about its own database — it
//! answers (`database`) and every migration this binary knows is applied (`migrations`) — and
//! its clock (`clock_unix_ms`, so clock skew between machines shows); a service adds its own
//! through a [`Probe`] (push-svc: a handshake with APNs; enroll-svc: its enrollment profile).
//!
//! Nothing here writes: a diagnosis must be safe to run against production at any time.

use crate::db::Db;
use crate::with_db;
use futures::future::BoxFuture;
use mdm_proto::v1::diagnostics_server::{Diagnostics, DiagnosticsServer};
use mdm_proto::v1::{DiagnoseRequest, DiagnoseResponse, Finding};
use sqlx::migrate::Migrator;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tonic::{Request, Response, Status};

/// How long the database may take to answer one diagnosis query: a diagnosis that hangs
/// behind a stuck pool would hide the very fault it is asked about.
const DATABASE_DEADLINE: Duration = Duration::from_secs(5);

/// What a service adds to a diagnosis: its own findings and facts.
#[derive(Debug, Default)]
pub struct Extra {
    /// Findings beside `database` and `migrations`.
    pub findings: Vec<Finding>,
    /// Facts beside `clock_unix_ms`.
    pub facts: HashMap<String, String>,
}

/// A service's own part of a diagnosis, run on every call.
pub type Probe = Arc<dyn Fn() -> BoxFuture<'static, Extra> + Send + Sync>;

/// A finding.
pub fn finding(name: &str, ok: bool, detail: impl Into<String>) -> Finding {
    Finding {
        name: name.to_owned(),
        ok,
        detail: detail.into(),
    }
}

/// The `Diagnostics` service of one process.
#[derive(Clone)]
pub struct Diagnosis {
    service: &'static str,
    db: Db,
    sqlite: &'static Migrator,
    postgres: &'static Migrator,
    probe: Option<Probe>,
}

impl std::fmt::Debug for Diagnosis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Diagnosis")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Diagnosis {
    /// The diagnosis of `service` over `db`, whose migrations are `sqlite` or `postgres`.
    pub fn new(
        service: &'static str,
        db: Db,
        sqlite: &'static Migrator,
        postgres: &'static Migrator,
    ) -> Diagnosis {
        Diagnosis {
            service,
            db,
            sqlite,
            postgres,
            probe: None,
        }
    }

    /// Adds the service's own findings.
    pub fn with_probe(mut self, probe: Probe) -> Diagnosis {
        self.probe = Some(probe);
        self
    }

    /// The gRPC server.
    pub fn server(self) -> DiagnosticsServer<Diagnosis> {
        DiagnosticsServer::new(self)
    }

    /// Every finding and fact, as the RPC answers them.
    pub async fn run(&self) -> DiagnoseResponse {
        let mut findings = vec![self.database().await];
        findings.push(self.migrations().await);
        let mut facts = HashMap::new();
        if let Some(probe) = &self.probe {
            let extra = probe().await;
            findings.extend(extra.findings);
            facts.extend(extra.facts);
        }
        // Read last, closest to the answer leaving, so that the caller's estimate of the
        // round trip covers every slow step above.
        facts.insert("clock_unix_ms".into(), crate::now_ms().to_string());
        DiagnoseResponse {
            service: self.service.to_owned(),
            findings,
            facts,
        }
    }

    async fn database(&self) -> Finding {
        match tokio::time::timeout(DATABASE_DEADLINE, self.db.ping()).await {
            Ok(Ok(())) => finding("database", true, format!("{} answers", self.db.engine())),
            Ok(Err(error)) => finding("database", false, format!("{}: {error}", self.db.engine())),
            Err(_) => finding(
                "database",
                false,
                format!(
                    "{} did not answer within {DATABASE_DEADLINE:?}",
                    self.db.engine()
                ),
            ),
        }
    }

    async fn migrations(&self) -> Finding {
        let migrator = match self.db {
            Db::Sqlite(_) => self.sqlite,
            Db::Postgres(_) => self.postgres,
        };
        let known: BTreeSet<i64> = migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| m.version)
            .collect();
        let applied = tokio::time::timeout(DATABASE_DEADLINE, applied_versions(&self.db)).await;
        let applied = match applied {
            Ok(Ok(applied)) => applied,
            Ok(Err(error)) => {
                return finding("migrations", false, format!("cannot read them: {error}"))
            }
            Err(_) => return finding("migrations", false, "the database did not answer"),
        };
        migration_finding(&known, &applied)
    }
}

/// The versions the database records as applied successfully (sqlx's own table).
async fn applied_versions(db: &Db) -> Result<BTreeSet<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = with_db!(db, pool => sqlx::query_as(
        "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|(v,)| v).collect())
}

/// Pending migrations fail; versions only a newer binary knows are said but pass (a rolling
/// upgrade runs old and new replicas side by side, and migrations only add).
fn migration_finding(known: &BTreeSet<i64>, applied: &BTreeSet<i64>) -> Finding {
    let pending: Vec<String> = known.difference(applied).map(i64::to_string).collect();
    if !pending.is_empty() {
        return finding(
            "migrations",
            false,
            format!(
                "{} of {} not applied (versions {})",
                pending.len(),
                known.len(),
                pending.join(", ")
            ),
        );
    }
    let newer = applied.difference(known).count();
    let mut detail = format!("all {} applied", known.len());
    if newer > 0 {
        detail.push_str(&format!(
            "; {newer} more from a newer release (this replica is older)"
        ));
    }
    finding("migrations", true, detail)
}

#[tonic::async_trait]
impl Diagnostics for Diagnosis {
    async fn diagnose(
        &self,
        _: Request<DiagnoseRequest>,
    ) -> Result<Response<DiagnoseResponse>, Status> {
        Ok(Response::new(self.run().await))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_migrations_fail_and_newer_ones_pass() {
        let set = |v: &[i64]| v.iter().copied().collect::<BTreeSet<i64>>();
        let all = migration_finding(&set(&[1, 2, 3]), &set(&[1, 2, 3]));
        assert!(all.ok, "{all:?}");
        let pending = migration_finding(&set(&[1, 2, 3]), &set(&[1]));
        assert!(!pending.ok);
        assert_eq!(pending.detail, "2 of 3 not applied (versions 2, 3)");
        let newer = migration_finding(&set(&[1]), &set(&[1, 2]));
        assert!(newer.ok);
        assert!(newer.detail.contains("newer release"), "{}", newer.detail);
    }
}
