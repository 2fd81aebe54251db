//! The route table and the router. [`ROUTES`] is the one list of endpoints: the router matches
//! against it and `tests/openapi_sync.rs` checks `openapi.json` documents exactly these.

use super::error::AdminError;
use percent_encoding::percent_decode_str;

/// Every endpoint as `(method, path template)`; `{name}` matches one non-empty path segment.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/commands"),
    ("GET", "/v1/commands/{uuid}"),
    ("DELETE", "/v1/commands/{uuid}"),
    ("GET", "/v1/devices"),
    ("GET", "/v1/devices/{id}"),
    ("GET", "/v1/devices/{id}/commands"),
    ("POST", "/v1/devices/{id}/approve-reenrollment"),
    ("POST", "/v1/push"),
    ("GET", "/v1/push-certificate"),
    ("PUT", "/v1/push-certificate"),
    ("POST", "/v1/enrollment-tokens"),
    ("GET", "/v1/enrollment-tokens"),
    ("DELETE", "/v1/enrollment-tokens/{id}"),
    ("GET", "/v1/certificates/{serial}"),
    ("POST", "/v1/certificates/{serial}/revoke"),
    ("GET", "/v1/openapi.json"),
];

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /v1/commands`
    EnqueueCommand,
    /// `GET /v1/commands/{uuid}`
    GetCommand,
    /// `DELETE /v1/commands/{uuid}`
    CancelCommand,
    /// `GET /v1/devices`
    ListDevices,
    /// `GET /v1/devices/{id}`
    GetDevice,
    /// `GET /v1/devices/{id}/commands`
    ListDeviceCommands,
    /// `POST /v1/devices/{id}/approve-reenrollment`
    ApproveReenrollment,
    /// `POST /v1/push`
    Push,
    /// `GET /v1/push-certificate`
    GetPushCertificate,
    /// `PUT /v1/push-certificate`
    UploadPushCertificate,
    /// `POST /v1/enrollment-tokens`
    CreateEnrollmentToken,
    /// `GET /v1/enrollment-tokens`
    ListEnrollmentTokens,
    /// `DELETE /v1/enrollment-tokens/{id}`
    RevokeEnrollmentToken,
    /// `GET /v1/certificates/{serial}`
    GetCertificate,
    /// `POST /v1/certificates/{serial}/revoke`
    RevokeCertificate,
    /// `GET /v1/openapi.json` (no token needed)
    OpenApi,
}

impl Route {
    /// The route of a [`ROUTES`] entry.
    fn of(method: &str, template: &str) -> Option<Route> {
        Some(match (method, template) {
            ("POST", "/v1/commands") => Route::EnqueueCommand,
            ("GET", "/v1/commands/{uuid}") => Route::GetCommand,
            ("DELETE", "/v1/commands/{uuid}") => Route::CancelCommand,
            ("GET", "/v1/devices") => Route::ListDevices,
            ("GET", "/v1/devices/{id}") => Route::GetDevice,
            ("GET", "/v1/devices/{id}/commands") => Route::ListDeviceCommands,
            ("POST", "/v1/devices/{id}/approve-reenrollment") => Route::ApproveReenrollment,
            ("POST", "/v1/push") => Route::Push,
            ("GET", "/v1/push-certificate") => Route::GetPushCertificate,
            ("PUT", "/v1/push-certificate") => Route::UploadPushCertificate,
            ("POST", "/v1/enrollment-tokens") => Route::CreateEnrollmentToken,
            ("GET", "/v1/enrollment-tokens") => Route::ListEnrollmentTokens,
            ("DELETE", "/v1/enrollment-tokens/{id}") => Route::RevokeEnrollmentToken,
            ("GET", "/v1/certificates/{serial}") => Route::GetCertificate,
            ("POST", "/v1/certificates/{serial}/revoke") => Route::RevokeCertificate,
            ("GET", "/v1/openapi.json") => Route::OpenApi,
            _ => return None,
        })
    }
}

/// A matched request: the route and its path parameters, percent-decoded, in template order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// The route.
    pub route: Route,
    /// Decoded `{…}` segments.
    pub params: Vec<String>,
}

impl Matched {
    /// The first path parameter (every parameterised route has exactly one).
    pub fn param(&self) -> &str {
        self.params.first().map_or("", String::as_str)
    }
}

/// Longest path parameter accepted once decoded: a user channel's `<device>:<user>` of two
/// maximal IDs. Anything longer names nothing, and would be echoed into messages and logs.
pub const MAX_PARAM_BYTES: usize = 2 * mdm_core::MAX_ID_LEN + 1;

/// Finds the route of `method` and `path` (without the query). A known path with another method
/// is 405 with the methods it allows; an unknown path is 404.
pub fn resolve(method: &str, path: &str) -> Result<Matched, AdminError> {
    let mut allow = Vec::new();
    for &(route_method, template) in ROUTES {
        let Some(params) = match_template(template, path)? else {
            continue;
        };
        if route_method != method {
            allow.push(route_method);
            continue;
        }
        let route = Route::of(route_method, template).ok_or(AdminError::NotFound)?;
        return Ok(Matched { route, params });
    }
    if allow.is_empty() {
        Err(AdminError::NotFound)
    } else {
        Err(AdminError::MethodNotAllowed { allow })
    }
}

/// Matches one template; `Ok(None)` when it does not fit. Segments are compared before decoding,
/// so an encoded `/` (`%2F`) stays inside its parameter instead of splitting the path.
fn match_template(template: &str, path: &str) -> Result<Option<Vec<String>>, AdminError> {
    let mut expected = template.split('/');
    let mut actual = path.split('/');
    let mut params = Vec::new();
    loop {
        match (expected.next(), actual.next()) {
            (None, None) => return Ok(Some(params)),
            (Some(want), Some(got)) if want.starts_with('{') && want.ends_with('}') => {
                if got.is_empty() {
                    return Ok(None);
                }
                if got.len() > 3 * MAX_PARAM_BYTES {
                    return Err(AdminError::Invalid(format!(
                        "a path parameter is longer than {MAX_PARAM_BYTES} bytes"
                    )));
                }
                let decoded = percent_decode_str(got).decode_utf8().map_err(|_| {
                    AdminError::Invalid("a path segment is not UTF-8 once decoded".into())
                })?;
                if decoded.len() > MAX_PARAM_BYTES || decoded.chars().any(char::is_control) {
                    return Err(AdminError::Invalid(format!(
                        "a path parameter must be at most {MAX_PARAM_BYTES} bytes without control characters"
                    )));
                }
                params.push(decoded.into_owned());
            }
            (Some(want), Some(got)) if want == got => {}
            _ => return Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_has_a_distinct_route() {
        let mut seen = Vec::new();
        for &(method, template) in ROUTES {
            let route = Route::of(method, template).expect("every entry is routed");
            assert!(!seen.contains(&route), "{method} {template}");
            seen.push(route);
        }
    }

    #[test]
    fn paths_match_with_parameters() {
        let m = resolve("GET", "/v1/devices").expect("list");
        assert_eq!(m.route, Route::ListDevices);
        let m = resolve("GET", "/v1/devices/ABC-123/commands").expect("history");
        assert_eq!(m.route, Route::ListDeviceCommands);
        assert_eq!(m.param(), "ABC-123");
        let m = resolve("DELETE", "/v1/commands/0b1c").expect("cancel");
        assert_eq!((m.route, m.param()), (Route::CancelCommand, "0b1c"));
    }

    #[test]
    fn parameters_are_percent_decoded() {
        // A user channel's enrollment ID is "<device>:<user>"; clients may encode the colon.
        let m = resolve("GET", "/v1/devices/UDID-1%3AUSER%2F2").expect("device");
        assert_eq!(m.route, Route::GetDevice);
        assert_eq!(m.param(), "UDID-1:USER/2");
        let m = resolve("GET", "/v1/devices/UDID-1:USER-2").expect("raw colon");
        assert_eq!(m.param(), "UDID-1:USER-2");
        assert!(matches!(
            resolve("GET", "/v1/devices/%FF"),
            Err(AdminError::Invalid(_))
        ));
    }

    #[test]
    fn long_parameters_are_400_before_anything_is_asked() {
        let long = "A".repeat(100_000);
        for path in [
            format!("/v1/devices/{long}"),
            format!("/v1/commands/{long}"),
            format!("/v1/devices/{}", "%41".repeat(MAX_PARAM_BYTES + 1)),
        ] {
            match resolve("GET", &path) {
                Err(AdminError::Invalid(message)) => assert!(message.len() < 200),
                other => panic!("expected 400, got {other:?}"),
            }
        }
        assert!(resolve("GET", "/v1/devices/a%0Ab").is_err());
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405() {
        for path in [
            "/",
            "/v1",
            "/v1/devices/",
            "/v1/devices//commands",
            "/v1/devices/a/b",
            "/v2/devices",
        ] {
            assert!(
                matches!(resolve("GET", path), Err(AdminError::NotFound)),
                "{path}"
            );
        }
        match resolve("PUT", "/v1/commands/x") {
            Err(AdminError::MethodNotAllowed { allow }) => assert_eq!(allow, ["GET", "DELETE"]),
            other => panic!("expected 405, got {other:?}"),
        }
        assert!(matches!(
            resolve("GET", "/v1/commands"),
            Err(AdminError::MethodNotAllowed { .. })
        ));
    }
}
