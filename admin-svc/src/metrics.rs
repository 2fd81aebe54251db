//! admin-svc's Prometheus metrics and its access log, both from one middleware: every answer is
//! counted by route (the matched pattern, never the raw path, so IDs do not become labels) and
//! status, and logged with its caller — never with its headers.

use crate::auth::Caller;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Instant;

/// Labels of an answered request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The route pattern (`/v1/devices/{id}`), or `unmatched`.
    pub route: String,
    /// The HTTP status.
    pub status: u16,
}

/// Labels of a request's duration.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route pattern, or `unmatched`.
    pub route: String,
}

/// The service's metrics, cheap to clone.
#[derive(Clone, Debug)]
pub struct Metrics {
    /// Answers by method, route and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Seconds from request to answer, by route.
    pub duration: Family<RouteLabels, Histogram>,
}

impl Metrics {
    /// Metrics registered in `registry`.
    pub fn register(registry: &mut Registry) -> Metrics {
        let m = Metrics {
            requests: Family::default(),
            duration: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0005, 2.0, 16))
            }),
        };
        registry.register(
            "mdm_admin_requests",
            "Admin API answers by method, route and status",
            m.requests.clone(),
        );
        registry.register(
            "mdm_admin_request_duration_seconds",
            "Admin API time to answer, by route",
            m.duration.clone(),
        );
        m
    }
}

/// Counts and logs every answer.
pub async fn observe(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let caller = response
        .extensions()
        .get::<Caller>()
        .map_or("-", |c| c.name.as_str());
    tracing::info!(target: "access", %method, %route, status, caller,
        ms = elapsed.as_secs_f64() * 1000.0, "admin request");
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route: route.clone(),
            status,
        })
        .inc();
    metrics
        .duration
        .get_or_create(&RouteLabels { route })
        .observe(elapsed.as_secs_f64());
    response
}
