//! A tonic router served on a listener the caller bound (port 0 in tests), with a bounded
//! graceful shutdown: in-flight calls get `grace` to finish, then the server stops regardless,
//! so a peer holding an idle HTTP/2 connection cannot keep a stopping service alive.

use crate::db::Db;
use crate::observe::Observability;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::transport::server::{Router, TcpIncoming};

/// How long in-flight calls may take to finish once a service's shutdown starts.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Serves `router` on `listener` until `shutdown` resolves, plus at most `grace`.
pub async fn serve(
    router: Router,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
    grace: Duration,
) -> Result<(), tonic::transport::Error> {
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = router.serve_with_incoming_shutdown(incoming, async move {
        shutdown.await;
        let _ = stopping_tx.send(());
    });
    tokio::pin!(serving);
    tokio::select! {
        result = &mut serving => result,
        _ = async {
            if stopping_rx.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => {
            tracing::warn!(?grace, "graceful shutdown took too long; closing remaining connections");
            Ok(())
        }
    }
}

/// The serving half every service binary shares: its gRPC listener, its observability endpoints,
/// the background tasks to stop and the database to close when it stops.
pub struct ServiceProcess<'a> {
    /// The service's name, in its "listening" and "stopped" lines (what operators and tests
    /// wait for).
    pub name: &'static str,
    /// The gRPC listener.
    pub listener: TcpListener,
    /// The `/metrics`, `/healthz`, `/readyz` listener.
    pub metrics_listener: TcpListener,
    /// What the metrics listener serves.
    pub observability: Observability,
    /// Closed once serving ends.
    pub db: &'a Db,
    /// Aborted once serving ends.
    pub tasks: Vec<JoinHandle<()>>,
}

impl ServiceProcess<'_> {
    /// Serves `router` and the observability endpoints until `shutdown` resolves (plus
    /// [`SHUTDOWN_GRACE`]); then stops the tasks and closes the database.
    pub async fn serve(
        self,
        router: Router,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), tonic::transport::Error> {
        let name = self.name;
        if let Ok(addr) = self.metrics_listener.local_addr() {
            tracing::info!(%addr, "{name} metrics listening");
        }
        if let Ok(addr) = self.listener.local_addr() {
            tracing::info!(%addr, engine = self.db.engine(), "{name} listening");
        }
        // The metrics listener lives exactly as long as the gRPC server.
        let served = tokio::select! {
            served = serve(router, self.listener, shutdown, SHUTDOWN_GRACE) => served,
            () = self.observability.serve(self.metrics_listener, std::future::pending()) => Ok(()),
        };
        for task in self.tasks {
            task.abort();
        }
        self.db.close().await;
        served?;
        tracing::info!("{name} stopped");
        Ok(())
    }
}
