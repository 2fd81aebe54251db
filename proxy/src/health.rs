//! `/healthz` on a plain-HTTP listener, for load balancers and orchestrators (the device
//! listener requires a client certificate, which a health checker does not have).

use crate::body::{error_response, respond};
use async_trait::async_trait;
use http::{Response, StatusCode};
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;

/// Answers `/healthz` with 200 while the process serves.
pub struct HealthApp;

#[async_trait]
impl ServeHttp for HealthApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        match session.req_header().uri.path() {
            "/healthz" => respond(StatusCode::OK, "text/plain", b"ok\n".to_vec()),
            _ => error_response(StatusCode::NOT_FOUND),
        }
    }
}
