//! A tonic router served on a listener the caller bound (port 0 in tests), with a bounded
//! graceful shutdown: in-flight calls get `grace` to finish, then the server stops regardless,
//! so a peer holding an idle HTTP/2 connection cannot keep a stopping service alive.

use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tonic::transport::server::{Router, TcpIncoming};

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
