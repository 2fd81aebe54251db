//! `Mdm-Signature`: verifying the detached CMS signature a device sends with each request when its
//! MDM payload sets `SignMessage` (Apple: "Passing the Client Identity Through Proxies"), and so
//! who the device is when no TLS client certificate reaches the server.
//!
//! [`SignatureVerifier::verify`] takes the base64 header value and the body and either names the
//! signer ([`VerifiedCertificate`]) or says why not ([`SignatureError`], always a 403 at the edge). It
//! accepts what real devices and clients send (docs/architecture.md §11): BER with indefinite
//! lengths, signatures with and without signed attributes, SHA-1/256/384/512, RSA (the signature
//! algorithm given as `rsaEncryption` or `sha*WithRSAEncryption`) and ECDSA P-256, and a signer
//! certificate with an empty subject. The signer certificate comes from the `SignedData` and goes
//! through the one trust check, [`TrustAnchors::verify`]: issued by one of the configured CAs,
//! within its validity period give or take the clock skew.
//!
//! Input is untrusted and bounded before it is parsed: the header to [`MAX_HEADER_BYTES`], BER
//! nesting to [`MAX_BER_DEPTH`], the elements of a SET to [`MAX_SET_ELEMENTS`]. Nothing here
//! panics on it, and the work is linear in its size.
//!
//! # Layout
//! - [`SignatureVerifier`] (here): the checks in order.
//! - `envelope`: header to a decoded `SignedData` with one signer (bounds, base64, BER, CMS).
//! - [`ber_to_der`] (`ber`): the bounded BER-to-DER normaliser run before CMS decoding.
//! - `body`: the signature over the body, with or without signed attributes.
//! - [`inspect()`] (`inspect`): verify and describe, for the operator's tool.
//! - [`SignatureError`] (`error`).
//!
//! The digests, algorithms and keys, and the exact bytes signed, are the crate's `algorithm` and
//! `raw`, shared with the certificate checks of [`crate::trust`].

mod ber;
mod body;
mod envelope;
mod error;
mod inspect;

#[cfg(test)]
mod tests;

pub use ber::{ber_to_der, MAX_SET_ELEMENTS};
pub use error::SignatureError;
pub use inspect::{inspect, Inspection};

use moka::sync::Cache;
use std::sync::Arc;

use crate::algorithm::PublicKey;
use crate::{ChainCert, TrustAnchors, VerifiedCertificate};
use envelope::Envelope;

/// The longest header value read, in bytes. A real signature (one RSA-2048 certificate) is about
/// 2–3 KB of base64; a longer header is refused before it is decoded.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The deepest BER nesting accepted. A real signature nests about a dozen levels; bounding it keeps
/// the normaliser's and the decoders' recursion short.
pub const MAX_BER_DEPTH: usize = 64;

/// Verifies device signatures against trust anchors: the device CAs and the clock skew.
#[derive(Clone)]
pub struct SignatureVerifier {
    anchors: TrustAnchors,
    /// Signers' keys as OpenSSL reads them, by certificate SHA-256: reading a key costs
    /// OpenSSL 3 more than the signature check made with it, and a device signs every request
    /// with the same one. Bounded like the trust check's memory.
    keys: Cache<[u8; 32], Arc<PublicKey>>,
}

impl std::fmt::Debug for SignatureVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureVerifier")
            .field("anchors", &self.anchors)
            .field("keys", &self.keys.entry_count())
            .finish()
    }
}

impl SignatureVerifier {
    /// A verifier whose signers must pass `anchors`' trust check.
    pub fn new(anchors: TrustAnchors) -> Self {
        Self {
            anchors,
            keys: crate::trust::cache::per_certificate(),
        }
    }

    /// The anchors signers are checked against.
    pub fn anchors(&self) -> &TrustAnchors {
        &self.anchors
    }

    /// Verifies the base64 `Mdm-Signature` header value over `body` at time `now` (Unix seconds)
    /// and returns the signer. Any error means the request is not authenticated (403).
    pub fn verify(
        &self,
        header: &[u8],
        body: &[u8],
        now: i64,
    ) -> Result<VerifiedCertificate, SignatureError> {
        let envelope = Envelope::decode(header)?;
        let signer = envelope.signer_certificate()?;
        self.verify_signer(&envelope, &signer, body, now)
    }

    /// The checks after decoding, shared with [`inspect()`] so both reach the same verdict: the
    /// signature over the body first (cheap to refuse a tampered body), then the one trust check of
    /// the signer. Certificates the device sent besides the signer's are not used.
    fn verify_signer(
        &self,
        envelope: &Envelope,
        signer: &ChainCert,
        body: &[u8],
        now: i64,
    ) -> Result<VerifiedCertificate, SignatureError> {
        // The signer's key is read once per certificate, and remembered only once its
        // certificate passed the trust check: made-up certificates cannot crowd devices out.
        let sha256 = signer.sha256();
        let (key, remembered) = match self.keys.get(&sha256) {
            Some(key) => (key, true),
            None => {
                let spki = &signer.certificate().tbs_certificate.subject_public_key_info;
                (Arc::new(PublicKey::from_spki(spki)?), false)
            }
        };
        envelope.verify_body_with(&key, body)?;
        let verified = self.anchors.verify_decoded(signer, sha256, now)?;
        if !remembered {
            self.keys.insert(sha256, key);
        }
        Ok(verified)
    }
}
