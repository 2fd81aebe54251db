//! The `[enrollment]` section of the proxy's configuration (`MDM_PROXY_ENROLLMENT__*`).

use serde::Deserialize;
use service_kit::config::ConfigError;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The enrollment listener: HTTPS with the server certificate and no client certificate
/// (devices have no identity yet).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentListener {
    /// Listen address.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// PEM server certificate chain.
    pub cert_file: PathBuf,
    /// PEM private key of the server certificate.
    pub key_file: PathBuf,
    /// Largest request body (a SCEP request or a device's signed answer is a few KiB).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Longest query string: a SCEP GET carries the whole base64 message in it (~8 KiB seen
    /// from real clients).
    #[serde(default = "default_max_query")]
    pub max_query_bytes: usize,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8444))
}
fn default_max_body() -> usize {
    1024 * 1024
}
fn default_max_query() -> usize {
    16 * 1024
}

impl EnrollmentListener {
    /// Checks files and limits.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let setting = |key: &str, reason: String| ConfigError::Setting {
            key: key.into(),
            reason,
        };
        for (key, path) in [
            ("enrollment.cert_file", &self.cert_file),
            ("enrollment.key_file", &self.key_file),
        ] {
            if !path.is_file() {
                return Err(setting(
                    key,
                    format!("{} is not a readable file", path.display()),
                ));
            }
        }
        if self.max_body_bytes < 16 * 1024 {
            return Err(setting(
                "enrollment.max_body_bytes",
                "must be at least 16384".into(),
            ));
        }
        if !(4096..=1024 * 1024).contains(&self.max_query_bytes) {
            return Err(setting(
                "enrollment.max_query_bytes",
                "must be between 4096 and 1048576".into(),
            ));
        }
        Ok(())
    }
}
