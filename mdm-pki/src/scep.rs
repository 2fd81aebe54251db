//! SCEP (RFC 8894), both ends: the server parses a client's `pkiMessage`, checks its signature,
//! decrypts its envelope and answers a CertRep; the client (the device simulator, tests) builds a
//! PKCSReq or RenewalReq and reads the CertRep. Cryptography is OpenSSL's; this module adds what
//! its bindings lack (SCEP's signed attributes, CSR attributes) with a small DER walker.
//!
//! Real clients are accepted as they are (docs/architecture.md §11): envelopes in DES-CBC, 3DES,
//! AES-128/192/256-CBC; SHA-1 to SHA-512 signatures; a CSR with version 2; the challengePassword
//! in the signed attributes instead of (or as well as) the CSR; BER from OpenSSL-based clients.
//!
//! # Layout
//! - [`asn1`]: the lenient DER reader and the writer.
//! - [`attributes`]: SCEP's attribute OIDs and values ([`MessageType`], [`PkiStatus`],
//!   [`FailInfo`]).
//! - [`cipher`]: envelope ciphers ([`ContentCipher`]) and the legacy provider for single DES.
//! - [`csr`]: certification requests ([`Csr`]).
//! - [`signed`]: the SignedData around every message.
//! - [`request`]: server side, a client's request ([`parse_pki_message`], [`PkiRequest`]).
//! - [`reply`]: server side, CertRep SUCCESS or FAILURE.
//! - [`client`]: client side, [`client::build_request`] and [`client::read_cert_rep`].

pub mod asn1;
pub mod attributes;
pub mod cipher;
pub mod client;
pub mod csr;
pub mod reply;
pub mod request;
pub mod signed;

#[cfg(test)]
mod tests;

pub use attributes::{FailInfo, MessageType, PkiStatus};
pub use cipher::{load_legacy_provider, single_des_available, ContentCipher};
pub use csr::Csr;
pub use reply::ReplyTo;
pub use request::{parse_pki_message, PkiRequest};
pub use signed::{Digest, Signer};

/// The GetCACaps answer: one capability per line (POST, digests, ciphers, RFC 8894, renewal).
pub const CA_CAPS: &str =
    "POSTPKIOperation\nSHA-1\nSHA-256\nSHA-512\nAES\nDES3\nSCEPStandard\nRenewal\n";

/// `Content-Type` of GetCACaps.
pub const CONTENT_TYPE_CAPS: &str = "text/plain";
/// `Content-Type` of GetCACert with a single CA certificate (DER).
pub const CONTENT_TYPE_CA_CERT: &str = "application/x-x509-ca-cert";
/// `Content-Type` of a PKIOperation reply.
pub const CONTENT_TYPE_PKI_MESSAGE: &str = "application/x-pki-message";

/// Why a SCEP message could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum ScepError {
    /// Not a well-formed message; no CertRep can answer it (no transaction, nonce or signer).
    #[error("malformed SCEP message: {0}")]
    Malformed(String),
    /// A signature (the message's or the CSR's) does not verify.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// The envelope uses a cipher this server cannot decrypt.
    #[error("unsupported algorithm: {0}")]
    UnsupportedCipher(String),
    /// The envelope does not decrypt with the CA's key (encrypted to another certificate, or
    /// corrupted).
    #[error("envelope does not decrypt: {0}")]
    Decrypt(String),
    /// OpenSSL failed while building (a fault on our side).
    #[error("OpenSSL: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
}

impl ScepError {
    /// The failInfo a CertRep FAILURE reports for this error.
    pub fn fail_info(&self) -> FailInfo {
        match self {
            ScepError::UnsupportedCipher(_) => FailInfo::BadAlg,
            ScepError::BadSignature(_) | ScepError::Decrypt(_) => FailInfo::BadMessageCheck,
            ScepError::Malformed(_) | ScepError::OpenSsl(_) => FailInfo::BadRequest,
        }
    }
}
