//! The device listener's application: routes the CheckInURL and ServerURL, reads the body under
//! the limit, parses the envelope, applies the identity policy and forwards to the owning
//! service. Every failure is answered through [`ProxyError::status`], the one mapping.

use crate::admission::Admissions;
use crate::authn::Authenticator;
use crate::authn::Caller;
use crate::backends::{Answer, Backends, PLIST};
use crate::body::{error_response, read_limited, respond};
use crate::config::DeviceListener;
use crate::error::ProxyError;
use crate::metrics::Metrics;
use async_trait::async_trait;
use http::{Method, Response, StatusCode};
use mdm_core::{EnrollmentRef, Message};
use mdm_proto::report::ReportFacts;
use mdm_proto::v1::DeviceIdentity;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

/// How long a device may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Which configured path a request arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    CheckIn,
    Server,
}

/// Serves devices.
pub struct DeviceApp {
    config: DeviceListener,
    backends: Arc<Backends>,
    admissions: Arc<Admissions>,
    authn: Authenticator,
    metrics: Metrics,
}

impl DeviceApp {
    /// The app for one device listener.
    pub fn new(
        config: DeviceListener,
        backends: Arc<Backends>,
        admissions: Arc<Admissions>,
        authn: Authenticator,
        metrics: Metrics,
    ) -> DeviceApp {
        DeviceApp {
            config,
            backends,
            admissions,
            authn,
            metrics,
        }
    }

    /// The identity to forward, admitted by enroll-svc (or its cached answer): a revoked
    /// certificate is refused, a direct-profile certificate is held to the certificate binding
    /// instead of CN = UDID, and a report needs an active enrollment.
    async fn admit(
        &self,
        caller: &Caller,
        enrollment: &EnrollmentRef,
        command_channel: bool,
    ) -> Result<DeviceIdentity, ProxyError> {
        self.admissions
            .admit(
                &self.backends,
                caller.method,
                &caller.cert,
                enrollment,
                self.config.identity_policy,
                command_channel,
            )
            .await
    }

    async fn handle(&self, session: &mut ServerSession) -> Result<Answer, ProxyError> {
        let header = session.req_header();
        let path = header.uri.path();
        if let Some(asset) = path
            .strip_prefix(self.config.assets_path.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
        {
            let identifier = asset_identifier(asset)?;
            if header.method != Method::GET {
                return Err(ProxyError::MethodNotAllowed);
            }
            // A GET has no body: the signature, in signature mode, is of the empty body.
            let caller = self.authn.authenticate(session, &[])?;
            self.metrics.message("asset", "GET");
            return self.backends.asset(&caller.cert.sha256, &identifier).await;
        }
        let endpoint = if path == self.config.checkin_path {
            Endpoint::CheckIn
        } else if path == self.config.server_path {
            Endpoint::Server
        } else {
            return Err(ProxyError::NotFound);
        };
        // Devices use PUT; POST is accepted for tools that send it.
        if header.method != Method::PUT && header.method != Method::POST {
            return Err(ProxyError::MethodNotAllowed);
        }
        session.set_read_timeout(Some(READ_TIMEOUT));
        let body = read_limited(session, self.config.max_body_bytes).await?;
        // Identity first: an unverified caller learns nothing about its message.
        let caller = self.authn.authenticate(session, &body)?;
        match mdm_core::parse_message(&body)? {
            Message::Checkin(message) => {
                self.metrics.message("checkin", message.message_type());
                let enrollment = message.ids().enrollment()?;
                let identity = self.admit(&caller, &enrollment, false).await?;
                // Both end the enrollment's current generation: what this edge cached about it
                // is stale from now on.
                let restarts_or_ends = matches!(
                    message,
                    mdm_core::CheckinMessage::Authenticate(_)
                        | mdm_core::CheckinMessage::CheckOut(_)
                );
                let answer = self.backends.checkin(identity, body).await;
                if restarts_or_ends {
                    self.admissions.forget_device(&enrollment.device_id);
                }
                answer
            }
            Message::Report(_) if endpoint == Endpoint::CheckIn => Err(ProxyError::WrongEndpoint(
                "command reports belong on the ServerURL, not the CheckInURL",
            )),
            Message::Report(report) => {
                self.metrics.message("report", report.status.as_str());
                let enrollment = report.ids.enrollment()?;
                let identity = self.admit(&caller, &enrollment, true).await?;
                // What command-svc needs from the report is handed on as read here, so the
                // body is parsed once.
                let facts = ReportFacts::of(&report);
                let body = self
                    .backends
                    .report(identity, facts, body, caller.connection_id)
                    .await?;
                Ok(Answer {
                    body,
                    content_type: Cow::Borrowed(PLIST),
                })
            }
        }
    }
}

#[async_trait]
impl ServeHttp for DeviceApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        match self.handle(session).await {
            Ok(answer) => {
                self.metrics.answered("device", StatusCode::OK);
                respond(StatusCode::OK, &answer.content_type, answer.body)
            }
            Err(error) => {
                let status = error.status();
                self.metrics.answered("device", status);
                self.metrics.refused(&error);
                if status.is_server_error() {
                    tracing::error!(%error, %status, "device request failed");
                } else {
                    tracing::warn!(%error, %status, "device request refused");
                }
                if matches!(error, ProxyError::TooLarge { .. } | ProxyError::Read(_)) {
                    // The rest of the body was not read: this connection cannot carry another request.
                    session.set_keepalive(None);
                }
                error_response(status)
            }
        }
    }
}

/// The identifier of an asset's path segment, decoded: one segment of at most 128 bytes of
/// printable text (a declaration's identifier), anything else is not an asset of ours.
fn asset_identifier(segment: &str) -> Result<String, ProxyError> {
    // Three bytes of escape per byte at most: nothing longer can decode to 128 bytes.
    if segment.is_empty() || segment.len() > 3 * 128 || segment.contains('/') {
        return Err(ProxyError::NotFound);
    }
    let decoded = percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .map_err(|_| ProxyError::NotFound)?;
    if decoded.len() > 128 || decoded.contains('/') || decoded.chars().any(char::is_control) {
        return Err(ProxyError::NotFound);
    }
    Ok(decoded.into_owned())
}
