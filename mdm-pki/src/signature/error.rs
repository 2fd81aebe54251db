//! [`SignatureError`]: every reason an `Mdm-Signature` is not accepted.

use crate::TrustError;

/// Why an `Mdm-Signature` header does not authenticate a request.
///
/// Every variant met while verifying a request means the same thing to the device: it is not
/// authenticated, and the edge answers **403**. Never 401: a device removes its MDM profile on
/// 401, and a forged or broken signature must not be able to unenroll anyone (docs/architecture.md §4). The
/// variants exist so the edge can log the precise cause and tests can match on it. Text taken from
/// the request is shortened before it is stored here, since these end up in logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    // ---- bounds and encodings, checked before any cryptography ----
    /// The header value is longer than [`super::MAX_HEADER_BYTES`]; it is refused unread.
    #[error("the Mdm-Signature header is {len} bytes long, over the {max}-byte limit")]
    HeaderTooLarge {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },

    /// The header value is empty (or only whitespace).
    #[error("the Mdm-Signature header is empty")]
    EmptyHeader,

    /// The header value is not base64.
    #[error("the Mdm-Signature header is not base64: {reason}")]
    InvalidBase64 {
        /// What the decoder objected to.
        reason: String,
    },

    /// The decoded signature nests BER elements deeper than [`super::MAX_BER_DEPTH`] levels. A
    /// real signature nests about a dozen; the bound keeps every recursive walk short.
    #[error("the signature nests BER elements deeper than {limit} levels")]
    BerTooDeep {
        /// The limit that was exceeded.
        limit: usize,
    },

    /// A SET (or a tagged SET, such as the certificate set or the signed attributes) with more
    /// than [`super::MAX_SET_ELEMENTS`] elements: decoding sorts them in quadratic time.
    #[error("a SET in the signature holds more than {limit} elements")]
    SetTooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },

    /// The decoded signature is not a well-formed BER (or DER) encoding.
    #[error("malformed BER at byte {offset}: {reason}")]
    MalformedBer {
        /// Byte offset in the decoded signature where the problem was found.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },

    /// The encoding is well formed but does not decode as a CMS `ContentInfo` holding a
    /// `SignedData`.
    #[error("the signature is not a valid CMS structure: {reason}")]
    MalformedCms {
        /// What the decoder objected to.
        reason: String,
    },

    /// The `ContentInfo` holds something other than `SignedData`.
    #[error("the CMS content type is {oid}, not signedData")]
    NotSignedData {
        /// The content type found.
        oid: String,
    },

    /// The `SignedData` carries its content: `Mdm-Signature` is a detached signature of the body,
    /// and a signature over embedded content proves nothing about the body.
    #[error("the signature is not detached: the SignedData carries its own content")]
    NotDetached,

    /// The signed content type (or the `contentType` signed attribute) is not `id-data`.
    #[error("the signed content type is {oid}, not id-data")]
    UnexpectedContentType {
        /// The content type found.
        oid: String,
    },

    /// The `SignedData` does not have exactly one `SignerInfo`: with none nobody signed, and with
    /// several the request would have more than one identity.
    #[error("the signature has {count} signers; exactly one is required")]
    SignerCount {
        /// How many `SignerInfo`s there are.
        count: usize,
    },

    /// No certificate in the `SignedData` matches the signer identifier (or there are none).
    #[error("the SignedData does not contain the signer's certificate")]
    SignerCertificateMissing,

    // ---- algorithms ----
    /// A digest algorithm other than SHA-1, SHA-256, SHA-384 or SHA-512.
    #[error("unsupported digest algorithm {oid}")]
    UnsupportedDigestAlgorithm {
        /// Its OID.
        oid: String,
    },

    /// A `SignerInfo` signature algorithm other than RSA PKCS#1 v1.5 or ECDSA.
    #[error("unsupported signature algorithm {oid}")]
    UnsupportedSignatureAlgorithm {
        /// Its OID.
        oid: String,
    },

    /// The algorithms named do not fit together: a `sha*WithRSAEncryption` whose digest differs
    /// from the `digestAlgorithm`, or an RSA signature algorithm with an EC key (or the reverse).
    #[error("the algorithms do not match: {what}")]
    AlgorithmMismatch {
        /// Which two disagree.
        what: &'static str,
    },

    // ---- the signature over the body ----
    /// Signed attributes without a `messageDigest`: nothing ties the signature to the body.
    #[error("the signed attributes have no messageDigest")]
    MissingMessageDigest,

    /// A `messageDigest` or `contentType` attribute that appears twice, has other than one value,
    /// or whose value has the wrong type.
    #[error("the signed attribute {attribute} is malformed")]
    MalformedSignedAttribute {
        /// `messageDigest` or `contentType`.
        attribute: &'static str,
    },

    /// The signed `messageDigest` is not the digest of the body: the body was changed after it
    /// was signed (or belongs to another request).
    #[error("the body does not match the signed messageDigest")]
    MessageDigestMismatch,

    /// The signature value does not verify with the signer certificate's key: the body was changed
    /// (when there are no signed attributes), or another key signed it.
    #[error("the signature does not verify with the signer certificate's key")]
    BadSignature,

    // ---- the signer certificate ----
    /// The signer certificate does not decode, has a key nothing here verifies with, or the one
    /// trust check ([`crate::TrustAnchors::verify`]) refused it.
    #[error(transparent)]
    Certificate(#[from] TrustError),
}
