//! Chaining a certificate to trust anchors.
//!
//! [`verify_chain`] is the general form: a leaf, intermediates it may go through, anchors it must
//! end at, and a per-certificate choice to skip the validity-time check
//! ([`ChainCert::skip_validity_check`]). [`super::TrustAnchors`] uses it with its configured
//! device CAs as anchors and no intermediates (our CA issues device certificates directly).
//! Verifying a device-signed payload to Apple's CAs (OTA enrollment, DEP MachineInfo) uses it with
//! Apple Root CA as the anchor and Apple's two expired intermediates marked to skip the time check:
//!
//! ```no_run
//! # use mdm_pki::trust::{chain::verify_chain, ChainCert, TrustError};
//! # fn load(path: &str) -> Vec<u8> { unimplemented!() }
//! # fn main() -> Result<(), TrustError> {
//! let root = ChainCert::from_der(load("apple_root_ca.der"))?;
//! let iphone_ca = ChainCert::from_der(load("apple_iphone_ca.der"))?.skip_validity_check();
//! let device_ca = ChainCert::from_der(load("apple_iphone_device_ca.der"))?.skip_validity_check();
//! let device = ChainCert::from_der(load("device.der"))?;
//! let now = 1_767_225_600;
//! let path = verify_chain(&device, &[iphone_ca, device_ca], &[root], now, Default::default())?;
//! # Ok(()) }
//! ```
//!
//! What is checked, for every link: the issuer's name is the certificate's issuer name, the
//! issuer's key verifies the certificate's signature (RSA PKCS#1 v1.5 or ECDSA P-256, with SHA-1
//! to SHA-512), the issuer may issue certificates (basicConstraints, pathLenConstraint and
//! keyUsage, where present) and every certificate, anchors included, is within its validity period
//! give or take the clock skew, unless marked otherwise. Not checked: extended key usage, name
//! constraints, policies, unknown critical extensions and revocation: a device CA of our own (or
//! Apple's) uses none of them, and the edge decides about revocation through enrollment state.

use std::time::Duration;

use super::{ChainCert, TrustError};
use crate::algorithm::{PublicKey, Scheme};
use crate::raw;
use mdm_core::error::{excerpt, reason};

/// The most certificates a chain may have, leaf and anchor included. Apple's is four long.
pub const MAX_CHAIN_LEN: usize = 8;

/// Verifies that `leaf` chains to one of `anchors`, possibly through some of `intermediates`, at
/// `now` (Unix seconds), allowing `clock_skew` on both ends of every validity period that is
/// checked.
///
/// Returns the certificates above the leaf, from its issuer to the anchor. When several
/// candidates have the right name (a CA renewed under the same name), each is tried; if none
/// works, the error is the last candidate's reason, or [`TrustError::UntrustedIssuer`] when no
/// certificate has the right name at all.
pub fn verify_chain<'a>(
    leaf: &ChainCert,
    intermediates: &'a [ChainCert],
    anchors: &'a [ChainCert],
    now: i64,
    clock_skew: Duration,
) -> Result<Vec<&'a ChainCert>, TrustError> {
    let chain = Chain {
        intermediates,
        anchors,
        now,
        clock_skew,
    };
    let path = chain.issuers_of(leaf, 0)?;
    leaf.check_validity(now, clock_skew)?;
    Ok(path)
}

/// Checks that `issuer`'s key signed `cert`; the names are the caller's business.
pub(crate) fn verify_signed_by(cert: &ChainCert, issuer: &ChainCert) -> Result<(), TrustError> {
    let x509 = cert.certificate();
    let malformed = |what: &str| TrustError::MalformedCertificate {
        reason: reason(what),
    };
    if x509.signature_algorithm != x509.tbs_certificate.signature {
        return Err(malformed(
            "the signature algorithm differs from the one signed",
        ));
    }
    let unsupported = || TrustError::UnsupportedSignatureAlgorithm {
        oid: x509.signature_algorithm.oid.to_string(),
    };
    let scheme = Scheme::from_oid(&x509.signature_algorithm.oid).ok_or_else(unsupported)?;
    // A certificate's algorithm must name its digest: there is no digestAlgorithm beside it.
    let digest_alg = scheme.digest.ok_or_else(unsupported)?;
    let tbs = raw::tbs_certificate(cert.der()).ok_or_else(|| malformed("no tbsCertificate"))?;
    let signature = x509
        .signature
        .as_bytes()
        .ok_or_else(|| malformed("the signature is not a whole number of bytes"))?;
    let key = PublicKey::from_spki(&issuer.certificate().tbs_certificate.subject_public_key_info)?;
    key.verify_digest(scheme.key, digest_alg, &digest_alg.digest(tbs), signature)
        .map_err(|_| TrustError::CertificateSignatureInvalid {
            subject: excerpt(&cert.subject()),
        })
}

struct Chain<'a> {
    intermediates: &'a [ChainCert],
    anchors: &'a [ChainCert],
    now: i64,
    clock_skew: Duration,
}

impl<'a> Chain<'a> {
    /// Finds a path from `cert` to an anchor. `cas_below` counts the CA certificates already
    /// between `cert` and the leaf.
    fn issuers_of(
        &self,
        cert: &ChainCert,
        cas_below: usize,
    ) -> Result<Vec<&'a ChainCert>, TrustError> {
        // The leaf, the `cas_below` intermediates, and the issuer about to be added.
        if cas_below + 2 > MAX_CHAIN_LEN {
            return Err(TrustError::ChainTooLong {
                limit: MAX_CHAIN_LEN,
            });
        }
        let named = |candidate: &&ChainCert| candidate.subject_name() == cert.issuer_name();
        let mut last_error = None;
        for anchor in self.anchors.iter().filter(named) {
            match self.accept_issuer(cert, anchor, cas_below) {
                Ok(()) => return Ok(vec![anchor]),
                Err(e) => last_error = Some(e),
            }
        }
        for intermediate in self.intermediates.iter().filter(named) {
            if intermediate.der() == cert.der() {
                continue; // a self-issued certificate is not its own intermediate
            }
            let path = self
                .accept_issuer(cert, intermediate, cas_below)
                .and_then(|()| self.issuers_of(intermediate, cas_below + 1));
            match path {
                Ok(mut path) => {
                    path.insert(0, intermediate);
                    return Ok(path);
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| TrustError::UntrustedIssuer {
            issuer: excerpt(&cert.issuer()),
        }))
    }

    /// Checks one link: `issuer` signed `cert`, may issue it, and is within its validity period.
    fn accept_issuer(
        &self,
        cert: &ChainCert,
        issuer: &ChainCert,
        cas_below: usize,
    ) -> Result<(), TrustError> {
        verify_signed_by(cert, issuer)?;
        issuer.check_can_issue(cas_below)?;
        issuer.check_validity(self.now, self.clock_skew)
    }
}

#[cfg(test)]
mod tests;
