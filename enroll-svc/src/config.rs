//! enroll-svc configuration (`MDM_ENROLL_*`).

use crate::provisioning::settings::{CaConfig, EnrollmentConfig};
use serde::Deserialize;
use service_kit::cli::ServiceSettings;
use service_kit::config::{redact_url, ConfigError, ServiceConfig};
use service_kit::db::DatabaseConfig;
use service_kit::secrets::SecretBox;
use service_kit::telemetry::LogConfig;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Settings of enroll-svc.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// gRPC listen address. Only the edge should be able to reach it.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Plain-HTTP listener for Prometheus `/metrics`, `/healthz`, `/readyz` (the database
    /// answers) and `/peers` (the services it calls).
    #[serde(default = "default_metrics_listen")]
    pub metrics_listen: SocketAddr,
    /// Directory for the SQLite file when `database.url` is unset.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The enrollment database.
    #[serde(default)]
    pub database: DatabaseConfig,
    /// push-svc gRPC URL: TokenUpdate registers the enrollment's push target there, CheckOut
    /// removes it. When push-svc cannot be reached those check-ins answer 503.
    /// Replicas: several URLs separated by commas, or a name resolving to one address per replica
    /// (re-resolved every 5 s); requests go to the healthy ones in turn.
    #[serde(default = "default_push_url")]
    pub push_url: String,
    /// Base64 of 32 random bytes sealing UnlockTokens and BootstrapTokens at rest
    /// (`openssl rand -base64 32`). Required: losing it loses those secrets.
    pub secret_key: String,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// The device-identity CA.
    #[serde(default)]
    pub ca: CaConfig,
    /// Enrollment URLs and profile contents; profiles cannot be made without it.
    #[serde(default)]
    pub enrollment: Option<EnrollmentConfig>,
    /// Identities near expiry.
    #[serde(default)]
    pub identities: IdentitiesConfig,
    /// Declarative Device Management.
    #[serde(default)]
    pub declarative: DeclarativeConfig,
}

/// `[declarative]`: what is kept of devices' status reports.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclarativeConfig {
    /// Days every change of a status item is kept (the latest value is kept as long as the
    /// enrollment); 0 keeps no history.
    #[serde(default = "default_status_history_days")]
    pub status_history_days: u32,
}

impl Default for DeclarativeConfig {
    fn default() -> Self {
        DeclarativeConfig {
            status_history_days: default_status_history_days(),
        }
    }
}

fn default_status_history_days() -> u32 {
    30
}

/// `[identities]`: when an enrolled device's identity is announced as near expiry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitiesConfig {
    /// Days before its identity certificate expires that a device's `enrollment.identity_expiring`
    /// event is emitted (once per certificate); 0 switches the sweep off.
    #[serde(default = "default_notice_days")]
    pub expiry_notice_days: u32,
    /// The notice period in seconds, instead of `expiry_notice_days` (with `ca.validity_secs`:
    /// short-lived identities, tests).
    #[serde(default)]
    pub expiry_notice_secs: Option<u64>,
    /// Seconds between two sweeps (at least 1).
    #[serde(default = "default_sweep_secs")]
    pub sweep_secs: u64,
}

impl Default for IdentitiesConfig {
    fn default() -> Self {
        IdentitiesConfig {
            expiry_notice_days: default_notice_days(),
            expiry_notice_secs: None,
            sweep_secs: default_sweep_secs(),
        }
    }
}

impl IdentitiesConfig {
    /// The notice period in seconds; 0: no sweep.
    pub fn notice_secs(&self) -> u64 {
        self.expiry_notice_secs
            .unwrap_or(u64::from(self.expiry_notice_days) * 86_400)
    }
}

fn default_notice_days() -> u32 {
    60
}

fn default_sweep_secs() -> u64 {
    3600
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 50051))
}

fn default_metrics_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9101))
}

fn default_push_url() -> String {
    "http://127.0.0.1:50053".into()
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

impl Config {
    /// The database URL in effect: the configured one, or `enroll.db` under the data directory.
    pub fn database_url(&self) -> String {
        self.database.url_or_sqlite(&self.data_dir, "enroll.db")
    }
}

impl ServiceConfig for Config {
    const ENV_PREFIX: &'static str = "MDM_ENROLL_";

    fn validate(&self) -> Result<(), ConfigError> {
        SecretBox::from_base64(&self.secret_key).map_err(|e| ConfigError::Setting {
            key: "secret_key".into(),
            reason: e.to_string(),
        })?;
        service_kit::config::check_service_urls("push_url", &self.push_url)?;
        self.ca.validate()?;
        if self.identities.sweep_secs == 0 {
            return Err(ConfigError::Setting {
                key: "identities.sweep_secs".into(),
                reason: "must be at least 1".into(),
            });
        }
        // An identity noticed as soon as it is issued would be renewed over and over.
        if self.identities.notice_secs() >= self.ca.identity_validity_secs() {
            return Err(ConfigError::Setting {
                key: "identities.expiry_notice_days".into(),
                reason: format!(
                    "the notice period ({} s) must be shorter than an identity's validity ({} s, ca.validity_days)",
                    self.identities.notice_secs(),
                    self.ca.identity_validity_secs()
                ),
            });
        }
        if let Some(enrollment) = &self.enrollment {
            enrollment.validate()?;
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
            "enroll-svc on {}, database {}",
            self.listen,
            redact_url(&self.database_url())
        )
    }
}
