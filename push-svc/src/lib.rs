//! push-svc will own push: MDM push certificates, the push target of each enrollment and
//! delivery to APNs. For now it is the service frame the push issue fills in: configuration,
//! gRPC health and graceful shutdown.
//!
//! # Layout
//! - [`config`]: settings (`MDM_PUSH_*`).
//!
//! Binaries and tests both start the service with [`run`].

pub mod config;

pub use config::Config;

use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// Why the service stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listener's address cannot be read.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
    /// The gRPC transport failed.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Serves gRPC health on `listener` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    _config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let (_health, health_service) = tonic_health::server::health_reporter();
    let router = tonic::transport::Server::builder().add_service(health_service);
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "push-svc listening");
    service_kit::grpc::serve(router, listener, shutdown, Duration::from_secs(3)).await?;
    tracing::info!("push-svc stopped");
    Ok(())
}
