//! The one trust check for device certificates: [`TrustAnchors::verify`].
//!
//! A device proves who it is with a certificate, and the edge learns that certificate in one of
//! several ways (docs/architecture.md §4): the TLS handshake, the signer of an `Mdm-Signature`, or
//! an RFC 9440 `Client-Cert` header from a load balancer. Whichever way it came, the question is
//! the same, and so is the answer, because it is asked here and only here: is the certificate
//! **issued by one of our device CAs, and valid now give or take the configured clock skew?**
//!
//! The TLS handshake is the one exception, because OpenSSL must verify the chain it negotiates;
//! the only decision it leaves to the edge, whether a certificate outside its validity period is
//! within the skew, is [`ChainCert::check_validity`], the check used here.
//!
//! What "issued by" means: the configured CA's name is the certificate's issuer, its key signed
//! the certificate, and it may issue certificates (basicConstraints, keyUsage). The CAs issue device
//! certificates directly: nothing a request carries is used as an intermediate, so nothing a device
//! sends can extend the trust. The CAs' own validity periods are checked too: a CA that has
//! expired no longer vouches for anyone. Revocation is not decided here; the edge asks enroll-svc.
//!
//! # Layout
//! - [`TrustAnchors`] (here): the configured CAs and clock skew, and [`TrustAnchors::verify`].
//! - [`VerifiedCertificate`] (`verified`): what a verified certificate says.
//! - [`TrustError`] (`error`): every reason for a refusal.
//! - [`ChainCert`] (`certificate`): a decoded certificate with its exact bytes.
//! - [`chain`]: the general chain verification (intermediates, time-exempt CAs) the check is
//!   built on, also used to verify device-signed payloads to Apple's CAs.
//! - `cache` (private): the periods in which certificates already checked are trusted, so each
//!   is checked against its CA once.
//! - `pem` (private): the `CERTIFICATE` blocks of a PEM file.

pub(crate) mod cache;
mod certificate;
pub mod chain;
mod error;
mod pem;
mod verified;

#[cfg(test)]
mod tests;

use std::time::Duration;

pub use cache::MAX_ENTRIES as MAX_REMEMBERED_CERTIFICATES;
pub use certificate::ChainCert;
pub use error::TrustError;
pub use verified::VerifiedCertificate;

use crate::algorithm::PublicKey;
use cache::VerifiedCache;

/// The device CAs a certificate must be issued by, and the clock skew allowed on both ends of
/// every validity period checked. Clones share the certificates already accepted (`cache`).
#[derive(Clone, Debug)]
pub struct TrustAnchors {
    anchors: Vec<ChainCert>,
    clock_skew: Duration,
    verified: VerifiedCache,
}

impl TrustAnchors {
    /// Anchors from these CA certificates (DER), each of which directly issues device
    /// certificates. Refuses an empty list, a certificate that does not decode, one that is not
    /// allowed to issue certificates, and one whose key cannot verify (not RSA or P-256): a
    /// configuration mistake is found at start-up, not at the first device.
    pub fn new(ca_certs_der: Vec<Vec<u8>>, clock_skew: Duration) -> Result<Self, TrustError> {
        if ca_certs_der.is_empty() {
            return Err(TrustError::NoTrustAnchors);
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
            .collect::<Result<Vec<_>, TrustError>>()?;
        Ok(Self {
            anchors,
            clock_skew,
            verified: VerifiedCache::new(),
        })
    }

    /// Anchors from the CA certificates of a PEM file: one or more `CERTIFICATE` blocks. Text
    /// around the blocks is ignored, as are blocks of other kinds.
    pub fn from_pem(pem: &[u8], clock_skew: Duration) -> Result<Self, TrustError> {
        Self::new(pem::certificates(pem)?, clock_skew)
    }

    /// The clock skew allowed on both ends of a validity period.
    pub fn clock_skew(&self) -> Duration {
        self.clock_skew
    }

    /// The trust check: `leaf_der` (one DER certificate) was issued by one of the anchors, and it
    /// and that anchor are valid at `now` (Unix seconds) give or take the clock skew. Any error
    /// means the certificate does not authenticate anyone (403 at the edge, never 401).
    ///
    /// A certificate is checked against its CA once: after that, the period in which the answer
    /// is yes is remembered (`cache`), and only the certificate's own facts are read again.
    pub fn verify(&self, leaf_der: &[u8], now: i64) -> Result<VerifiedCertificate, TrustError> {
        let leaf = ChainCert::from_der(leaf_der.to_vec())?;
        self.verify_decoded(&leaf, leaf.sha256(), now)
    }

    /// [`TrustAnchors::verify`] of a certificate already decoded (a signer's, from its
    /// `SignedData`), whose SHA-256 is `sha256`.
    pub(crate) fn verify_decoded(
        &self,
        leaf: &ChainCert,
        sha256: [u8; 32],
        now: i64,
    ) -> Result<VerifiedCertificate, TrustError> {
        if !self.verified.accepts(&sha256, now) {
            let path = chain::verify_chain(leaf, &[], &self.anchors, now, self.clock_skew)?;
            // Facts first: a certificate whose name is refused is not remembered as accepted.
            let verified = VerifiedCertificate::of(leaf, sha256)?;
            if let [issuer] = path.as_slice() {
                self.verified
                    .remember(sha256, leaf, issuer, self.clock_skew);
            }
            return Ok(verified);
        }
        VerifiedCertificate::of(leaf, sha256)
    }
}
