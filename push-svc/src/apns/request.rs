//! The exact wire format of an MDM push (docs/architecture.md §7) and reading APNs's answer.
//!
//! `POST /3/device/<hex token>` with `apns-topic` (the certificate's UID), `apns-push-type: mdm`,
//! an explicit `apns-expiration`, and the body `{"mdm":"<PushMagic>"}` — no `aps` dictionary.

use super::ApnsReply;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Largest error body read from APNs (a JSON object with a reason and a timestamp).
const MAX_REPLY_BODY: usize = 4096;

/// The request path for a device token.
pub fn push_path(token: &[u8]) -> String {
    format!("/3/device/{}", hex::encode(token))
}

/// The body of an MDM push: exactly `{"mdm":"<PushMagic>"}`.
pub fn push_body(push_magic: &str) -> String {
    // PushMagic is a UUID string; encoding it as a JSON string still keeps a hostile value
    // from changing the document's shape.
    let magic = serde_json::Value::String(push_magic.to_owned()).to_string();
    format!("{{\"mdm\":{magic}}}")
}

/// Builds the push request to `base` (`https://host:port`).
pub(super) fn build(
    base: &str,
    token: &[u8],
    push_magic: &str,
    topic: &str,
    expiration: Duration,
) -> Result<http::Request<Full<Bytes>>, http::Error> {
    let expires_at = SystemTime::now()
        .checked_add(expiration)
        .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |at| at.as_secs());
    http::Request::builder()
        .method(http::Method::POST)
        .uri(format!("{base}{}", push_path(token)))
        .header("apns-topic", topic)
        .header("apns-push-type", "mdm")
        .header("apns-expiration", expires_at.to_string())
        .body(Full::new(Bytes::from(push_body(push_magic))))
}

/// A request that proves APNs accepts the connection and cannot push anything: `GET` on the
/// push path without a token, which APNs answers 405 (only POST pushes). An answer of any kind
/// means the TLS session with the certificate was accepted; a refused certificate ends the
/// connection or answers 403 with its reason instead.
pub(super) fn probe(base: &str) -> Result<http::Request<Full<Bytes>>, http::Error> {
    http::Request::builder()
        .method(http::Method::GET)
        .uri(format!("{base}/3/device/"))
        .body(Full::new(Bytes::new()))
}

/// Status and reason of APNs's answer; the body is read up to [`MAX_REPLY_BODY`] bytes.
pub(super) async fn read_reply(
    response: http::Response<hyper::body::Incoming>,
) -> Result<ApnsReply, hyper::Error> {
    let status = response.status().as_u16();
    if status == 200 {
        return Ok(ApnsReply::Answered {
            status,
            reason: String::new(),
        });
    }
    let body = match Limited::new(response.into_body(), MAX_REPLY_BODY)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        // Too long or cut off: the status still says what happened.
        Err(_) => Bytes::new(),
    };
    Ok(ApnsReply::Answered {
        status,
        reason: reason_of(&body),
    })
}

/// The `reason` of an APNs error body, verbatim: reasons are an open set, so an unknown one is
/// kept as sent. A body that is not the expected JSON is kept as text (shortened).
pub fn reason_of(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        reason: Option<String>,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody {
            reason: Some(reason),
        }) => reason,
        _ => String::from_utf8_lossy(body).chars().take(200).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_format_is_exact() {
        assert_eq!(push_path(&[0xAB, 0x01]), "/3/device/ab01");
        assert_eq!(push_body("6BF09BE5-1C3C"), "{\"mdm\":\"6BF09BE5-1C3C\"}");
        assert_eq!(push_body("a\"b"), "{\"mdm\":\"a\\\"b\"}");
        let request = build(
            "https://api.push.apple.com",
            &[7; 2],
            "M",
            "com.apple.mgmt.x",
            Duration::from_secs(60),
        )
        .expect("request");
        assert_eq!(
            request.uri().to_string(),
            "https://api.push.apple.com/3/device/0707"
        );
        let headers = request.headers();
        assert_eq!(headers["apns-topic"], "com.apple.mgmt.x");
        assert_eq!(headers["apns-push-type"], "mdm");
        let expiration: u64 = headers["apns-expiration"]
            .to_str()
            .expect("text")
            .parse()
            .expect("number");
        assert!(expiration > 1_700_000_000);
    }

    #[test]
    fn reasons_are_kept_verbatim() {
        assert_eq!(
            reason_of(b"{\"reason\":\"Unregistered\",\"timestamp\":1}"),
            "Unregistered"
        );
        assert_eq!(reason_of(b"{\"reason\":\"SomethingNew\"}"), "SomethingNew");
        assert_eq!(reason_of(b"not json"), "not json");
        assert_eq!(reason_of(b""), "");
    }
}
