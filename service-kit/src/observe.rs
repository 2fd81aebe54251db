//! What operators and load balancers ask every service: Prometheus `/metrics`, liveness
//! `/healthz` and readiness `/readyz`, served over plain HTTP on a listener of their own (gRPC
//! ports speak HTTP/2 only, and a scraper should not need gRPC).
//!
//! Ready means the service can serve its own requests now: its database answers. A load
//! balancer takes a replica out of rotation while it is not ready, which is what a database
//! outage should do. The services a process calls are not part of it: two services that each
//! waited for the other would never start, and one peer down would take every replica of its
//! callers out of rotation even for requests that do not need it. Their state is reported
//! beside it, at `/peers` and as the `mdm_peer_up` gauge.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{body::Incoming, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A readiness check: `Ok` when ready, `Err(why)` when not.
pub type ReadinessCheck =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// Labels of the `mdm_peer_up` gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct PeerLabels {
    peer: &'static str,
}

/// The metrics and probes of one service.
#[derive(Clone)]
pub struct Observability {
    registry: Arc<Registry>,
    readiness: ReadinessCheck,
    peers: Arc<Vec<(&'static str, ReadinessCheck)>>,
    peer_up: Family<PeerLabels, Gauge>,
}

impl std::fmt::Debug for Observability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Observability(..)")
    }
}

impl Observability {
    /// Serves `registry` and answers `/readyz` with `readiness`.
    pub fn new(registry: Registry, readiness: ReadinessCheck) -> Observability {
        Observability::with_peers(registry, readiness, Vec::new())
    }

    /// Like [`Observability::new`], also reporting the services this one calls: `/peers` lists
    /// each with its state, and `mdm_peer_up{peer}` is 1 or 0 at every scrape. They never make
    /// the service unready.
    pub fn with_peers(
        mut registry: Registry,
        readiness: ReadinessCheck,
        peers: Vec<(&'static str, ReadinessCheck)>,
    ) -> Observability {
        let peer_up = Family::<PeerLabels, Gauge>::default();
        if !peers.is_empty() {
            registry.register(
                "mdm_peer_up",
                "Whether a service this one calls answered its health check at the last scrape",
                peer_up.clone(),
            );
        }
        Observability {
            registry: Arc::new(registry),
            readiness,
            peers: Arc::new(peers),
            peer_up,
        }
    }

    /// Checks every peer at once; records each in `mdm_peer_up`.
    async fn check_peers(&self) -> Vec<(&'static str, Result<(), String>)> {
        let checks = self
            .peers
            .iter()
            .map(|(name, check)| async move { (*name, check().await) });
        let results = futures::future::join_all(checks).await;
        for (peer, result) in &results {
            self.peer_up
                .get_or_create(&PeerLabels { peer })
                .set(i64::from(result.is_ok()));
        }
        results
    }

    /// The Prometheus text exposition of every registered metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }

    /// Answers one probe or scrape.
    pub async fn respond(&self, path: &str) -> (StatusCode, &'static str, String) {
        match path {
            "/metrics" => {
                self.check_peers().await;
                (
                    StatusCode::OK,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    self.render(),
                )
            }
            "/peers" => {
                let mut text = String::new();
                for (name, result) in self.check_peers().await {
                    match result {
                        Ok(()) => text.push_str(&format!("{name}: up\n")),
                        Err(why) => text.push_str(&format!("{name}: down: {why}\n")),
                    }
                }
                (StatusCode::OK, "text/plain", text)
            }
            "/healthz" => (StatusCode::OK, "text/plain", "ok\n".into()),
            "/readyz" => match (self.readiness)().await {
                Ok(()) => (StatusCode::OK, "text/plain", "ready\n".into()),
                Err(why) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    format!("not ready: {why}\n"),
                ),
            },
            _ => (StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
        }
    }

    /// Serves the endpoints on `listener` until `shutdown` resolves.
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                _ = &mut shutdown => return,
                accepted = listener.accept() => accepted,
            };
            let Ok((stream, _)) = accepted else { continue };
            let this = self.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let this = this.clone();
                    async move {
                        let (status, content_type, body) = this.respond(request.uri().path()).await;
                        let mut response = Response::new(Full::new(Bytes::from(body)));
                        *response.status_mut() = status;
                        if let Ok(value) = content_type.parse() {
                            response
                                .headers_mut()
                                .insert(hyper::header::CONTENT_TYPE, value);
                        }
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }
}

