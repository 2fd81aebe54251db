//! [`TrustError`]: every reason a device certificate is not trusted, or trust anchors cannot be
//! loaded.

/// Why a certificate is not trusted, or why a set of trust anchors could not be loaded.
///
/// Every variant met while verifying a request's certificate means the same thing to the device:
/// it is not authenticated, and the edge answers **403**. Never 401: a device removes its MDM
/// profile on 401, and a forged or foreign certificate must not be able to unenroll anyone
/// (docs/architecture.md §4). The variants exist so the edge can log the precise cause and tests
/// can match on it. Text taken from a certificate is shortened before it is stored here, since
/// these end up in logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// A certificate (a device's, or a configured CA's) that does not decode as X.509.
    #[error("a certificate does not decode: {reason}")]
    MalformedCertificate {
        /// What the decoder objected to.
        reason: String,
    },

    // ---- algorithms ----
    /// A certificate signed with an algorithm other than RSA PKCS#1 v1.5 or ECDSA with SHA-1 to
    /// SHA-512.
    #[error("unsupported signature algorithm {oid}")]
    UnsupportedSignatureAlgorithm {
        /// Its OID.
        oid: String,
    },

    /// A public key that cannot verify anything here: not RSA or P-256, or an RSA key that does
    /// not decode or is over 4096 bits.
    #[error("unsupported public key: {what}")]
    UnsupportedPublicKey {
        /// What the key is (algorithm OID, curve, or why it does not decode).
        what: String,
    },

    // ---- the certificate and its chain ----
    /// No trust anchor (nor intermediate) has the certificate's issuer as its subject.
    #[error("the certificate's issuer {issuer:?} is not a trusted CA")]
    UntrustedIssuer {
        /// The issuer named by the certificate (shortened).
        issuer: String,
    },

    /// A CA with the right name exists, but its key did not sign the certificate: it comes from
    /// another CA that uses the same name.
    #[error("the certificate {subject:?} is not signed by the CA that its issuer name names")]
    CertificateSignatureInvalid {
        /// The certificate's subject (shortened).
        subject: String,
    },

    /// The certificate expired (beyond the allowed clock skew).
    #[error("the certificate {subject:?} expired at {not_after} (now {now})")]
    CertificateExpired {
        /// The certificate's subject (shortened).
        subject: String,
        /// Its notAfter, in Unix seconds.
        not_after: i64,
        /// The time of the check, in Unix seconds.
        now: i64,
    },

    /// The certificate is not valid yet (beyond the allowed clock skew).
    #[error("the certificate {subject:?} is not valid before {not_before} (now {now})")]
    CertificateNotYetValid {
        /// The certificate's subject (shortened).
        subject: String,
        /// Its notBefore, in Unix seconds.
        not_before: i64,
        /// The time of the check, in Unix seconds.
        now: i64,
    },

    /// A certificate in the issuer position is not a CA: its basicConstraints say `cA: FALSE`, or
    /// its keyUsage lacks keyCertSign.
    #[error("the certificate {subject:?} is not allowed to issue certificates")]
    NotACa {
        /// The would-be issuer's subject (shortened).
        subject: String,
    },

    /// A CA's pathLenConstraint allows fewer CAs below it than the chain has.
    #[error("the chain is longer than the pathLenConstraint of {subject:?} allows")]
    PathLengthExceeded {
        /// The constraining CA's subject (shortened).
        subject: String,
    },

    /// No chain to a trust anchor within [`super::chain::MAX_CHAIN_LEN`] certificates.
    #[error("no chain to a trust anchor within {limit} certificates")]
    ChainTooLong {
        /// The limit.
        limit: usize,
    },

    /// The certificate's subject has more than one Common Name: which one names the device would
    /// be arbitrary.
    #[error("the certificate's subject has more than one Common Name")]
    AmbiguousCommonName,

    /// The certificate's Common Name is not a string type that can be read as text.
    #[error("the certificate's Common Name is not a readable string")]
    UnreadableCommonName,

    // ---- configuration ----
    /// Trust anchors were built with no CA certificate at all.
    #[error("no trust anchor: at least one CA certificate is required")]
    NoTrustAnchors,

    /// A PEM trust-anchor file that cannot be read.
    #[error("invalid PEM: {reason}")]
    InvalidPem {
        /// What is wrong.
        reason: String,
    },
}
