//! The one error type of enroll-svc, mapped once to the shared [`ErrorCode`].

use mdm_pki::profile::ProfileError;
use mdm_proto::ErrorCode;

/// Why a check-in or a query failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not a valid check-in message.
    #[error("malformed check-in message: {0}")]
    InvalidMessage(#[from] mdm_core::ParseError),
    /// The identity the edge sent does not fit the message (or is incomplete).
    #[error("identity does not match the message: {0}")]
    IdentityMismatch(String),
    /// The presented certificate is not the one bound to this enrollment.
    #[error("the certificate is not the one bound to enrollment {0}")]
    CertificateMismatch(String),
    /// An Authenticate whose certificate does not prove it belongs to the device (audited).
    #[error("binding refused: {0}")]
    RebindRefused(String),
    /// The enrollment does not exist or is checked out.
    #[error("enrollment {0} is not managed by this server")]
    NotManaged(String),
    /// UserAuthenticate: this server does not accept user channels by digest challenge.
    #[error("user authentication is declined")]
    Declined,
    /// No such enrollment (queries).
    #[error("no enrollment {0}")]
    NotFound(String),
    /// Something else that does not exist (a declaration, a set), said whole.
    #[error("{0}")]
    Absent(String),
    /// push-svc could not register or remove a push target.
    #[error("push-svc: {}", .0.message())]
    PushService(tonic::Status),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A sealed secret could not be opened (wrong key configured?).
    #[error(transparent)]
    Secret(#[from] service_kit::secrets::SecretError),
    /// Start-up: migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Start-up: the listener's address cannot be read.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
    /// Start-up or serving: the gRPC transport failed.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Start-up: a service URL is unusable.
    #[error("service URL: {0}")]
    Upstream(#[from] service_kit::upstream::UpstreamError),
    /// A SCEP message that no CertRep can answer (garbage, no transaction or signer).
    #[error(transparent)]
    Scep(#[from] mdm_pki::scep::ScepError),
    /// A device's signed answer (OTA) or a profile: bad signature, untrusted signer, malformed.
    #[error("profile: {0}")]
    Profile(#[from] mdm_pki::profile::ProfileError),
    /// Missing, unknown, expired, revoked or used-up enrollment token.
    #[error("the enrollment token is not valid")]
    InvalidToken,
    /// An OTA answer whose challenge or signer does not belong to an enrollment in progress.
    #[error("OTA enrollment refused: {0}")]
    OtaRefused(String),
    /// The client certificate was revoked.
    #[error("certificate {0} is revoked")]
    Revoked(String),
    /// The request conflicts with the current state (a migration of an enrollment active here).
    #[error("{0}")]
    Conflict(String),
    /// A request with a bad parameter (admin API, SCEP operation).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The `[enrollment]` section is missing: profiles cannot be made.
    #[error("enrollment is not configured ([enrollment] in enroll-svc's configuration)")]
    NotConfigured,
    /// Start-up: the CA or profile-signing material is unusable.
    #[error("CA set-up: {0}")]
    CaSetup(String),
    /// OpenSSL failed while building a certificate or profile.
    #[error("crypto: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
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
            Error::InvalidMessage(_) => ErrorCode::InvalidMessage,
            Error::IdentityMismatch(_)
            | Error::CertificateMismatch(_)
            | Error::RebindRefused(_) => ErrorCode::AuthenticationFailed,
            Error::NotManaged(_) => ErrorCode::NotManaged,
            Error::Declined => ErrorCode::Declined,
            Error::NotFound(_) | Error::Absent(_) => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            // The device's push target named a topic push-svc has no certificate for: the
            // device's message (or the profile it came from) is wrong, loudly, at enrollment.
            Error::PushService(s) if mdm_proto::code_of(s) == ErrorCode::InvalidMessage => {
                ErrorCode::InvalidMessage
            }
            // Anything else push-svc said is a fault on our side, never the device's.
            Error::PushService(_) => ErrorCode::Unavailable,
            Error::Database(e) if service_kit::db::is_transient(e) => ErrorCode::Unavailable,
            Error::Database(_) => ErrorCode::Internal,
            Error::Secret(_)
            | Error::Migrate(_)
            | Error::Io(_)
            | Error::Transport(_)
            | Error::Upstream(_) => ErrorCode::Internal,
            Error::Scep(e) => match e {
                mdm_pki::scep::ScepError::OpenSsl(_) => ErrorCode::Internal,
                _ => ErrorCode::InvalidMessage,
            },
            Error::Profile(e) => match e {
                ProfileError::Signature(_) | ProfileError::Chain(_) => {
                    ErrorCode::AuthenticationFailed
                }
                ProfileError::Invalid(_) | ProfileError::Plist(_) => ErrorCode::InvalidMessage,
                ProfileError::OpenSsl(_) => ErrorCode::Internal,
            },
            // An enrollment URL is never answered 401: nothing is enrolled yet to remove.
            Error::InvalidToken | Error::OtaRefused(_) | Error::Revoked(_) => {
                ErrorCode::AuthenticationFailed
            }
            Error::InvalidRequest(_) => ErrorCode::InvalidMessage,
            Error::NotConfigured | Error::CaSetup(_) | Error::Crypto(_) => ErrorCode::Internal,
        }
    }
}

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        let code = error.code();
        if matches!(code, ErrorCode::Internal | ErrorCode::Unavailable) {
            tracing::error!(%error, "request failed inside the server");
        }
        mdm_proto::status(code, error.to_string())
    }
}
