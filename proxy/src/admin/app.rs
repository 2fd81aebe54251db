//! The admin listener's pingora application: route, authenticate, check the scope, dispatch to
//! the handler of the noun, and answer JSON. Every failure is answered here, once, through
//! [`AdminError::status`] and [`AdminError::code`].

use super::auth::{Caller, Tokens};
use super::config::{AdminListener, Scope};
use super::error::AdminError;
use super::render::{self, Reply};
use super::routes::{self, Matched, Route};
use super::{commands, devices, enrollment, push};
use crate::backends::Backends;
use crate::body::{read_limited, respond};
use async_trait::async_trait;
use http::{header, HeaderValue, Response, StatusCode};
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;
use std::sync::Arc;
use std::time::Duration;

/// How long a client may take to send its request body.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The OpenAPI document of this API, served at `/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// Serves administrators.
pub struct AdminApp {
    tokens: Tokens,
    max_body_bytes: usize,
    backends: Arc<Backends>,
}

impl AdminApp {
    /// The app for one admin listener.
    pub fn new(config: &AdminListener, backends: Arc<Backends>) -> AdminApp {
        AdminApp {
            tokens: Tokens::new(&config.tokens),
            max_body_bytes: config.max_body_bytes,
            backends,
        }
    }

    async fn handle(&self, session: &mut ServerSession) -> Result<Reply, AdminError> {
        let header = session.req_header();
        let matched = routes::resolve(header.method.as_str(), header.uri.path());
        // The API's description is public: a client needs it before it has a token.
        if matches!(&matched, Ok(m) if m.route == Route::OpenApi) {
            return Ok(Reply {
                status: StatusCode::OK,
                body: OPENAPI.as_bytes().to_vec(),
            });
        }
        // Authenticate before telling a caller anything about the path, even that it is wrong.
        let authorization = header
            .headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes);
        let caller = self.tokens.authenticate(authorization)?;
        let query = header.uri.query().map(str::to_owned);
        let matched = matched?;
        self.dispatch(session, &caller, &matched, query.as_deref())
            .await
    }

    async fn dispatch(
        &self,
        session: &mut ServerSession,
        caller: &Caller,
        matched: &Matched,
        query: Option<&str>,
    ) -> Result<Reply, AdminError> {
        let backends = self.backends.as_ref();
        let id = matched.param();
        match matched.route {
            Route::EnqueueCommand => {
                // Checked before the body is read: no megabytes from a token that may not queue.
                caller.require(Scope::Commands)?;
                session.set_read_timeout(Some(READ_TIMEOUT));
                let body = read_limited(session, self.max_body_bytes).await?;
                commands::enqueue(backends, caller, &body).await
            }
            Route::GetCommand => {
                caller.require(Scope::Read)?;
                commands::get(backends, id).await
            }
            Route::CancelCommand => commands::cancel(backends, caller, id).await,
            Route::ListDevices => {
                caller.require(Scope::Read)?;
                devices::list(backends, query).await
            }
            Route::GetDevice => {
                caller.require(Scope::Read)?;
                devices::get(backends, id).await
            }
            Route::ListDeviceCommands => {
                caller.require(Scope::Read)?;
                devices::commands(backends, id, query).await
            }
            Route::ApproveReenrollment => {
                // Lets a certificate take over a device's management channel: as strong as
                // an erase.
                caller.require(Scope::Destructive)?;
                session.set_read_timeout(Some(READ_TIMEOUT));
                let body = read_limited(session, self.max_body_bytes).await?;
                devices::approve_reenrollment(backends, caller, id, &body).await
            }
            Route::Push => {
                caller.require(Scope::Commands)?;
                session.set_read_timeout(Some(READ_TIMEOUT));
                let body = read_limited(session, self.max_body_bytes).await?;
                push::push(backends, caller, &body).await
            }
            Route::GetPushCertificate => {
                caller.require(Scope::Read)?;
                push::get_certificate(backends).await
            }
            Route::UploadPushCertificate => {
                caller.require(Scope::PushCertificate)?;
                session.set_read_timeout(Some(READ_TIMEOUT));
                let body = read_limited(session, self.max_body_bytes).await?;
                push::upload_certificate(backends, caller, &body).await
            }
            Route::CreateEnrollmentToken => {
                caller.require(Scope::Commands)?;
                session.set_read_timeout(Some(READ_TIMEOUT));
                let body = read_limited(session, self.max_body_bytes).await?;
                enrollment::create_token(backends, caller, &body).await
            }
            Route::ListEnrollmentTokens => {
                caller.require(Scope::Read)?;
                enrollment::list_tokens(backends, query).await
            }
            Route::RevokeEnrollmentToken => {
                caller.require(Scope::Commands)?;
                enrollment::revoke_token(backends, id).await
            }
            Route::GetCertificate => {
                caller.require(Scope::Read)?;
                enrollment::get_certificate(backends, id).await
            }
            Route::RevokeCertificate => {
                caller.require(Scope::Destructive)?;
                session.set_read_timeout(Some(READ_TIMEOUT));
                let body = read_limited(session, self.max_body_bytes).await?;
                enrollment::revoke_certificate(backends, caller, id, &body).await
            }
            Route::OpenApi => Err(AdminError::NotFound),
        }
    }
}

/// The JSON error answer, with the headers its status calls for.
fn error_response(error: &AdminError) -> Response<Vec<u8>> {
    let body = render::error(error.code(), &error.public_message());
    let reply = Reply::json(error.status(), &body);
    let mut response = json_response(reply);
    let headers = response.headers_mut();
    match error {
        AdminError::Unauthorized => {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        AdminError::MethodNotAllowed { allow } => {
            if let Ok(value) = HeaderValue::from_str(&allow.join(", ")) {
                headers.insert(header::ALLOW, value);
            }
        }
        _ => {}
    }
    response
}

fn json_response(reply: Reply) -> Response<Vec<u8>> {
    let mut response = respond(reply.status, "application/json", reply.body);
    // Answers name devices and hold command results: no shared cache may keep them.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[async_trait]
impl ServeHttp for AdminApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        match self.handle(session).await {
            Ok(reply) => json_response(reply),
            Err(error) => {
                let status = error.status();
                let method = session.req_header().method.clone();
                // A client chooses the path: it is logged cut short.
                let path = mdm_proto::bounded(session.req_header().uri.path(), 256).into_owned();
                if status.is_server_error() {
                    tracing::error!(%error, %status, %method, %path, "admin request failed");
                } else {
                    tracing::warn!(%error, %status, %method, %path, "admin request refused");
                }
                // A body left unread (refused before reading, or over the limit) would be
                // drained by pingora to reuse the connection: close it instead, so that an
                // unauthenticated client cannot make the server read an unbounded body.
                if error.breaks_connection() || !session.is_body_done() {
                    session.set_keepalive(None);
                }
                error_response(&error)
            }
        }
    }
}
