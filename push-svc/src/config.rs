//! push-svc configuration (`MDM_PUSH_*`).

use serde::Deserialize;
use service_kit::cli::ServiceSettings;
use service_kit::config::ServiceConfig;
use service_kit::telemetry::LogConfig;
use std::net::SocketAddr;

/// Settings of push-svc.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// gRPC listen address. Only the edge and the other services should reach it.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 50053))
}

impl ServiceConfig for Config {
    const ENV_PREFIX: &'static str = "MDM_PUSH_";
}

impl ServiceSettings for Config {
    fn listen(&self) -> SocketAddr {
        self.listen
    }
    fn log(&self) -> &LogConfig {
        &self.log
    }
    fn summary(&self) -> String {
        format!("push-svc on {}", self.listen)
    }
}
