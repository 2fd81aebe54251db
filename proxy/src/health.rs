//! The plain-HTTP operations listener: `/healthz` (the process serves), `/readyz` (the services
//! behind the edge answer) and Prometheus `/metrics`. It is separate from the device listener,
//! which requires a client certificate that health checkers and scrapers do not have.

use crate::body::respond;
use async_trait::async_trait;
use http::Response;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;
use service_kit::observe::Observability;

/// Answers probes and scrapes.
pub struct HealthApp {
    observability: Observability,
}

impl HealthApp {
    /// The app serving `observability`.
    pub fn new(observability: Observability) -> HealthApp {
        HealthApp { observability }
    }
}

#[async_trait]
impl ServeHttp for HealthApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let path = session.req_header().uri.path().to_string();
        let (status, content_type, body) = self.observability.respond(&path).await;
        respond(status, content_type, body.into_bytes())
    }
}
