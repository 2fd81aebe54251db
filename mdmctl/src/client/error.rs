//! Why a call to the admin API failed, classified once, each with the hint that tells the
//! administrator what to do about it. The server's refusals are RFC 9457 problem documents
//! ([`mdm_api::Problem`]): their `detail` says what happened and their `code` which kind of
//! refusal it is.

use mdm_api::Problem;
use reqwest::StatusCode;
use std::error::Error as StdError;

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The server answered with an error status (and usually a problem document).
    #[error("the server refused: {detail} (HTTP {status}, {code})")]
    Refused {
        /// The HTTP status.
        status: StatusCode,
        /// The problem's stable code (`unauthorized`, `not_found`, ...), or `-` without one.
        code: String,
        /// The problem's detail, for the administrator.
        detail: String,
    },
    /// Nothing accepts connections at the address.
    #[error("cannot connect to {url}: connection refused")]
    ConnectionRefused {
        /// The server URL.
        url: String,
    },
    /// The TLS handshake failed because the server's certificate is not trusted.
    #[error("the server at {url} presented a certificate mdmctl does not trust ({detail})")]
    UntrustedCertificate {
        /// The server URL.
        url: String,
        /// rustls' reason.
        detail: String,
        /// Whether the reason is an unknown issuer (a private CA not given with --ca-file).
        unknown_issuer: bool,
    },
    /// No answer within the request timeout.
    #[error("{url} did not answer in time")]
    Timeout {
        /// The server URL.
        url: String,
    },
    /// Any other failure to reach the server (DNS, TLS, reset connection).
    #[error("cannot reach {url}: {detail}")]
    Unreachable {
        /// The server URL.
        url: String,
        /// The cause, with its chain.
        detail: String,
    },
    /// The server answered 2xx with something that is not the expected JSON.
    #[error("unexpected answer from {url}: {detail}")]
    BadAnswer {
        /// The request URL.
        url: String,
        /// What was wrong with it.
        detail: String,
    },
    /// A request body could not be written as JSON (a bug in mdmctl).
    #[error("mdmctl could not encode its request: {detail}")]
    Encoding {
        /// serde's reason.
        detail: String,
    },
}

impl ApiError {
    /// The refusal answered with `status`: the problem document's code and detail, or what can
    /// be said without one (a load balancer's HTML page, a proxy that is not admin-svc).
    pub fn refused(status: StatusCode, body: &[u8]) -> ApiError {
        match serde_json::from_slice::<Problem>(body) {
            Ok(problem) if !problem.code.is_empty() => ApiError::Refused {
                status,
                code: problem.code,
                detail: problem.detail,
            },
            _ => ApiError::Refused {
                status,
                code: "-".into(),
                detail: status
                    .canonical_reason()
                    .unwrap_or("no problem document")
                    .to_lowercase(),
            },
        }
    }

    /// Classifies a transport failure of a request to the server at `base`.
    pub fn transport(base: &str, error: reqwest::Error) -> ApiError {
        let url = base.to_owned();
        if error.is_timeout() {
            return ApiError::Timeout { url };
        }
        if let Some(tls) = find_rustls(&error) {
            let unknown_issuer = matches!(
                tls,
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
            );
            return ApiError::UntrustedCertificate {
                url,
                detail: tls.to_string(),
                unknown_issuer,
            };
        }
        if chain(&error).any(|e| {
            e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        }) {
            return ApiError::ConnectionRefused { url };
        }
        let detail = chain(&error)
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(": ");
        ApiError::Unreachable { url, detail }
    }

