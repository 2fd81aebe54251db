//! [`VerifiedCertificate`]: what the trust check hands on about a certificate it accepted.

use super::{ChainCert, TrustError};

/// A certificate [`super::TrustAnchors::verify`] accepted, and the facts about it that the edge
/// and the services act on. Only the trust check makes one, so holding one means the check passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCertificate {
    /// The certificate as DER, exactly as sent (shared: a remembered check hands it on to every
    /// request without copying it).
    pub cert_der: std::sync::Arc<[u8]>,
    /// The SHA-256 of `cert_der`: the fingerprint an enrollment is bound to.
    pub sha256: [u8; 32],
    /// The subject's Common Name (the UDID or EnrollmentID for our own certificates); empty if
    /// the subject has none (real devices' certificates sometimes have an empty subject).
    pub common_name: String,
    /// The subject, as an RFC 4514 string.
    pub subject: String,
    /// The issuer, as an RFC 4514 string.
    pub issuer: String,
    /// The certificate's notAfter, in Unix seconds.
    pub not_after: i64,
}

impl VerifiedCertificate {
    /// The facts of `cert`, whose SHA-256 is `sha256`, which the caller has just verified.
    /// Refuses a subject whose Common Name is ambiguous or unreadable: the name is what the
    /// identity policy compares.
    pub(super) fn of(cert: &ChainCert, sha256: [u8; 32]) -> Result<Self, TrustError> {
        Ok(Self {
            cert_der: cert.der().into(),
            sha256,
            common_name: cert.common_name()?,
            subject: cert.subject(),
            issuer: cert.issuer(),
            not_after: cert.not_after(),
        })
    }
}
