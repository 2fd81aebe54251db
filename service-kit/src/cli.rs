//! The flags every service binary takes, and the `main` they share.

use crate::config::{ConfigError, ServiceConfig};
use crate::telemetry::LogConfig;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::net::TcpListener;

/// Common command-line flags, flattened into each binary's `clap` parser.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// TOML configuration file. Environment variables (`MDM_<SERVICE>_*`) override it.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Load and validate the configuration, print a summary, and exit (0 when valid).
    #[arg(long)]
    pub check_config: bool,
}

/// What a gRPC service binary needs to know about its configuration.
pub trait ServiceSettings: ServiceConfig {
    /// The gRPC listen address.
    fn listen(&self) -> SocketAddr;
    /// The logging section.
    fn log(&self) -> &LogConfig;
    /// One line for `--check-config` (no secrets).
    fn summary(&self) -> String;
}

/// Why a service binary stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum MainError<E: std::error::Error + 'static> {
    /// Configuration could not be loaded or is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// The service failed.
    #[error(transparent)]
    Service(E),
}

/// The whole `main` of a gRPC service: load and validate configuration (`--check-config` stops
/// there), set up logging, bind, and run until SIGTERM or SIGINT.
pub async fn service_main<C, E, F, Fut>(args: CommonArgs, run: F) -> Result<(), MainError<E>>
where
    C: ServiceSettings,
    E: std::error::Error + 'static,
    F: FnOnce(TcpListener, C, crate::shutdown::Signal) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let config: C = crate::config::load(args.config.as_deref())?;
    if args.check_config {
        println!("configuration is valid: {}", config.summary());
        return Ok(());
    }
    crate::telemetry::init(config.log());
    let addr = config.listen();
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| MainError::Bind { addr, source })?;
    run(listener, config, crate::shutdown::signal())
        .await
        .map_err(MainError::Service)
}

/// Ends a binary's `main`: prints the error for a person (not its `Debug` form) and exits 1.
pub fn exit_code<E: std::error::Error>(
    binary: &str,
    result: Result<(), E>,
) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{binary}: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
