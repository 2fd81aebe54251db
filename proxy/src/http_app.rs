//! Serving a [`ServeHttp`] app on a pingora listener, answering even the requests pingora cannot
//! read. pingora's own adapter closes the connection without a word when a request head fails
//! to parse (a URI over 64 KB, a malformed header): a client, or an operator probing, sees a
//! reset rather than a status. [`Answering`] writes `400 Bad Request` first, and closes.
//!
//! Everything else follows pingora's adapter: the app's response is written as one header and
//! one body, and the connection is kept for the next request when the app allows it.

use async_trait::async_trait;
use http::StatusCode;
use pingora::apps::http_app::ServeHttp;
use pingora::apps::{HttpPersistentSettings, HttpServerApp, ReusedHttpStream};
use pingora::http::ResponseHeader;
use pingora::protocols::http::ServerSession;
use pingora::server::ShutdownWatch;
use std::sync::Arc;

/// How long an idle connection is kept for its next request, in seconds.
const KEEPALIVE_SECS: u64 = 60;

/// A [`ServeHttp`] app served so that unreadable requests are answered too.
pub struct Answering<A>(pub A);

#[async_trait]
impl<A> HttpServerApp for Answering<A>
where
    A: ServeHttp + Send + Sync,
{
    async fn process_new_http(
        self: &Arc<Self>,
        mut session: ServerSession,
        shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        match session.read_request().await {
            Ok(true) => {}
            // The client closed the connection before a request: nothing to answer.
            Ok(false) => return None,
            Err(error) => {
                // The error may quote the request head: the log adapter counts it, bounds it
                // and masks credentials (see `pingora_log`).
                log::error!("HTTP server fails to read from downstream: {error}");
                answer_unreadable(session).await;
                return None;
            }
        }
        let keepalive = (!*shutdown.borrow()).then_some(KEEPALIVE_SECS);
        session.set_keepalive(keepalive);
        let response = self.0.response(&mut session).await;
        let (parts, body) = response.into_parts();
        let header: ResponseHeader = parts.into();
        if let Err(error) = session.write_response_header(Box::new(header)).await {
            log::error!("HTTP server fails to write to downstream: {error}");
            return None;
        }
        if !body.is_empty() {
            if let Err(error) = session.write_response_body(body.into(), true).await {
                log::error!("HTTP server fails to write to downstream: {error}");
                return None;
            }
        }
        let persistent = HttpPersistentSettings::for_session(&session);
        match session.finish().await {
            Ok(reusable) => {
                reusable.map(|stream| ReusedHttpStream::from_reusable_stream(stream, persistent))
            }
            Err(error) => {
                log::error!("HTTP server fails to finish the request: {error}");
                None
            }
        }
    }
}

/// Writes `400 Bad Request` with `Connection: close` to a client whose request could not be
/// read; a failure to write is the client's problem, not ours.
async fn answer_unreadable(mut session: ServerSession) {
    session.set_keepalive(None);
    let Ok(mut header) = ResponseHeader::build(StatusCode::BAD_REQUEST, Some(2)) else {
        return;
    };
    if header.insert_header("Content-Length", "0").is_err()
        || header.insert_header("Connection", "close").is_err()
    {
        return;
    }
    if session
        .write_response_header(Box::new(header))
        .await
        .is_ok()
    {
        let _ = session.finish().await;
    }
}
