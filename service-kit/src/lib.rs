//! What every binary of the workspace shares, and nothing else: a service crate should read as its
//! own job, not as plumbing. Its scope is deliberately closed: configuration loading, logging,
//! shutdown, the SQL pool, sealing secrets at rest, serving and calling gRPC, and the metrics and
//! probe endpoints. MDM protocol code belongs in `mdm-core`.
//!
//! # Layout
//! - [`config`]: defaults < TOML file < `MDM_<SERVICE>_*` environment, unknown keys rejected.
//! - [`cli`]: the flags every service binary takes (`--config`, `--check-config`).
//! - [`db`]: [`db::Db`], one pool over SQLite or PostgreSQL, and [`with_db!`] to write a query
//!   body once for both.
//! - [`diagnostics`]: `mdm.v1.Diagnostics`, a replica's view of its own database and settings.
//! - [`events`]: the transactional event outbox and the `mdm.v1.Events` service over it.
//! - [`secrets`]: [`secrets::SecretBox`], AES-256-GCM sealing for secrets stored in databases.
//! - [`telemetry`]: `tracing` set-up (text or JSON).
//! - [`grpc`]: serving a tonic router on a bound listener with a bounded graceful shutdown.
//! - [`observe`]: `/metrics`, `/healthz` and `/readyz` on a plain-HTTP listener.
//! - [`shutdown`]: a future that resolves on SIGTERM or SIGINT.
//! - [`upstream`]: [`upstream::Upstream`], the replicas of a service a client calls, resolved,
//!   probed and balanced.

pub mod cli;
pub mod config;
pub mod db;
pub mod diagnostics;
pub mod events;
pub mod grpc;
pub mod observe;
pub mod secrets;
pub mod shutdown;
pub mod telemetry;
pub mod upstream;

/// Milliseconds since the Unix epoch: the one timestamp representation stored by every service,
/// identical on SQLite and PostgreSQL.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