/// Readiness from a list of named checks: ready when all pass; the first failure says why.
pub fn all_of(checks: Vec<(&'static str, ReadinessCheck)>) -> ReadinessCheck {
    let checks = Arc::new(checks);
    Arc::new(move || {
        let checks = checks.clone();
        Box::pin(async move {
            for (name, check) in checks.iter() {
                check().await.map_err(|why| format!("{name}: {why}"))?;
            }
            Ok(())
        })
    })
}

/// Readiness of a process with nothing of its own to check (the edge): ready once serving.
pub fn always_ready() -> ReadinessCheck {
    Arc::new(|| Box::pin(async { Ok(()) }))
}

/// A readiness check that the database answers.
pub fn database_ready(db: crate::db::Db) -> ReadinessCheck {
    Arc::new(move || {
        let db = db.clone();
        Box::pin(async move { db.ping().await.map_err(|e| e.to_string()) })
    })
}

/// A readiness check that a gRPC service reports SERVING on its standard health service.
pub fn grpc_ready(channel: tonic::transport::Channel) -> ReadinessCheck {
    Arc::new(move || {
        let mut client = tonic_health::pb::health_client::HealthClient::new(channel.clone());
        Box::pin(async move {
            let request = tonic_health::pb::HealthCheckRequest {
                service: String::new(),
            };
            match tokio::time::timeout(std::time::Duration::from_secs(2), client.check(request))
                .await
            {
                Ok(Ok(response)) if response.get_ref().status == 1 => Ok(()),
                Ok(Ok(_)) => Err("not serving".into()),
                Ok(Err(status)) => Err(status.message().to_string()),
                Err(_) => Err("health check timed out".into()),
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::metrics::counter::Counter;

    fn ready(result: Result<(), String>) -> ReadinessCheck {
        Arc::new(move || {
            let result = result.clone();
            Box::pin(async move { result })
        })
    }

    #[tokio::test]
    async fn endpoints_answer_over_http() {
        let mut registry = Registry::default();
        let counter = Counter::<u64>::default();
        registry.register("mdm_test_events", "Test events", counter.clone());
        counter.inc_by(3);
        let observability = Observability::new(
            registry,
            all_of(vec![
                ("db", ready(Ok(()))),
                ("peer", ready(Err("down".into()))),
            ]),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(observability.serve(listener, async {
            let _ = stopped.await;
        }));
        let get = |path: &'static str| async move {
            let response = reqwest::get(format!("http://{addr}{path}"))
                .await
                .expect("get");
            (
                response.status().as_u16(),
                response.text().await.expect("text"),
            )
        };
        let (status, metrics) = get("/metrics").await;
        assert_eq!(status, 200);
        assert!(metrics.contains("mdm_test_events_total 3"), "{metrics}");
        assert_eq!(get("/healthz").await.0, 200);
        let (status, why) = get("/readyz").await;
        assert_eq!(status, 503);
        assert!(why.contains("peer: down"), "{why}");
        assert_eq!(get("/nope").await.0, 404);
        let _ = stop.send(());
        server.await.expect("stops");
    }

    #[tokio::test]
    async fn a_peer_down_is_reported_but_keeps_the_service_ready() {
        let observability = Observability::with_peers(
            Registry::default(),
            ready(Ok(())),
            vec![
                ("push-svc", ready(Ok(()))),
                ("command-svc", ready(Err("connection refused".into()))),
            ],
        );
        assert_eq!(observability.respond("/readyz").await.0, StatusCode::OK);
        let (status, _, peers) = observability.respond("/peers").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            peers,
            "push-svc: up\ncommand-svc: down: connection refused\n"
        );
        let (_, _, metrics) = observability.respond("/metrics").await;
        assert!(
            metrics.contains("mdm_peer_up{peer=\"command-svc\"} 0"),
            "{metrics}"
        );
        assert!(
            metrics.contains("mdm_peer_up{peer=\"push-svc\"} 1"),
            "{metrics}"
        );
    }
}
