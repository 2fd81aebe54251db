//! The one error type of command-svc, mapped once to the shared [`ErrorCode`].

use mdm_proto::ErrorCode;

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The report body is not a valid command report.
    #[error("malformed report: {0}")]
    InvalidReport(#[from] mdm_core::ParseError),
    /// The enqueue request is not acceptable.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The identity the edge forwarded does not fit the report.
    #[error("identity does not match the report: {0}")]
    IdentityMismatch(String),
    /// No such command.
    #[error("no command {0}")]
    NotFound(String),
    /// Enqueue named enrollments that are not enrolled (and did not allow it).
    #[error("{}", unknown_targets(.unknown, .checked_out))]
    UnknownTargets {
        /// Unknown to enroll-svc (a sample, with how many more).
        unknown: String,
        /// Checked out (a sample).
        checked_out: String,
    },
    /// Enqueue named enrollments Apple's schema says cannot run the command (and did not allow
    /// it): the message names them with the reasons.
    #[error("{0}")]
    UnsupportedTargets(String),
    /// enroll-svc could not be asked (targets at enqueue, ClearPasscode delivery).
    #[error("enroll-svc: {0}")]
    Enroll(tonic::Status),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Start-up: migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Start-up: the listener or a URL is unusable.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
    /// Start-up or serving: the gRPC transport failed.
    #[error("gRPC: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Start-up: a service URL is unusable.
    #[error("service URL: {0}")]
    Upstream(#[from] service_kit::upstream::UpstreamError),
}

/// A forwarded identity that fails its checks is a refusal (403), never "not managed".
impl From<mdm_proto::IdentityError> for Error {
    fn from(error: mdm_proto::IdentityError) -> Error {
        Error::IdentityMismatch(error.to_string())
    }
}

impl Error {
    /// The shared code this error is reported as.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidReport(_) | Error::InvalidRequest(_) => ErrorCode::InvalidMessage,
            Error::IdentityMismatch(_) => ErrorCode::AuthenticationFailed,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::UnknownTargets { .. } | Error::UnsupportedTargets(_) => {
                ErrorCode::InvalidMessage
            }
            // Whatever enroll-svc said, a failure to fetch a token is our fault, not the
            // device's: never let it become a 401 or 403 on the command channel.
            Error::Enroll(_) => ErrorCode::Unavailable,
            Error::Database(e) if service_kit::db::is_transient(e) => ErrorCode::Unavailable,
            Error::Database(_) => ErrorCode::Internal,
            Error::Migrate(_) | Error::Io(_) | Error::Transport(_) | Error::Upstream(_) => {
                ErrorCode::Internal
            }
        }
    }
}

fn unknown_targets(unknown: &str, checked_out: &str) -> String {
    let mut parts = Vec::new();
    if !unknown.is_empty() {
        parts.push(format!("not enrolled here: {unknown}"));
    }
    if !checked_out.is_empty() {
        parts.push(format!("checked out: {checked_out}"));
    }
    format!(
        "{} (nothing was queued; allow_unknown queues for enrollments to come)",
        parts.join("; ")
    )
}

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        let code = error.code();
        if matches!(code, ErrorCode::Internal | ErrorCode::Unavailable) {
            tracing::error!(%error, "command queue failed inside the server");
        }
        mdm_proto::status(code, error.to_string())
    }
}
