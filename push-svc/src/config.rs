//! push-svc configuration (`MDM_PUSH_*`).

use serde::Deserialize;
use service_kit::cli::ServiceSettings;
use service_kit::config::{redact_url, ConfigError, ServiceConfig};
use service_kit::db::DatabaseConfig;
use service_kit::secrets::SecretBox;
use service_kit::telemetry::LogConfig;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Settings of push-svc.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// gRPC listen address. Only the edge and the other services should reach it.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Plain-HTTP listener for Prometheus `/metrics`, `/healthz`, `/readyz` (the database
    /// answers) and `/peers` (the services it calls).
    #[serde(default = "default_metrics_listen")]
    pub metrics_listen: SocketAddr,
    /// Directory for the SQLite file when `database.url` is unset.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The push database (certificates, targets).
    #[serde(default)]
    pub database: DatabaseConfig,
    /// Base64 of 32 random bytes sealing push-certificate keys at rest
    /// (`openssl rand -base64 32`). Required: losing it means uploading the certificate again.
    pub secret_key: String,
    /// How APNs is reached.
    #[serde(default)]
    pub apns: ApnsConfig,
    /// Push certificates.
    #[serde(default)]
    pub certificate: CertificateConfig,
    /// The inactivity sweep (Apple's "Detecting Inactive Devices").
    #[serde(default)]
    pub sweep: SweepConfig,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
}

/// The APNs provider connection (`[apns]`, `MDM_PUSH_APNS__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApnsConfig {
    /// Base URL for certificates of the production environment (every real MDM push
    /// certificate). Tests and benchmarks point it at the mock APNs.
    #[serde(default = "default_production_url")]
    pub production_url: String,
    /// Base URL for certificates uploaded as `sandbox`.
    #[serde(default = "default_sandbox_url")]
    pub sandbox_url: String,
    /// PEM files of the CAs trusted for the APNs server certificate. Empty: the public web
    /// roots (Apple's servers chain to them). When set, only these are trusted.
    #[serde(default)]
    pub ca_files: Vec<PathBuf>,
    /// HTTP/2 connections per certificate. Apple asks for several connections for volume
    /// rather than one very busy one.
    #[serde(default = "default_connections")]
    pub connections: usize,
    /// Pushes in flight at once per certificate, across connections. Each connection also
    /// stays within the server's SETTINGS_MAX_CONCURRENT_STREAMS (h2 queues the excess).
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// Seconds APNs keeps a push for an unreachable device (`apns-expiration`). Sent
    /// explicitly: whether a missing header means "deliver once" is disputed.
    #[serde(default = "default_expiration_secs")]
    pub expiration_secs: u64,
    /// Deadline of one request, in milliseconds.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Deadline of a connection (TCP + TLS + HTTP/2 handshake), in milliseconds.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Retries of a push after a network error, a GOAWAY, a 429 or a 5xx. A repeated wake-up
    /// push is harmless; a lost one leaves a command waiting.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// First retry delay in milliseconds; it doubles with each retry.
    #[serde(default = "default_retry_backoff_ms")]
    pub retry_backoff_ms: u64,
}

/// Push certificates (`[certificate]`, `MDM_PUSH_CERTIFICATE__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateConfig {
    /// How often a replica checks the database for a newly uploaded certificate, in
    /// milliseconds: a certificate uploaded through any replica is used by all within this.
    #[serde(default = "default_refresh_ms")]
    pub refresh_ms: u64,
    /// Days before expiry from which the certificate is reported as expiring (API, log).
    #[serde(default = "default_expiry_warning_days")]
    pub expiry_warning_days: u32,
}

/// The inactivity sweep (`[sweep]`, `MDM_PUSH_SWEEP__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    /// Seconds between sweeps.
    #[serde(default = "default_sweep_interval")]
    pub interval_secs: u64,
    /// A device silent this long is pushed (at most once per this period), so that one that
    /// is still listening connects and proves it.
    #[serde(default = "default_push_after")]
    pub push_after_secs: u64,
    /// A device silent this long is marked inactive (Apple suggests "several days to a week").
    #[serde(default = "default_inactive_after")]
    pub inactive_after_secs: u64,
    /// Most devices one sweep pushes; the rest wait for the next sweep.
    #[serde(default = "default_sweep_batch")]
    pub batch: u32,
}

impl Default for ApnsConfig {
    fn default() -> Self {
        ApnsConfig {
            production_url: default_production_url(),
            sandbox_url: default_sandbox_url(),
            ca_files: Vec::new(),
            connections: default_connections(),
            max_in_flight: default_max_in_flight(),
            expiration_secs: default_expiration_secs(),
            request_timeout_ms: default_request_timeout_ms(),
            connect_timeout_ms: default_connect_timeout_ms(),
            retries: default_retries(),
            retry_backoff_ms: default_retry_backoff_ms(),
        }
    }
}

