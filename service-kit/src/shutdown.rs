//! Waiting for the signals that stop a service.

use std::future::Future;
use std::pin::Pin;

/// The future a service's `run` is given by its binary: SIGTERM or SIGINT.
pub type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Resolves on SIGTERM or SIGINT (Ctrl-C). The handlers are installed here, at once, not when the
/// future is first polled: a service logs that it is listening before it waits for the signal,
/// and a SIGTERM in between must stop it cleanly rather than kill it. If signal handlers cannot
/// be installed the future never resolves and the process can still be killed. Must be called
/// inside a Tokio runtime.
pub fn signal() -> Signal {
    use tokio::signal::unix::{signal, SignalKind};
    let handlers = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    Box::pin(async move {
        let (Ok(mut term), Ok(mut int)) = handlers else {
            tracing::error!("cannot install signal handlers");
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received, shutting down"),
            _ = int.recv() => tracing::info!("SIGINT received, shutting down"),
        }
    })
}
