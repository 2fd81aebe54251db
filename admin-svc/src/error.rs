//! Why an admin request failed, answered once as an RFC 9457 problem document.
//!
//! Unlike the device listener, 401 is right here: an administrator's tool does not unenroll
//! anything. A service's failure goes through [`mdm_proto::code_of`], so a transport failure is a
//! 503 and never a 4xx the caller would act on; a server-side fault's details stay in the log.

use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use mdm_api::problem::PROBLEM_JSON;
use mdm_api::{Problem, Scope};
use mdm_proto::ErrorCode;

/// A failed admin request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No, malformed, unknown, expired or revoked bearer token.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// The token lacks a scope the request needs.
    #[error("token {caller:?} lacks the {missing} scope")]
    Forbidden {
        /// The token's name.
        caller: String,
        /// The scope needed.
        missing: Scope,
    },
    /// A console request that changes state without its session's CSRF token: a page of
    /// another site may have sent it in the administrator's name.
    #[error(
        "a console request that changes anything must carry the session's X-CSRF-Token header"
    )]
    CsrfRejected,
    /// No route for the path.
    #[error("no such endpoint")]
    NoRoute,
    /// The path exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The named object does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request does not match the OpenAPI document (a body or parameter of the wrong
    /// shape, a constraint the schema states).
    #[error("{0}")]
    Malformed(String),
    /// The request matches the document, but its values cannot be used: a time already past,
    /// a device that is not enrolled, a cursor of another list, a rule across fields.
    #[error("{0}")]
    Invalid(String),
    /// The request conflicts with the current state (a name already used).
    #[error("{0}")]
    Conflict(String),
    /// The body is over the configured limit.
    #[error("the request body is over {0} bytes")]
    TooLarge(usize),
    /// The body's media type is not JSON.
    #[error("send the body as application/json")]
    UnsupportedMediaType,
    /// A fault in admin-svc itself (its database, a value that would not serialize).
    #[error("{0}")]
    Internal(String),
    /// admin-svc's database is unavailable for the moment.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
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

impl ApiError {
    /// The wrapped gRPC failure from `service`.
    pub fn backend(service: &'static str, status: &tonic::Status) -> ApiError {
        ApiError::Backend {
            service,
            code: mdm_proto::code_of(status),
            message: status.message().to_owned(),
        }
    }

    /// The HTTP status to answer.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } | ApiError::CsrfRejected => StatusCode::FORBIDDEN,
            ApiError::NoRoute | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            // The request passed the document: what a service refuses is about its values.
            ApiError::Backend {
                code: ErrorCode::InvalidMessage,
                ..
            } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Database(e) if service_kit::db::is_transient(e) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
            // A service's "not managed" is a device's status, not the caller's: 404 here.
            ApiError::Backend {
                code: ErrorCode::NotManaged,
                ..
            } => StatusCode::NOT_FOUND,
            // Whatever a service said about identity is a fault of the call, not the caller's.
            ApiError::Backend {
                code: ErrorCode::AuthenticationFailed,
                ..
            } => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Backend { code, .. } => code.http_status(),
        }
    }

    /// The stable `code` of the problem.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::CsrfRejected => "csrf_rejected",
            ApiError::NoRoute | ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Malformed(_) => "malformed_request",
            ApiError::Invalid(_) => "invalid_request",
            ApiError::Conflict(_) => "conflict",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Internal(_) | ApiError::Database(_) | ApiError::Backend { .. } => {
                match self.status() {
                    StatusCode::SERVICE_UNAVAILABLE => "unavailable",
                    StatusCode::NOT_FOUND => "not_found",
                    StatusCode::UNPROCESSABLE_ENTITY => "invalid_request",
                    StatusCode::CONFLICT => "conflict",
                    StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
                    _ => "internal",
                }
            }
        }
    }

    /// What the administrator reads: the cause, except for a server-side fault, whose details
    /// (addresses, internals) stay in the log.
    pub fn detail(&self) -> String {
        match self {
            ApiError::Backend { service, .. } if self.status().is_server_error() => {
                format!("{service} failed or is unavailable; retry later")
            }
            ApiError::Internal(_) | ApiError::Database(_) if self.status().is_server_error() => {
                "admin-svc failed or its database is unavailable; retry later".into()
            }
            other => mdm_proto::bounded(&other.to_string(), 1024).into_owned(),
        }
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        Problem::new(
            status.as_u16(),
            status.canonical_reason().unwrap_or("Error"),
            self.code(),
            self.detail(),
        )
    }
}

/// A service's answer for an optional part of a document: "no such object" (NotFound) is
/// `None`, a state to show; any other failure stays one (a transport failure, which carries no
/// error code, is never taken for "none").
pub fn optional<T>(
    service: &'static str,
    answer: Result<tonic::Response<T>, tonic::Status>,
) -> Result<Option<T>, ApiError> {
    match answer {
        Ok(found) => Ok(Some(found.into_inner())),
        Err(status) if mdm_proto::code_of(&status) == ErrorCode::NotFound => Ok(None),
        Err(status) => Err(ApiError::backend(service, &status)),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, %status, "admin request failed");
        } else {
            tracing::debug!(error = %self, %status, "admin request refused");
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if matches!(self, ApiError::Unauthorized) {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_such_object_is_none_and_any_other_failure_is_a_failure() {
        let none = mdm_proto::status(ErrorCode::NotFound, "no push certificate is installed");
        assert!(matches!(optional::<()>("push-svc", Err(none)), Ok(None)));
        let info = tonic::Response::new("com.apple.mgmt.test");
        assert!(matches!(
            optional("push-svc", Ok(info)),
            Ok(Some("com.apple.mgmt.test"))
        ));
        for code in [ErrorCode::Unavailable, ErrorCode::Internal] {
            let failed = optional::<()>("push-svc", Err(mdm_proto::status(code, "down")));
            assert!(
                matches!(failed, Err(ApiError::Backend { service: "push-svc", code: c, .. }) if c == code),
                "{code}"
            );
        }
        // A transport failure (no error-code metadata) is never taken for "none installed".
        let broken = optional::<()>("push-svc", Err(tonic::Status::unavailable("refused")));
        assert!(matches!(broken, Err(ApiError::Backend { .. })));
    }

    #[test]
    fn a_service_fault_is_503_with_a_generic_detail() {
        let error = ApiError::backend(
            "command-svc",
            &tonic::Status::unavailable("connect 10.0.0.7:50052 refused"),
        );
        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
        let problem = error.problem();
        assert_eq!(problem.code, "unavailable");
        assert!(!problem.detail.contains("10.0.0.7"), "{}", problem.detail);
    }

    #[test]
    fn a_service_refusal_keeps_its_status_and_words() {
        let error = ApiError::backend(
            "command-svc",
            &mdm_proto::status(ErrorCode::InvalidMessage, "checked out: D1"),
        );
        assert_eq!(error.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(error.problem().detail.contains("D1"));
        let missing =
            ApiError::backend("enroll-svc", &mdm_proto::status(ErrorCode::NotManaged, "x"));
        assert_eq!(
            missing.status(),
            StatusCode::NOT_FOUND,
            "never a 401 from a device's state"
        );
    }
}
