//! admin-svc configuration (`MDM_ADMIN_*`).

mod events;

pub use events::EventsConfig;

use mdm_api::Scope;
use serde::Deserialize;
use service_kit::cli::ServiceSettings;
use service_kit::config::{check_service_urls, redact_url, ConfigError, ServiceConfig};
use service_kit::db::DatabaseConfig;
use service_kit::telemetry::LogConfig;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Settings of admin-svc.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The REST API's HTTPS listener. Loopback by default: exposing the admin API is a
    /// deliberate choice.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// PEM server certificate chain of the HTTPS listener.
    pub cert_file: PathBuf,
    /// PEM private key of that certificate.
    pub key_file: PathBuf,
    /// Plain-HTTP listener for Prometheus `/metrics`, `/healthz`, `/readyz` (the database
    /// answers) and `/peers` (the services it calls).
    #[serde(default = "default_metrics_listen")]
    pub metrics_listen: SocketAddr,
    /// Directory for the SQLite file when `database.url` is unset.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The database of admin tokens and admin-svc's audit log.
    #[serde(default)]
    pub database: DatabaseConfig,
    /// The services it calls.
    #[serde(default)]
    pub services: Services,
    /// Largest request body accepted (a command with an embedded profile can be large).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Bearer tokens from the configuration (at least one: tokens made through the API need a
    /// token with the `admin` scope to make them). Environment form:
    /// `MDM_ADMIN_TOKENS='[{name = "ops", sha256 = "…", scopes = ["read"]}]'`.
    #[serde(default)]
    pub tokens: Vec<ConfigToken>,
    /// Key sealing webhook secrets in the database: base64 of 32 random bytes
    /// (`openssl rand -base64 32`). Without it webhooks cannot be registered; losing it loses
    /// their secrets (rotate them).
    #[serde(default)]
    pub secret_key: Option<String>,
    /// Receiving the services' events and delivering them to webhooks.
    #[serde(default)]
    pub events: EventsConfig,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
}

/// A bearer token from the configuration, stored as its hash so that the configuration is not
/// a secret by itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigToken {
    /// Who holds the token: recorded as `requested_by` in command history and the audit log.
    pub name: String,
    /// Hex SHA-256 of the token (`printf %s "$TOKEN" | sha256sum`).
    pub sha256: String,
    /// What the token may do: `read`, `commands`, `destructive`, `clear-passcode`,
    /// `push-certificate`, `admin`.
    pub scopes: Vec<Scope>,
}

/// The gRPC services admin-svc calls.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Services {
    /// enroll-svc gRPC URL (devices, enrollment tokens, certificates, its audit log).
    /// Replicas: several URLs separated by commas, or a name resolving to one address per replica
    /// (re-resolved every 5 s); requests go to the healthy ones in turn.
    #[serde(default = "default_enroll_url")]
    pub enroll_url: String,
    /// command-svc gRPC URL (commands, deliveries, its audit log).
    /// Replicas: several URLs separated by commas, or a name resolving to one address per replica
    /// (re-resolved every 5 s); requests go to the healthy ones in turn.
    #[serde(default = "default_command_url")]
    pub command_url: String,
    /// push-svc gRPC URL (push, the push certificate, push states).
    /// Replicas: several URLs separated by commas, or a name resolving to one address per replica
    /// (re-resolved every 5 s); requests go to the healthy ones in turn.
    #[serde(default = "default_push_url")]
    pub push_url: String,
    /// How long one call may take, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

impl Default for Services {
    fn default() -> Self {
        Services {
            enroll_url: default_enroll_url(),
            command_url: default_command_url(),
            push_url: default_push_url(),
            timeout_ms: default_timeout_ms(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9443))
}

fn default_metrics_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9104))
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

fn default_max_body() -> usize {
    16 * 1024 * 1024
}

fn default_enroll_url() -> String {
    "http://127.0.0.1:50051".into()
}

fn default_command_url() -> String {
    "http://127.0.0.1:50052".into()
}

fn default_push_url() -> String {
    "http://127.0.0.1:50053".into()
}

fn default_timeout_ms() -> u64 {
    30_000
}

impl Config {
    /// `secret_key`, unless unset or empty.
    pub fn sealing_key(&self) -> Option<&str> {
        self.secret_key.as_deref().filter(|key| !key.is_empty())
    }

