//! Waiting for the signals that stop a service.

use std::future::Future;
use std::pin::Pin;

/// The future a service's `run` is given by its binary: SIGTERM or SIGINT.
pub type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Resolves on SIGTERM or SIGINT (Ctrl-C). If signal handlers cannot be installed the future
/// never resolves and the process can still be killed.
pub fn signal() -> Signal {
    Box::pin(async {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::error!("cannot install signal handlers");
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received, shutting down"),
            _ = int.recv() => tracing::info!("SIGINT received, shutting down"),
        }
    })
}
