//! The one error type of push-svc, mapped once to the shared [`ErrorCode`].

use mdm_proto::ErrorCode;

/// Why a push-svc operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is not acceptable (missing fields, too many IDs, bad environment).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The upload holds no readable certificate or key.
    #[error("unreadable push certificate: {0}")]
    Unreadable(String),
    /// The certificate has no `com.apple.mgmt.` UID attribute: it cannot carry MDM pushes.
    #[error(
        "not an MDM push certificate: {0}. An MDM push certificate's subject has a UID \
         attribute (OID 0.9.2342.19200300.100.1.1) starting with com.apple.mgmt. — download \
         it from Apple's Push Certificates Portal"
    )]
    NotPushCertificate(String),
    /// The private key does not belong to the certificate.
    #[error("the private key does not match the push certificate")]
    KeyMismatch,
    /// The certificate has already expired.
    #[error("the push certificate expired at {0} (Unix ms): renew it in Apple's portal")]
    Expired(i64),
    /// A renewal whose topic differs from the current certificate's.
    #[error(
        "refused: the new certificate's topic {new:?} differs from the current topic \
         {current:?}. Every enrolled device listens on the current topic and would stop \
         receiving pushes; renew the existing certificate in Apple's portal (same Apple ID) \
         instead of creating a new one"
    )]
    TopicChange {
        /// The installed topic.
        current: String,
        /// The uploaded certificate's topic.
        new: String,
    },
    /// A device's push target names a topic other than the installed certificate's: pushes
    /// to it would fail with DeviceTokenNotForTopic, so the device could never be woken.
    #[error(
        "the Topic {device:?} is not the push certificate's topic {installed:?}: the MDM \
         profile names another topic than the push certificate (enroll-svc's enrollment.topic \
         must be the certificate's UID)"
    )]
    TopicMismatch {
        /// What the device sent.
        device: String,
        /// The installed certificate's topic.
        installed: String,
    },
    /// No such target or no certificate installed.
    #[error("{0}")]
    NotFound(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A sealed key could not be opened (wrong secret key configured?).
    #[error(transparent)]
    Secret(#[from] service_kit::secrets::SecretError),
    /// The TLS client for APNs could not be built (bad CA file, unusable key).
    #[error("APNs TLS: {0}")]
    Tls(String),
    /// Start-up: migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Start-up: the listener's address cannot be read, or a file cannot be read.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// Start-up or serving: the gRPC transport failed.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

impl Error {
    /// The shared code this error is reported as.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidRequest(_)
            | Error::Unreadable(_)
            | Error::NotPushCertificate(_)
            | Error::KeyMismatch
            | Error::Expired(_)
            | Error::TopicMismatch { .. } => ErrorCode::InvalidMessage,
            Error::TopicChange { .. } => ErrorCode::Conflict,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Database(e) if service_kit::db::is_transient(e) => ErrorCode::Unavailable,
            Error::Database(_) => ErrorCode::Internal,
            Error::Secret(_)
            | Error::Tls(_)
            | Error::Migrate(_)
            | Error::Io(_)
            | Error::Transport(_) => ErrorCode::Internal,
        }
    }
}

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        let code = error.code();
        if matches!(code, ErrorCode::Internal | ErrorCode::Unavailable) {
            tracing::error!(%error, "push-svc failed inside the server");
        }
        mdm_proto::status(code, error.to_string())
    }
}