    /// The database URL in effect: the configured one, or `admin.db` under the data directory.
    pub fn database_url(&self) -> String {
        self.database.url_or_sqlite(&self.data_dir, "admin.db")
    }
}

/// Decodes a hex SHA-256 (either case); `None` unless it is exactly 32 bytes.
pub fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    let mut digest = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut digest).ok()?;
    Some(digest)
}

impl ServiceConfig for Config {
    const ENV_PREFIX: &'static str = "MDM_ADMIN_";

    fn validate(&self) -> Result<(), ConfigError> {
        let setting = |key: &str, reason: String| ConfigError::Setting {
            key: key.to_owned(),
            reason,
        };
        for (key, path) in [("cert_file", &self.cert_file), ("key_file", &self.key_file)] {
            if !path.is_file() {
                return Err(setting(
                    key,
                    format!("{} is not a readable file", path.display()),
                ));
            }
        }
        if self.listen == self.metrics_listen {
            return Err(setting("metrics_listen", "must differ from listen".into()));
        }
        if self.max_body_bytes < 1024 {
            return Err(setting("max_body_bytes", "must be at least 1024".into()));
        }
        for (key, url) in [
            ("services.enroll_url", &self.services.enroll_url),
            ("services.command_url", &self.services.command_url),
            ("services.push_url", &self.services.push_url),
        ] {
            check_service_urls(key, url)?;
        }
        if let Some(key) = self.sealing_key() {
            service_kit::secrets::SecretBox::from_base64(key)
                .map_err(|e| setting("secret_key", e.to_string()))?;
        }
        self.events.validate()?;
        if self.tokens.is_empty() {
            // An API nobody can call is a misconfiguration, not a safe default.
            return Err(setting(
                "tokens",
                "configure at least one token ([[tokens]]); with the admin scope it can make more"
                    .into(),
            ));
        }
        let mut names = HashSet::new();
        let mut digests = HashSet::new();
        for token in &self.tokens {
            let key = format!("tokens.{}", token.name);
            if token.name.trim().is_empty() || token.name.len() > 128 {
                return Err(setting(
                    "tokens",
                    "a token name is empty or too long".into(),
                ));
            }
            if !names.insert(token.name.as_str()) {
                return Err(setting(&key, "the name is used by two tokens".into()));
            }
            let Some(digest) = parse_sha256(&token.sha256) else {
                return Err(setting(
                    &key,
                    "sha256 must be 64 hex characters (the SHA-256 of the token)".into(),
                ));
            };
            // Two names for one token would make the history name the wrong person.
            if !digests.insert(digest) {
                return Err(setting(&key, "the same token is configured twice".into()));
            }
            if token.scopes.is_empty() {
                return Err(setting(&key, "a token needs at least one scope".into()));
            }
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
            "admin-svc on {}, database {}, {} configured token(s)",
            self.listen,
            redact_url(&self.database_url()),
            self.tokens.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = dir.path().join("c.pem");
        std::fs::write(&cert, "x").expect("write");
        let mut env: HashMap<String, String> = HashMap::from([
            ("MDM_ADMIN_CERT_FILE".into(), cert.display().to_string()),
            ("MDM_ADMIN_KEY_FILE".into(), cert.display().to_string()),
        ]);
        for (k, v) in extra {
            env.insert((*k).into(), (*v).into());
        }
        service_kit::config::load_from(None, &env)
    }

    #[test]
    fn tokens_are_required_and_checked() {
        let digest = "ab".repeat(32);
        let one = format!(r#"[{{name = "ops", sha256 = "{digest}", scopes = ["read", "admin"]}}]"#);
        let config = load(&[("MDM_ADMIN_TOKENS", &one)]).expect("valid");
        assert_eq!(config.tokens[0].scopes, [Scope::Read, Scope::Admin]);
        assert!(load(&[]).is_err(), "no token at all");
        for bad in [
            r#"[{name = "ops", sha256 = "abc", scopes = ["read"]}]"#.to_owned(),
            format!(r#"[{{name = "ops", sha256 = "{digest}", scopes = []}}]"#),
            format!(r#"[{{name = "ops", sha256 = "{digest}", scopes = ["root"]}}]"#),
            format!(
                r#"[{{name = "a", sha256 = "{digest}", scopes = ["read"]}}, {{name = "b", sha256 = "{digest}", scopes = ["read"]}}]"#
            ),
        ] {
            assert!(load(&[("MDM_ADMIN_TOKENS", &bad)]).is_err(), "{bad}");
        }
    }
}
