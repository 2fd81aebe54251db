//! command-svc configuration (`MDM_COMMAND_*`).

use serde::Deserialize;
use service_kit::cli::ServiceSettings;
use service_kit::config::{redact_url, ConfigError, ServiceConfig};
use service_kit::db::DatabaseConfig;
use service_kit::telemetry::LogConfig;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Settings of command-svc.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// gRPC listen address. Only the edge and enroll-svc should reach it.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Plain-HTTP listener for Prometheus `/metrics`, `/healthz`, `/readyz` (the database
    /// answers) and `/peers` (the services it calls).
    #[serde(default = "default_metrics_listen")]
    pub metrics_listen: SocketAddr,
    /// Directory for the SQLite file when `database.url` is unset.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The queue database.
    #[serde(default)]
    pub database: DatabaseConfig,
    /// enroll-svc gRPC URL (UnlockTokens for ClearPasscode are fetched at delivery time, so they
    /// are never stored outside enroll-svc).
    /// Replicas: several URLs separated by commas, or a name resolving to one address per replica
    /// (re-resolved every 5 s); requests go to the healthy ones in turn.
    #[serde(default = "default_enroll_url")]
    pub enroll_url: String,
    /// push-svc: waking a command's targets, reporting device activity.
    #[serde(default)]
    pub push: PushLink,
    /// How long results and history are kept.
    #[serde(default)]
    pub retention: Retention,
    /// Asking every enrolled device for its inventory again at an interval.
    #[serde(default)]
    pub inventory_schedule: InventorySchedule,
    /// The event outbox (docs/events.md).
    #[serde(default)]
    pub events: Events,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
}

/// The event outbox (`[events]`, `MDM_COMMAND_EVENTS__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Events {
    /// Record command events (queued, delivered, acknowledged, error, NotNow) in the outbox
    /// with the changes. `false` records none of them: webhooks get no command events and
    /// blueprints never send DeviceConfigured. Only for a deployment that uses neither (and the
    /// benchmark's baseline); cancellations and expiries are recorded either way.
    #[serde(default = "default_true")]
    pub outbox: bool,
}

impl Default for Events {
    fn default() -> Self {
        Events { outbox: true }
    }
}

fn default_true() -> bool {
    true
}

/// How command-svc reaches push-svc (`[push]`, `MDM_COMMAND_PUSH__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushLink {
    /// push-svc gRPC URL.
    /// Replicas: several URLs separated by commas, or a name resolving to one address per replica
    /// (re-resolved every 5 s); requests go to the healthy ones in turn.
    #[serde(default = "default_push_url")]
    pub url: String,
    /// Milliseconds an enqueue waits for its push's outcome. A longer push (many devices)
    /// goes on in the background and the enqueue reports it as still running.
    #[serde(default = "default_push_timeout_ms")]
    pub timeout_ms: u64,
    /// Milliseconds between reports of which devices connected (for the inactivity sweep).
    #[serde(default = "default_activity_flush_ms")]
    pub activity_flush_ms: u64,
}

impl Default for PushLink {
    fn default() -> Self {
        PushLink {
            url: default_push_url(),
            timeout_ms: default_push_timeout_ms(),
            activity_flush_ms: default_activity_flush_ms(),
        }
    }
}

fn default_push_url() -> String {
    "http://127.0.0.1:50053".into()
}
fn default_push_timeout_ms() -> u64 {
    // Under the edge's default gRPC deadline (10 s): the enqueue must answer before it.
    5_000
}
fn default_activity_flush_ms() -> u64 {
    5_000
}

/// The inventory schedule: every enrolled device is asked again for its facts (DeviceInformation,
/// SecurityInfo, InstalledApplicationList) once per `interval_secs`, a slice of the fleet every
/// `tick_secs`, so a large fleet is never woken at once.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventorySchedule {
    /// Seconds between two inventories of one device; 0 (the default) switches it off.
    #[serde(default)]
    pub interval_secs: u64,
    /// Seconds between two slices.
    #[serde(default = "default_tick_secs")]
    pub tick_secs: u64,
}

impl Default for InventorySchedule {
    fn default() -> Self {
        InventorySchedule {
            interval_secs: 0,
            tick_secs: default_tick_secs(),
        }
    }
}

fn default_tick_secs() -> u64 {
    60
}

/// The retention policy: tables stay bounded under a steady load.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Days a finished delivery (answered, cancelled, expired) and its result are kept.
    #[serde(default = "default_results_days")]
    pub results_days: u32,
    /// Days audit entries of destructive commands are kept.
    #[serde(default = "default_audit_days")]
    pub audit_days: u32,
    /// Seconds between sweeps (expire, purge).
    #[serde(default = "default_sweep_secs")]
    pub sweep_interval_secs: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            results_days: default_results_days(),
            audit_days: default_audit_days(),
            sweep_interval_secs: default_sweep_secs(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 50052))
}
fn default_metrics_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9102))
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_enroll_url() -> String {
    "http://127.0.0.1:50051".into()
}
fn default_results_days() -> u32 {
    30
}
fn default_audit_days() -> u32 {
    365
}
fn default_sweep_secs() -> u64 {
    300
}

impl Config {
    /// The database URL in effect: the configured one, or `command.db` under the data directory.
    pub fn database_url(&self) -> String {
        self.database.url_or_sqlite(&self.data_dir, "command.db")
    }
}

impl ServiceConfig for Config {
    const ENV_PREFIX: &'static str = "MDM_COMMAND_";

    fn validate(&self) -> Result<(), ConfigError> {
        service_kit::config::check_service_urls("enroll_url", &self.enroll_url)?;
        service_kit::config::check_service_urls("push.url", &self.push.url)?;
        if self.push.timeout_ms == 0 || self.push.activity_flush_ms == 0 {
            return Err(ConfigError::Setting {
                key: "push".into(),
                reason: "timeout_ms and activity_flush_ms must be at least 1".into(),
            });
        }
        if self.retention.sweep_interval_secs == 0 {
            return Err(ConfigError::Setting {
                key: "retention.sweep_interval_secs".into(),
                reason: "must be at least 1".into(),
            });
        }
        let schedule = &self.inventory_schedule;
        if schedule.interval_secs > 0
            && (schedule.tick_secs == 0 || schedule.tick_secs > schedule.interval_secs)
        {
            return Err(ConfigError::Setting {
                key: "inventory_schedule.tick_secs".into(),
                reason: "must be at least 1 and at most interval_secs".into(),
            });
        }
        Ok(())
    }
}

impl ServiceSettings for Config {
    fn listen(&self) -> SocketAddr {
        self.listen
    }
    fn log(&self) -> &LogConfig {
        &self.log
    }
    fn summary(&self) -> String {
        format!(
            "command-svc on {}, database {}, results kept {} days",
            self.listen,
            redact_url(&self.database_url()),
            self.retention.results_days
        )
    }
}
