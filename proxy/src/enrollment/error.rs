//! Why an enrollment request failed, mapped once to an HTTP status. Nothing here is ever 401:
//! a device that is not enrolled yet has nothing to remove, and a 401 from any MDM endpoint
//! must keep meaning "not managed".

use crate::error::ProxyError;
use http::StatusCode;
use mdm_proto::ErrorCode;

/// A failed enrollment request.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    /// No such endpoint.
    #[error("no such endpoint")]
    NotFound,
    /// The endpoint exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A missing or malformed parameter.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The query string is over the limit.
    #[error("query string over {limit} bytes")]
    UriTooLong {
        /// The limit.
        limit: usize,
    },
    /// The body is over the limit.
    #[error("request body over {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// Reading the request failed.
    #[error("reading the request failed: {0}")]
    Read(String),
    /// enroll-svc refused or failed.
    #[error("{service}: {message}")]
    Backend {
        /// Which service.
        service: &'static str,
        /// Its code.
        code: ErrorCode,
        /// Its message.
        message: String,
    },
}

impl EnrollError {
    /// The wrapped gRPC failure.
    pub fn backend(service: &'static str, status: &tonic::Status) -> EnrollError {
        EnrollError::Backend {
            service,
            code: mdm_proto::code_of(status),
            message: status.message().to_owned(),
        }
    }

    /// The HTTP status to answer.
    pub fn status(&self) -> StatusCode {
        match self {
            EnrollError::NotFound => StatusCode::NOT_FOUND,
            EnrollError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            EnrollError::BadRequest(_) | EnrollError::Read(_) => StatusCode::BAD_REQUEST,
            EnrollError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            EnrollError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            // Refused credentials here are 403, never 401 (see the module comment).
            EnrollError::Backend {
                code: ErrorCode::NotManaged,
                ..
            } => StatusCode::FORBIDDEN,
            EnrollError::Backend { code, .. } => code.http_status(),
        }
    }

    /// Whether the connection cannot carry another request (body left unread).
    pub fn breaks_connection(&self) -> bool {
        matches!(self, EnrollError::TooLarge { .. } | EnrollError::Read(_))
    }
}

impl From<ProxyError> for EnrollError {
    /// Only [`crate::body::read_limited`]'s failures reach here.
    fn from(error: ProxyError) -> EnrollError {
        match error {
            ProxyError::TooLarge { limit } => EnrollError::TooLarge { limit },
            other => EnrollError::Read(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_enrollment_failure_is_401() {
        for code in ErrorCode::ALL {
            let error = EnrollError::backend("enroll-svc", &mdm_proto::status(code, "x"));
            assert_ne!(error.status(), StatusCode::UNAUTHORIZED, "{code}");
        }
        let refused = EnrollError::backend(
            "enroll-svc",
            &mdm_proto::status(ErrorCode::AuthenticationFailed, "bad token"),
        );
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let down = EnrollError::backend("enroll-svc", &tonic::Status::unavailable("down"));
        assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
