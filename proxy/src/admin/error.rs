//! Why an admin request failed, mapped once to an HTTP status and a stable error code.
//!
//! Unlike the device listener, 401 is right here: an administrator's tool does not unenroll
//! anything. Service failures still go through [`mdm_proto::code_of`], so a transport failure is
//! a 503 and never a 4xx the caller would act on.

use super::config::Scope;
use crate::error::ProxyError;
use http::StatusCode;
use mdm_proto::ErrorCode;

/// A failed admin request.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No, malformed or unknown bearer token.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// The token lacks a scope the request needs. Its name is kept for the log: a refused
    /// destructive command is worth an audit line too.
    #[error("token {caller:?} lacks the {} scope", missing.as_str())]
    Forbidden {
        /// The token's name.
        caller: String,
        /// The scope needed.
        missing: Scope,
    },
    /// No route for the path.
    #[error("no such endpoint")]
    NotFound,
    /// The path exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// The methods the path accepts, for the `Allow` header.
        allow: Vec<&'static str>,
    },
    /// The body is not JSON of the expected shape.
    #[error("{0}")]
    InvalidJson(String),
    /// The request is well-formed JSON but not acceptable (limits, missing reason, bad command).
    #[error("{0}")]
    Invalid(String),
    /// The body is over the configured limit.
    #[error("request body is over {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// Reading the request failed (client went away, timeout).
    #[error("reading the request failed: {0}")]
    Read(String),
    /// A fault in the proxy itself (e.g. a plist that would not serialize).
    #[error("{0}")]
    Internal(String),
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

impl AdminError {
    /// The wrapped gRPC failure from `service`.
    pub fn backend(service: &'static str, status: &tonic::Status) -> AdminError {
        AdminError::Backend {
            service,
            code: mdm_proto::code_of(status),
            message: status.message().to_string(),
        }
    }

    /// The HTTP status to answer.
    pub fn status(&self) -> StatusCode {
        match self {
            AdminError::Unauthorized => StatusCode::UNAUTHORIZED,
            AdminError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AdminError::NotFound => StatusCode::NOT_FOUND,
            AdminError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AdminError::InvalidJson(_) | AdminError::Invalid(_) | AdminError::Read(_) => {
                StatusCode::BAD_REQUEST
            }
            AdminError::TooLarge { .. } => ErrorCode::PayloadTooLarge.http_status(),
            AdminError::Internal(_) => ErrorCode::Internal.http_status(),
            AdminError::Backend { code, .. } => code.http_status(),
        }
    }

    /// The stable `error` field of the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            AdminError::Unauthorized => "unauthorized",
            AdminError::Forbidden { .. } => "forbidden",
            AdminError::NotFound => "not_found",
            AdminError::MethodNotAllowed { .. } => "method_not_allowed",
            AdminError::InvalidJson(_) => "invalid_json",
            AdminError::Invalid(_) | AdminError::Read(_) => ErrorCode::InvalidMessage.as_str(),
            AdminError::TooLarge { .. } => ErrorCode::PayloadTooLarge.as_str(),
            AdminError::Internal(_) => ErrorCode::Internal.as_str(),
            AdminError::Backend { code, .. } => code.as_str(),
        }
    }

    /// The `message` field: what went wrong, for the administrator. A server-side fault gets a
    /// generic text; its details (addresses, internals) stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            AdminError::Backend { service, code, .. } if code.http_status().is_server_error() => {
                format!("{service} failed or is unavailable; retry later")
            }
            AdminError::Internal(_) => "internal error".into(),
            other => other.to_string(),
        }
    }

    /// Whether the request body may be left unread on the connection, so that it cannot carry
    /// another request.
    pub fn breaks_connection(&self) -> bool {
        matches!(self, AdminError::TooLarge { .. } | AdminError::Read(_))
    }
}

impl From<ProxyError> for AdminError {
    /// Only [`crate::body::read_limited`]'s failures reach here.
    fn from(error: ProxyError) -> AdminError {
        match error {
            ProxyError::TooLarge { limit } => AdminError::TooLarge { limit },
            ProxyError::Read(why) => AdminError::Read(why),
            other => AdminError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_failures_map_through_the_shared_codes() {
        let refused = tonic::Status::unavailable("connection refused");
        let error = AdminError::backend("command-svc", &refused);
        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error.code(), "unavailable");
        assert!(!error.public_message().contains("refused"));

        let missing = mdm_proto::status(ErrorCode::NotFound, "no such command");
        let error = AdminError::backend("command-svc", &missing);
        assert_eq!(error.status(), StatusCode::NOT_FOUND);
        assert_eq!(error.code(), "not_found");
        assert!(error.public_message().contains("no such command"));
    }
}
