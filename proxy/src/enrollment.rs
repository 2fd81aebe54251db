//! The enrollment listener: HTTPS with the server certificate and no client certificate, for
//! devices that have no identity yet. It serves the SCEP server (`/scep`, GET and POST, query
//! strings up to `max_query_bytes`), OTA enrollment (`/enroll`), the direct profile
//! (`/enroll/profile`), `/MDMServiceConfig`, `/anchor-certs` and `/trust-profile`, each
//! translated to enroll-svc's `mdm.v1.Provisioning`. It is off unless `[enrollment]` is
//! configured.
//!
//! # Layout
//! - [`config`]: the `[enrollment]` settings.
//! - [`handlers`]: one function per endpoint.
//! - [`query`]: query parameters and GET-encoded SCEP messages.
//! - [`error`]: why a request failed, mapped once to a status (never 401).

pub mod config;
pub mod error;
pub mod handlers;
pub mod query;

pub use config::EnrollmentListener;

use crate::backends::Backends;
use crate::body::{error_response, read_limited, respond};
use crate::metrics::Metrics;
use crate::tls::TlsSetupError;
use async_trait::async_trait;
use error::EnrollError;
use handlers::Reply;
use http::{header, HeaderValue, Method, Response, StatusCode};
use pingora::apps::http_app::ServeHttp;
use pingora::listeners::tls::TlsSettings;
use pingora::protocols::http::ServerSession;
use std::sync::Arc;
use std::time::Duration;

/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves enrollment.
pub struct EnrollmentApp {
    config: EnrollmentListener,
    backends: Arc<Backends>,
    metrics: Metrics,
}

impl EnrollmentApp {
    /// The app for one enrollment listener.
    pub fn new(
        config: EnrollmentListener,
        backends: Arc<Backends>,
        metrics: Metrics,
    ) -> EnrollmentApp {
        EnrollmentApp {
            config,
            backends,
            metrics,
        }
    }

    async fn body(&self, session: &mut ServerSession) -> Result<Vec<u8>, EnrollError> {
        session.set_read_timeout(Some(READ_TIMEOUT));
        Ok(read_limited(session, self.config.max_body_bytes).await?)
    }

    async fn handle(&self, session: &mut ServerSession) -> Result<Reply, EnrollError> {
        let header = session.req_header();
        let method = header.method.clone();
        let path = header.uri.path().to_owned();
        let query = header.uri.query().map(str::to_owned);
        if query
            .as_ref()
            .is_some_and(|q| q.len() > self.config.max_query_bytes)
        {
            return Err(EnrollError::UriTooLong {
                limit: self.config.max_query_bytes,
            });
        }
        let query = query.as_deref();
        let backends = self.backends.as_ref();
        match (path.as_str(), method) {
            ("/scep", Method::GET) => handlers::scep(backends, query, None).await,
            ("/scep", Method::POST) => {
                let body = self.body(session).await?;
                handlers::scep(backends, query, Some(body)).await
            }
            ("/enroll", Method::GET) => handlers::ota(backends, query, None).await,
            ("/enroll", Method::POST) => {
                let body = self.body(session).await?;
                handlers::ota(backends, query, Some(body)).await
            }
            ("/enroll/profile", Method::GET) => handlers::direct_profile(backends, query).await,
            ("/trust-profile", Method::GET) => handlers::trust_profile(backends).await,
            ("/MDMServiceConfig", Method::GET) => handlers::service_config(backends).await,
            ("/anchor-certs", Method::GET) => handlers::anchor_certs(backends).await,
            (
                "/scep" | "/enroll" | "/enroll/profile" | "/trust-profile" | "/MDMServiceConfig"
                | "/anchor-certs",
                _,
            ) => Err(EnrollError::MethodNotAllowed),
            _ => Err(EnrollError::NotFound),
        }
    }
}

#[async_trait]
impl ServeHttp for EnrollmentApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        match self.handle(session).await {
            Ok(reply) => {
                self.metrics.answered("enrollment", StatusCode::OK);
                let mut response = respond(StatusCode::OK, &reply.content_type, reply.body);
                // Profiles carry one-time challenges: no cache may keep or replay them.
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
            Err(error) => {
                let status = error.status();
                self.metrics.answered("enrollment", status);
                if status.is_server_error() {
                    tracing::error!(%error, %status, "enrollment request failed");
                } else {
                    tracing::warn!(%error, %status, "enrollment request refused");
                }
                if error.breaks_connection() || !session.is_body_done() {
                    session.set_keepalive(None);
                }
                error_response(status)
            }
        }
    }
}

/// The enrollment listener's TLS: the server certificate, no client certificate.
pub fn enrollment_tls(config: &EnrollmentListener) -> Result<TlsSettings, TlsSetupError> {
    let cert_file = config.cert_file.display().to_string();
    let key_file = config.key_file.display().to_string();
    let mut tls = TlsSettings::intermediate(&cert_file, &key_file)
        .map_err(|e| TlsSetupError::Pingora(e.to_string()))?;
    tls.check_private_key()
        .map_err(|source| TlsSetupError::OpenSsl {
            what: format!("enrollment key {key_file} does not match {cert_file}"),
            source,
        })?;
    tls.enable_h2();
    Ok(tls)
}
