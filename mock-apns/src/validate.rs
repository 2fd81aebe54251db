//! What makes a request a valid MDM push, and the APNs status and reason when it is not.
//!
//! The reasons are Apple's where Apple has one (`BadDeviceToken`, `MissingTopic`, `BadTopic`,
//! `InvalidPushType`, `BadExpirationDate`, `PayloadEmpty`, `BadPath`, `MethodNotAllowed`,
//! `DuplicateHeaders`). The body check is stricter than Apple's: push-svc must send exactly
//! `{"mdm":"<PushMagic>"}`, so anything else is refused with `BadMdmPayload`.

use super::record::Delivery;
use http::{HeaderMap, Method};
use std::time::SystemTime;

/// Largest body the mock reads; an MDM push body is well under 100 bytes.
pub const MAX_BODY: usize = 4096;

/// A refusal: HTTP status and APNs reason.
pub type Refused = (u16, &'static str);

/// Checks a request from a client whose certificate has topic `client_topic`.
pub fn check(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    client_topic: &str,
) -> Result<Delivery, Refused> {
    if method != Method::POST {
        return Err((405, "MethodNotAllowed"));
    }
    let token = path.strip_prefix("/3/device/").ok_or((404, "BadPath"))?;
    if token.is_empty() {
        return Err((400, "MissingDeviceToken"));
    }
    // Real tokens are 32 bytes; Apple reserves the right to make them longer.
    let hex_ok = token.len() % 2 == 0 && token.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex_ok || !(64..=200).contains(&token.len()) {
        return Err((400, "BadDeviceToken"));
    }
    for name in [
        "apns-topic",
        "apns-push-type",
        "apns-expiration",
        "apns-priority",
    ] {
        if headers.get_all(name).iter().count() > 1 {
            return Err((400, "DuplicateHeaders"));
        }
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let topic = header("apns-topic").ok_or((400, "MissingTopic"))?;
    if topic != client_topic {
        return Err((400, "BadTopic"));
    }
    if header("apns-push-type") != Some("mdm") {
        return Err((400, "InvalidPushType"));
    }
    // Apple treats a missing header as "store once"; push-svc must say what it wants.
    let expiration = header("apns-expiration")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| *v >= 0)
        .ok_or((400, "BadExpirationDate"))?;
    if body.is_empty() {
        return Err((400, "PayloadEmpty"));
    }
    let push_magic = mdm_body_magic(body).ok_or((400, "BadMdmPayload"))?;
    Ok(Delivery {
        token: token.to_ascii_lowercase(),
        topic: topic.to_owned(),
        push_magic,
        push_type: "mdm".into(),
        expiration,
        priority: header("apns-priority").map(str::to_owned),
        path: path.to_owned(),
        body: body.to_vec(),
        headers: headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        at: SystemTime::now(),
    })
}

/// The PushMagic of a body that is exactly `{"mdm":"<magic>"}` (no spaces, no other key, no
/// escapes: PushMagic is a UUID-like string).
fn mdm_body_magic(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let magic = text.strip_prefix("{\"mdm\":\"")?.strip_suffix("\"}")?;
    let plain =
        !magic.is_empty() && !magic.contains(['"', '\\']) && !magic.chars().any(char::is_control);
    plain.then(|| magic.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "com.apple.mgmt.External.test";
    const TOKEN: &str = "0707070707070707070707070707070707070707070707070707070707070707";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().expect("header value"));
        }
        map
    }

    fn good() -> HeaderMap {
        headers(&[
            ("apns-topic", TOPIC),
            ("apns-push-type", "mdm"),
            ("apns-expiration", "1700000000"),
        ])
    }

    fn path() -> String {
        format!("/3/device/{TOKEN}")
    }

    #[test]
    fn an_mdm_push_is_accepted() {
        let d = check(
            &Method::POST,
            &path(),
            &good(),
            b"{\"mdm\":\"MAGIC-1\"}",
            TOPIC,
        )
        .expect("valid");
        assert_eq!(
            (d.token.as_str(), d.push_magic.as_str()),
            (TOKEN, "MAGIC-1")
        );
        assert_eq!(d.expiration, 1_700_000_000);
    }

    #[test]
    fn each_violation_has_its_reason() {
        let body = b"{\"mdm\":\"M\"}".as_slice();
        let cases: Vec<(Method, String, HeaderMap, &[u8], Refused)> = vec![
            (Method::GET, path(), good(), body, (405, "MethodNotAllowed")),
            (Method::POST, "/3/x".into(), good(), body, (404, "BadPath")),
            (
                Method::POST,
                "/3/device/xyz".into(),
                good(),
                body,
                (400, "BadDeviceToken"),
            ),
            (
                Method::POST,
                path(),
                headers(&[("apns-push-type", "mdm")]),
                body,
                (400, "MissingTopic"),
            ),
            (
                Method::POST,
                path(),
                headers(&[
                    ("apns-topic", "other"),
                    ("apns-push-type", "mdm"),
                    ("apns-expiration", "0"),
                ]),
                body,
                (400, "BadTopic"),
            ),
            (
                Method::POST,
                path(),
                headers(&[
                    ("apns-topic", TOPIC),
                    ("apns-push-type", "alert"),
                    ("apns-expiration", "0"),
                ]),
                body,
                (400, "InvalidPushType"),
            ),
            (
                Method::POST,
                path(),
                headers(&[("apns-topic", TOPIC), ("apns-push-type", "mdm")]),
                body,
                (400, "BadExpirationDate"),
            ),
            (Method::POST, path(), good(), b"", (400, "PayloadEmpty")),
            (
                Method::POST,
                path(),
                good(),
                b"{\"aps\":{},\"mdm\":\"M\"}",
                (400, "BadMdmPayload"),
            ),
            (
                Method::POST,
                path(),
                good(),
                b"{\"mdm\": \"M\"}",
                (400, "BadMdmPayload"),
            ),
        ];
        for (method, path, headers, body, want) in cases {
            let got = check(&method, &path, &headers, body, TOPIC).expect_err("refused");
            assert_eq!(got, want, "{method} {path}");
        }
    }
}