impl Default for CertificateConfig {
    fn default() -> Self {
        CertificateConfig {
            refresh_ms: default_refresh_ms(),
            expiry_warning_days: default_expiry_warning_days(),
        }
    }
}

impl Default for SweepConfig {
    fn default() -> Self {
        SweepConfig {
            interval_secs: default_sweep_interval(),
            push_after_secs: default_push_after(),
            inactive_after_secs: default_inactive_after(),
            batch: default_sweep_batch(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 50053))
}
fn default_metrics_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9103))
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_production_url() -> String {
    "https://api.push.apple.com".into()
}
fn default_sandbox_url() -> String {
    "https://api.sandbox.push.apple.com".into()
}
fn default_connections() -> usize {
    4
}
fn default_max_in_flight() -> usize {
    2_000
}
fn default_expiration_secs() -> u64 {
    // As long as a silent device is still considered active (the sweep's default).
    7 * 24 * 3600
}
fn default_request_timeout_ms() -> u64 {
    10_000
}
fn default_connect_timeout_ms() -> u64 {
    5_000
}
fn default_retries() -> u32 {
    3
}
fn default_retry_backoff_ms() -> u64 {
    50
}
fn default_refresh_ms() -> u64 {
    5_000
}
fn default_expiry_warning_days() -> u32 {
    30
}
fn default_sweep_interval() -> u64 {
    3_600
}
fn default_push_after() -> u64 {
    24 * 3600
}
fn default_inactive_after() -> u64 {
    7 * 24 * 3600
}
fn default_sweep_batch() -> u32 {
    10_000
}

impl Config {
    /// The database URL in effect: the configured one, or `push.db` under the data directory.
    pub fn database_url(&self) -> String {
        self.database.url_or_sqlite(&self.data_dir, "push.db")
    }
}

impl ServiceConfig for Config {
    const ENV_PREFIX: &'static str = "MDM_PUSH_";

    fn validate(&self) -> Result<(), ConfigError> {
        let setting = |key: &str, reason: &str| ConfigError::Setting {
            key: key.into(),
            reason: reason.into(),
        };
        SecretBox::from_base64(&self.secret_key).map_err(|e| ConfigError::Setting {
            key: "secret_key".into(),
            reason: e.to_string(),
        })?;
        let a = &self.apns;
        for (key, url) in [
            ("apns.production_url", &a.production_url),
            ("apns.sandbox_url", &a.sandbox_url),
        ] {
            if !url.starts_with("https://") || url.parse::<http::Uri>().is_err() {
                return Err(setting(key, "must be an https:// URL"));
            }
        }
        for path in &a.ca_files {
            if !path.is_file() {
                return Err(ConfigError::Setting {
                    key: "apns.ca_files".into(),
                    reason: format!("{} is not a readable file", path.display()),
                });
            }
        }
        for (key, value) in [
            ("apns.connections", a.connections as u64),
            ("apns.max_in_flight", a.max_in_flight as u64),
            ("apns.request_timeout_ms", a.request_timeout_ms),
            ("apns.connect_timeout_ms", a.connect_timeout_ms),
            ("certificate.refresh_ms", self.certificate.refresh_ms),
            ("sweep.interval_secs", self.sweep.interval_secs),
            ("sweep.push_after_secs", self.sweep.push_after_secs),
            ("sweep.batch", u64::from(self.sweep.batch)),
        ] {
            if value == 0 {
                return Err(setting(key, "must be at least 1"));
            }
        }
        if self.sweep.inactive_after_secs <= self.sweep.push_after_secs {
            // A device must get a wake-up push before it can be judged silent.
            return Err(setting(
                "sweep.inactive_after_secs",
                "must be longer than sweep.push_after_secs",
            ));
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
            "push-svc on {}, database {}, APNs {}",
            self.listen,
            redact_url(&self.database_url()),
            self.apns.production_url
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.insert("MDM_PUSH_SECRET_KEY".into(), format!("\"{KEY}\""));
        service_kit::config::load_from(None, &env)
    }

    #[test]
    fn defaults_point_at_apple() {
        let config = load(&[]).expect("defaults");
        assert_eq!(config.apns.production_url, "https://api.push.apple.com");
        assert_eq!(config.sweep.inactive_after_secs, 604_800);
        assert!(config.apns.expiration_secs > 0);
    }

    #[test]
    fn bad_settings_are_refused() {
        let err = load(&[("MDM_PUSH_APNS__PRODUCTION_URL", "http://x")]).expect_err("http");
        assert!(err.to_string().contains("apns.production_url"), "{err}");
        let err = load(&[("MDM_PUSH_SWEEP__INACTIVE_AFTER_SECS", "10")]).expect_err("order");
        assert!(err.to_string().contains("inactive_after"), "{err}");
        let err = load(&[("MDM_PUSH_APNS__CONNECTIONS", "0")]).expect_err("zero");
        assert!(err.to_string().contains("connections"), "{err}");
    }
}
