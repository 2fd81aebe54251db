//! Reading a request body under a limit, and building responses.

use crate::error::ProxyError;
use http::{header, Response, StatusCode};
use pingora::protocols::http::ServerSession;

/// Reads the whole body, refusing it as soon as it is known to exceed `limit`: from the
/// Content-Length before reading, or while reading a chunked or HTTP/2 body.
pub async fn read_limited(
    session: &mut ServerSession,
    limit: usize,
) -> Result<Vec<u8>, ProxyError> {
    let header = session.req_header();
    let declared = header
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(ProxyError::TooLarge { limit });
    }
    let expects_continue = header
        .headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    // pingora does not answer `Expect: 100-continue` itself; curl-style clients would stall.
    if expects_continue {
        session
            .write_continue_response()
            .await
            .map_err(|e| ProxyError::Read(e.to_string()))?;
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = session
        .read_request_body()
        .await
        .map_err(|e| ProxyError::Read(e.to_string()))?
    {
        if body.len() + chunk.len() > limit {
            return Err(ProxyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A response with a body and its length.
pub fn respond(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, body.len().into());
    if !body.is_empty() {
        if let Ok(value) = content_type.parse() {
            headers.insert(header::CONTENT_TYPE, value);
        }
    }
    *response.body_mut() = body;
    response
}

/// The short plain-text answer for a failed request. Details stay in the logs: a device has no
/// use for them and an attacker should not get them.
pub fn error_response(status: StatusCode) -> Response<Vec<u8>> {
    let text = format!("{}\n", status.canonical_reason().unwrap_or("error"));
    respond(status, "text/plain; charset=utf-8", text.into_bytes())
}
