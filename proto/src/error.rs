//! The shared error codes and their one mapping to gRPC and HTTP.
//!
//! A service turns its error into a [`tonic::Status`] with [`status`], which carries the
//! [`ErrorCode`] in the `mdm-error-code` metadata entry beside a coarse gRPC code. The edge reads
//! it back with [`code_of`] and answers [`ErrorCode::http_status`]. The device-facing status codes
//! are part of the MDM protocol: a device removes its MDM profile on HTTP 401, so only an explicit
//! [`ErrorCode::NotManaged`] from a service may ever become a 401. Anything the edge cannot
//! attribute (a transport failure, an unknown code, a missing entry) becomes a 5xx.

use http::StatusCode;
use tonic::{metadata::MetadataValue, Code, Status};

/// The metadata key that carries an [`ErrorCode`] on a failed gRPC call.
pub const ERROR_CODE_METADATA: &str = "mdm-error-code";

/// Why a call failed, in terms both the services and the edge understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The message is malformed, misses required keys or has an unknown type.
    InvalidMessage,
    /// The body or a header is over its limit.
    PayloadTooLarge,
    /// The caller could not be authenticated, or its identity does not match the message or the
    /// certificate bound to the enrollment.
    AuthenticationFailed,
    /// A validly authenticated device that this server does not manage (never enrolled, checked
    /// out, retired). The only code that becomes HTTP 401.
    NotManaged,
    /// The server declines the request (UserAuthenticate by default).
    Declined,
    /// The named object does not exist (admin API).
    NotFound,
    /// The request conflicts with the current state (admin API).
    Conflict,
    /// A dependency is down or timed out; retrying later may succeed.
    Unavailable,
    /// A fault inside the server.
    Internal,
}

impl ErrorCode {
    /// Every code, for exhaustive tests and documentation.
    pub const ALL: [ErrorCode; 9] = [
        ErrorCode::InvalidMessage,
        ErrorCode::PayloadTooLarge,
        ErrorCode::AuthenticationFailed,
        ErrorCode::NotManaged,
        ErrorCode::Declined,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    /// The stable name used on the wire and in JSON error bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidMessage => "invalid_message",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::AuthenticationFailed => "authentication_failed",
            ErrorCode::NotManaged => "not_managed",
            ErrorCode::Declined => "declined",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    /// Parses a name produced by [`ErrorCode::as_str`].
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == name)
    }

    /// The coarse gRPC code sent beside the metadata entry.
    pub fn grpc_code(self) -> Code {
        match self {
            ErrorCode::InvalidMessage => Code::InvalidArgument,
            ErrorCode::PayloadTooLarge => Code::OutOfRange,
            ErrorCode::AuthenticationFailed => Code::PermissionDenied,
            ErrorCode::NotManaged => Code::FailedPrecondition,
            ErrorCode::Declined => Code::Aborted,
            ErrorCode::NotFound => Code::NotFound,
            ErrorCode::Conflict => Code::AlreadyExists,
            ErrorCode::Unavailable => Code::Unavailable,
            ErrorCode::Internal => Code::Internal,
        }
    }

    /// The HTTP status the edge answers (docs/architecture.md §4).
    pub fn http_status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidMessage => StatusCode::BAD_REQUEST,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            // Never 401 for a failed authentication: the device would unenroll.
            ErrorCode::AuthenticationFailed => StatusCode::FORBIDDEN,
            ErrorCode::NotManaged => StatusCode::UNAUTHORIZED,
            ErrorCode::Declined => StatusCode::GONE,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest status message sent, in bytes. Messages often quote what a client sent (an ID, a
/// parameter); gRPC carries them in an HTTP/2 header, and an unbounded one overflowed the peer's
/// header limit, turning a client's mistake into a 500.
pub const MAX_STATUS_MESSAGE: usize = 512;

/// `text` cut to at most `max` bytes on a character boundary, with `…` when cut: for messages
/// and log fields that may quote client input.
pub fn bounded(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!("{}…", &text[..end]))
}

/// Builds the [`Status`] a service returns for `code`; the message is bounded to
/// [`MAX_STATUS_MESSAGE`] bytes.
pub fn status(code: ErrorCode, message: impl Into<String>) -> Status {
    let message: String = message.into();
    let message = bounded(&message, MAX_STATUS_MESSAGE).into_owned();
    let mut status = Status::new(code.grpc_code(), message);
    status.metadata_mut().insert(
        ERROR_CODE_METADATA,
        MetadataValue::from_static(code.as_str()),
    );
    status
}

/// The [`ErrorCode`] behind a failed call, as the edge must interpret it.
///
/// The metadata entry wins when present and known. Without it the call failed outside our
/// services' error handling (connection refused, timeout, a proxy in between), so the coarse
/// code is mapped conservatively: never to [`ErrorCode::NotManaged`].
pub fn code_of(status: &Status) -> ErrorCode {
    let stated = status
        .metadata()
        .get(ERROR_CODE_METADATA)
        .and_then(|value| value.to_str().ok())
        .and_then(ErrorCode::from_name);
    if let Some(code) = stated {
        return code;
    }
    match status.code() {
        Code::InvalidArgument => ErrorCode::InvalidMessage,
        Code::PermissionDenied | Code::Unauthenticated => ErrorCode::AuthenticationFailed,
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::ResourceExhausted => {
            ErrorCode::Unavailable
        }
        // Unknown is what tonic reports for a connection that broke mid-call.
        Code::Unknown => ErrorCode::Unavailable,
        _ => ErrorCode::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_a_status() {
        for code in ErrorCode::ALL {
            let status = status(code, "why");
            assert_eq!(status.code(), code.grpc_code());
            assert_eq!(code_of(&status), code);
            assert_eq!(ErrorCode::from_name(code.as_str()), Some(code));
        }
    }

    #[test]
    fn status_messages_are_bounded_on_a_character_boundary() {
        let long = format!("no device {}", "é".repeat(20_000));
        let status = status(ErrorCode::NotFound, long);
        assert!(status.message().len() <= MAX_STATUS_MESSAGE);
        assert!(status.message().ends_with('…'));
        assert_eq!(bounded("short", 10), "short");
        assert_eq!(bounded("abcdef", 4), "a…");
    }

    #[test]
    fn only_not_managed_is_http_401() {
        for code in ErrorCode::ALL {
            let is_401 = code.http_status() == StatusCode::UNAUTHORIZED;
            assert_eq!(is_401, code == ErrorCode::NotManaged, "{code}");
        }
    }

    #[test]
    fn a_bare_status_never_becomes_not_managed() {
        // A transport failure or a foreign server must not make a device unenroll.
        for raw in 0..=16 {
            let code = code_of(&Status::new(Code::from(raw), "bare"));
            assert_ne!(code, ErrorCode::NotManaged, "grpc code {raw}");
        }
        assert_eq!(
            code_of(&Status::new(Code::Unavailable, "refused")),
            ErrorCode::Unavailable
        );
        assert_eq!(
            code_of(&Status::new(Code::Unauthenticated, "x")).http_status(),
            StatusCode::FORBIDDEN
        );
    }

    #[test]
    fn an_unknown_metadata_value_falls_back_to_the_grpc_code() {
        let mut status = Status::new(Code::FailedPrecondition, "x");
        status
            .metadata_mut()
            .insert(ERROR_CODE_METADATA, MetadataValue::from_static("bogus"));
        assert_eq!(code_of(&status), ErrorCode::Internal);
    }
}
