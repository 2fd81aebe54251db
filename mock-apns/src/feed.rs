//! The push feed: how a simulated device in another process learns that the mock APNs received
//! a push for its token, the way a real device learns it from Apple. Plain HTTP/1.1 on a
//! listener of its own (loopback in practice), one long-poll route:
//!
//! `GET /pushes?after=<n>&wait_ms=<ms>` answers the deliveries numbered `n` and later as JSON,
//! `{"next": <number of deliveries>, "pushes": [{"seq", "token", "topic", "push_magic"}]}`,
//! waiting up to `wait_ms` (at most [`MAX_WAIT`]) for the first one if there is none yet. A
//! client passes the `next` it was given as its next `after`, so it sees every push once.
//! [`crate::PushFeed`] is that client.

use super::record::Recorder;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{body::Incoming, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The longest a request waits for a push before it answers an empty page.
pub const MAX_WAIT: Duration = Duration::from_secs(30);
/// The most pushes in one answer; a client behind by more asks again at once.
pub const PAGE: usize = 5_000;

/// One page of the feed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FeedPage {
    /// The `after` for the next request: how many deliveries the mock has recorded so far, or
    /// where this page stopped if it was full.
    pub next: usize,
    /// Deliveries `after..next`, in the order they arrived.
    pub pushes: Vec<FeedPush>,
}

/// One delivery as the feed reports it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FeedPush {
    /// Its number, from 0 in arrival order.
    pub seq: usize,
    /// The device token, lower-case hex.
    pub token: String,
    /// The `apns-topic`.
    pub topic: String,
    /// The PushMagic of the body.
    pub push_magic: String,
}

/// Serves the feed on `listener` until the runtime that runs it stops.
pub(super) async fn serve(listener: TcpListener, recorder: Arc<Recorder>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let recorder = Arc::clone(&recorder);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let recorder = Arc::clone(&recorder);
                async move { Ok::<_, std::convert::Infallible>(answer(&recorder, &request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(recorder: &Recorder, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    if request.method() != hyper::Method::GET || request.uri().path() != "/pushes" {
        return text(StatusCode::NOT_FOUND, "only GET /pushes is served here\n");
    }
    let (after, wait) = match query(request.uri().query().unwrap_or_default()) {
        Ok(parsed) => parsed,
        Err(why) => return text(StatusCode::BAD_REQUEST, &format!("{why}\n")),
    };
    if !recorder.records() {
        return text(
            StatusCode::CONFLICT,
            "the mock runs without recording deliveries (--quiet); it has no feed\n",
        );
    }
    let page = recorder.page(after, PAGE, wait.min(MAX_WAIT)).await;
    match serde_json::to_vec(&page) {
        Ok(json) => {
            let mut response = Response::new(Full::new(Bytes::from(json)));
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e}\n")),
    }
}

/// `after` and `wait_ms` from the query string; both optional (0).
fn query(query: &str) -> Result<(usize, Duration), String> {
    let mut after = 0;
    let mut wait = Duration::ZERO;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let number = |what: &str| {
            value
                .parse::<u64>()
                .map_err(|_| format!("{what} must be a whole number, not {value:?}"))
        };
        match key {
            "after" => after = usize::try_from(number("after")?).unwrap_or(usize::MAX),
            "wait_ms" => wait = Duration::from_millis(number("wait_ms")?),
            other => return Err(format!("unknown parameter {other:?}")),
        }
    }
    Ok((after, wait))
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_owned())));
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters() {
        assert_eq!(query(""), Ok((0, Duration::ZERO)));
        assert_eq!(
            query("after=12&wait_ms=250"),
            Ok((12, Duration::from_millis(250)))
        );
        assert!(query("after=-1").is_err());
        assert!(query("since=3").is_err());
    }
}
