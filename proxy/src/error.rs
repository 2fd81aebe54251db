//! Why a device request failed, mapped once to an HTTP status (docs/architecture.md §4).

use http::StatusCode;
use mdm_proto::ErrorCode;

/// A failed device request.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// No or unusable client identity (the handshake should have refused it).
    #[error("no verified client certificate")]
    NoClientCertificate,
    /// The Mdm-Signature header is missing its marks: garbage, tampered body, wrong key or CA.
    #[error("Mdm-Signature refused: {0}")]
    BadSignature(mdm_pki::signature::SignatureError),
    /// A forwarded client certificate from an untrusted address, or one that does not verify.
    #[error("forwarded client certificate refused: {0}")]
    UntrustedForwardedCertificate(String),
    /// The certificate does not speak for the message's device.
    #[error("identity mismatch: {0}")]
    IdentityMismatch(String),
    /// The body is not a valid MDM message.
    #[error("malformed message: {0}")]
    Malformed(#[from] mdm_core::ParseError),
    /// A message that does not belong on this path.
    #[error("{0}")]
    WrongEndpoint(&'static str),
    /// The body is over the configured limit.
    #[error("request body is over {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// Reading the request failed (client went away, timeout).
    #[error("reading the request failed: {0}")]
    Read(String),
    /// No route.
    #[error("no such endpoint")]
    NotFound,
    /// Wrong HTTP method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A service answered with an error or could not be reached.
    #[error("{service}: {message}")]
    Backend {
        /// Which service.
        service: &'static str,
        /// What it said.
        code: ErrorCode,
        /// Its message.
        message: String,
    },
}

impl ProxyError {
    /// The wrapped gRPC failure from `service`.
    pub fn backend(service: &'static str, status: &tonic::Status) -> ProxyError {
        ProxyError::Backend {
            service,
            code: mdm_proto::code_of(status),
            message: status.message().to_string(),
        }
    }

    /// The HTTP status to answer. Only a service's explicit `NotManaged` becomes 401.
    pub fn status(&self) -> StatusCode {
        match self {
            ProxyError::NoClientCertificate
            | ProxyError::IdentityMismatch(_)
            | ProxyError::BadSignature(_)
            | ProxyError::UntrustedForwardedCertificate(_) => {
                ErrorCode::AuthenticationFailed.http_status()
            }
            ProxyError::Malformed(_) | ProxyError::WrongEndpoint(_) | ProxyError::Read(_) => {
                ErrorCode::InvalidMessage.http_status()
            }
            ProxyError::TooLarge { .. } => ErrorCode::PayloadTooLarge.http_status(),
            ProxyError::NotFound => StatusCode::NOT_FOUND,
            ProxyError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ProxyError::Backend { code, .. } => code.http_status(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_failures_are_503_and_never_401() {
        let refused = tonic::Status::unavailable("connection refused");
        assert_eq!(
            ProxyError::backend("enroll-svc", &refused).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let not_managed = mdm_proto::status(ErrorCode::NotManaged, "gone");
        assert_eq!(
            ProxyError::backend("enroll-svc", &not_managed).status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            ProxyError::IdentityMismatch("x".into()).status(),
            StatusCode::FORBIDDEN
        );
    }
}
