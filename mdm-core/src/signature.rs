//! `Mdm-Signature`: verifying the detached CMS signature a device sends with each request when its
//! MDM payload sets `SignMessage` (Apple: "Passing the Client Identity Through Proxies"), and so
//! who the device is when no TLS client certificate reaches the server.
//!
//! [`SignatureVerifier::verify`] takes the base64 header value and the body and either names the
//! signer ([`VerifiedSigner`]) or says why not ([`SignatureError`], always a 403 at the edge). It
//! accepts what real devices and clients send (docs/architecture.md §11): BER with indefinite
//! lengths, signatures with and without signed attributes, SHA-1/256/384/512, RSA (the signature
//! algorithm given as `rsaEncryption` or `sha*WithRSAEncryption`) and ECDSA P-256, and a signer
//! certificate with an empty subject. The signer certificate comes from the `SignedData` and must
//! be issued by one of the configured CAs, within its validity period give or take a clock skew.
//!
//! Input is untrusted and bounded before it is parsed: the header to [`MAX_HEADER_BYTES`], BER
//! nesting to [`MAX_BER_DEPTH`], the elements of a SET to [`MAX_SET_ELEMENTS`]. Nothing here
//! panics on it, and the work is linear in its size.
//!
//! # Layout
//! - `envelope`: header to a decoded `SignedData` with one signer (bounds, base64, BER, CMS).
//! - [`ber_to_der`] (`ber`): the bounded BER-to-DER normaliser run before CMS decoding.
//! - `raw`: the exact bytes of certificates and signed attributes, as signed.
//! - `body`: the signature over the body, with or without signed attributes.
//! - `algorithm`: digests, signature algorithms, RSA and P-256 keys.
//! - [`ChainCert`] (`certificate`) and [`chain`]: certificates and chain verification to anchors,
//!   with the per-certificate time-check exemption Apple's expired intermediates need.
//! - [`inspect()`] (`inspect`): verify and describe, for the operator's tool.
//! - [`SignatureError`] (`error`).

mod algorithm;
mod ber;
mod body;
mod certificate;
pub mod chain;
mod envelope;
mod error;
mod inspect;
mod raw;

#[cfg(test)]
mod tests;

use std::time::Duration;

pub use ber::{ber_to_der, MAX_SET_ELEMENTS};
pub use certificate::ChainCert;
pub use error::SignatureError;
pub use inspect::{inspect, Inspection};

use algorithm::PublicKey;
use envelope::Envelope;

/// The longest header value read, in bytes. A real signature (one RSA-2048 certificate) is about
/// 2–3 KB of base64; a longer header is refused before it is decoded.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The deepest BER nesting accepted. A real signature nests about a dozen levels; bounding it keeps
/// the normaliser's and the decoders' recursion short.
pub const MAX_BER_DEPTH: usize = 64;

/// Trust anchors and policy for verifying device signatures: the CA certificates that issue device
/// identities, and the clock skew allowed on both ends of a certificate's validity period.
#[derive(Clone, Debug)]
pub struct SignatureVerifier {
    anchors: Vec<ChainCert>,
    clock_skew: Duration,
}

/// Who signed a request, once the signature and the chain have been verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSigner {
    /// The signer certificate as DER, exactly as sent in the signature.
    pub cert_der: Vec<u8>,
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

impl SignatureVerifier {
    /// A verifier trusting these CA certificates (DER), each of which directly issues device
    /// certificates. Refuses an empty list, a certificate that does not decode, one that is not
    /// allowed to issue certificates, and one whose key cannot verify (not RSA or P-256).
    ///
    /// The CAs' own validity periods are checked at each verification, like the devices': a CA
    /// that has expired no longer vouches for anyone.
    pub fn new(ca_certs_der: Vec<Vec<u8>>, clock_skew: Duration) -> Result<Self, SignatureError> {
        if ca_certs_der.is_empty() {
            return Err(SignatureError::NoTrustAnchors);
        }
        let anchors = ca_certs_der
            .into_iter()
            .map(|der| {
                let anchor = ChainCert::from_der(der)?;
                anchor.check_can_issue(0)?;
                PublicKey::from_spki(
                    &anchor.certificate().tbs_certificate.subject_public_key_info,
                )?;
                Ok(anchor)
            })
            .collect::<Result<Vec<_>, SignatureError>>()?;
        Ok(Self {
            anchors,
            clock_skew,
        })
    }

    /// A verifier trusting the CA certificates of a PEM file: one or more `CERTIFICATE` blocks.
    /// Text around the blocks is ignored, as are blocks of other kinds.
    pub fn from_pem(pem: &[u8], clock_skew: Duration) -> Result<Self, SignatureError> {
        let invalid = |reason: String| SignatureError::InvalidPem { reason };
        let text = std::str::from_utf8(pem).map_err(|_| invalid("not UTF-8 text".to_owned()))?;
        let mut certs = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("-----BEGIN ") {
            let block = &rest[start..];
            let end = block
                .find("-----END ")
                .and_then(|end| {
                    block[end + 9..]
                        .find("-----")
                        .map(|dash| end + 9 + dash + 5)
                })
                .ok_or_else(|| invalid("a PEM block has no END line".to_owned()))?;
            let (label, der) = x509_cert::der::pem::decode_vec(&block.as_bytes()[..end])
                .map_err(|e| invalid(e.to_string()))?;
            if label == "CERTIFICATE" {
                certs.push(der);
            }
            rest = &block[end..];
        }
        if certs.is_empty() {
            return Err(invalid("no CERTIFICATE block".to_owned()));
        }
        Self::new(certs, clock_skew)
    }

    /// The clock skew allowed on both ends of a validity period.
    pub fn clock_skew(&self) -> Duration {
        self.clock_skew
    }

    /// Verifies the base64 `Mdm-Signature` header value over `body` at time `now` (Unix seconds)
    /// and returns the signer. Any error means the request is not authenticated (403).
    pub fn verify(
        &self,
        header: &[u8],
        body: &[u8],
        now: i64,
    ) -> Result<VerifiedSigner, SignatureError> {
        let envelope = Envelope::decode(header)?;
        let signer = envelope.signer_certificate()?;
        self.verify_signer(&envelope, &signer, body, now)
    }

    /// The checks after decoding, shared with [`inspect()`] so both reach the same verdict.
    fn verify_signer(
        &self,
        envelope: &Envelope,
        signer: &ChainCert,
        body: &[u8],
        now: i64,
    ) -> Result<VerifiedSigner, SignatureError> {
        envelope.verify_body(signer, body)?;
        // The device CA issues device certificates directly: the other certificates a device sends
        // are not used as intermediates, so nothing the request carries can extend the trust.
        chain::verify_chain(signer, &[], &self.anchors, now, self.clock_skew)?;
        Ok(VerifiedSigner {
            cert_der: signer.der().to_vec(),
            sha256: signer.sha256(),
            common_name: signer.common_name()?,
            subject: signer.subject(),
            issuer: signer.issuer(),
            not_after: signer.not_after(),
        })
    }
}