    /// Whether the same call may well succeed a moment later: the server or a service behind it
    /// is restarting or overloaded. Refusals (4xx) and untrusted certificates are not.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Refused { status, .. } => status.is_server_error(),
            ApiError::ConnectionRefused { .. }
            | ApiError::Timeout { .. }
            | ApiError::Unreachable { .. } => true,
            ApiError::UntrustedCertificate { .. }
            | ApiError::BadAnswer { .. }
            | ApiError::Encoding { .. } => false,
        }
    }

    /// What to do about it, when there is something to suggest.
    pub fn hint(&self) -> Option<String> {
        match self {
            ApiError::Refused { status, .. } => match *status {
                StatusCode::UNAUTHORIZED => {
                    Some("check the token (MDM_TOKEN / mdmctl config set token)".into())
                }
                StatusCode::FORBIDDEN => Some(
                    "use a token that has this scope (MDM_TOKEN / mdmctl config set token)".into(),
                ),
                StatusCode::NOT_FOUND => Some(
                    "check the ID: the noun's `list` shows them (`mdmctl devices list`, `mdmctl commands list`, `mdmctl webhooks list`, ...)"
                        .into(),
                ),
                // The request does not match the API's schema: the detail names the field. One
                // mdmctl did not take from the command line means the versions differ.
                StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => Some(
                    "if the detail names nothing you gave, mdmctl and the server are of different versions"
                        .into(),
                ),
                StatusCode::PAYLOAD_TOO_LARGE => Some(
                    "the request is over the server's body limit (admin-svc's max_body_bytes)"
                        .into(),
                ),
                status if status.is_server_error() => {
                    Some("the server or a service behind it is unavailable; retry later".into())
                }
                _ => None,
            },
            ApiError::ConnectionRefused { url } | ApiError::Timeout { url } => Some(format!(
                "is the server running at {url}? check MDM_URL (or --url / mdmctl config set url)"
            )),
            ApiError::UntrustedCertificate {
                unknown_issuer: true,
                ..
            } => Some(
                "pass --ca-file with the CA that signed the server's certificate (or set MDM_CA_FILE / mdmctl config set ca-file)"
                    .into(),
            ),
            ApiError::UntrustedCertificate { .. } => Some(
                "check that the URL's host name is one the server's certificate names, and --ca-file"
                    .into(),
            ),
            ApiError::Unreachable { .. } => Some("check MDM_URL (or --url)".into()),
            ApiError::BadAnswer { .. } => Some(
                "is MDM_URL the admin API (admin-svc), and mdmctl of the server's version?".into(),
            ),
            ApiError::Encoding { .. } => None,
        }
    }
}

/// The error and its sources, including what an `io::Error` wraps: `io::Error::source` skips
/// its own payload, which is where hyper puts rustls' error.
fn chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    let mut next = Some(error);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn StdError + 'static))
                .or_else(|| current.source()),
            None => current.source(),
        };
        Some(current)
    })
}

fn find_rustls<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    chain(error).find_map(|e| e.downcast_ref::<rustls::Error>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustls_errors_inside_io_errors_are_found() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        let found = find_rustls(&io).expect("found through the io::Error payload");
        assert!(matches!(
            found,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
        ));
    }

    #[test]
    fn each_status_has_its_advice() {
        let refused = |status| ApiError::Refused {
            status,
            code: "x".into(),
            detail: "m".into(),
        };
        let hint = refused(StatusCode::UNAUTHORIZED).hint().expect("hint");
        assert!(hint.contains("MDM_TOKEN"), "{hint}");
        assert!(refused(StatusCode::SERVICE_UNAVAILABLE)
            .hint()
            .is_some_and(|h| h.contains("retry")));
        assert_eq!(refused(StatusCode::UNPROCESSABLE_ENTITY).hint(), None);
        assert!(refused(StatusCode::BAD_REQUEST)
            .hint()
            .is_some_and(|h| h.contains("versions")));
        let hint = ApiError::ConnectionRefused {
            url: "https://127.0.0.1:1".into(),
        }
        .hint()
        .expect("hint");
        assert!(hint.contains("https://127.0.0.1:1") && hint.contains("MDM_URL"));
    }

    #[test]
    fn problem_documents_are_read_and_missing_ones_described() {
        let body = br#"{"type":"urn:mdm:problem:not_found","title":"Not Found","status":404,
                        "detail":"no such command","code":"not_found"}"#;
        let error = ApiError::refused(StatusCode::NOT_FOUND, body);
        assert_eq!(
            error.to_string(),
            "the server refused: no such command (HTTP 404 Not Found, not_found)"
        );
        match ApiError::refused(StatusCode::BAD_GATEWAY, b"<html>") {
            ApiError::Refused { code, detail, .. } => {
                assert_eq!((code.as_str(), detail.as_str()), ("-", "bad gateway"))
            }
            other => panic!("{other:?}"),
        }
        // The proxy's old error body is not a problem document.
        let old = br#"{"error":"not_found","message":"no such command"}"#;
        assert!(matches!(
            ApiError::refused(StatusCode::NOT_FOUND, old),
            ApiError::Refused { code, .. } if code == "-"
        ));
    }
}
