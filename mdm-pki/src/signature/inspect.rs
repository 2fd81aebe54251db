//! [`inspect`]: verify an `Mdm-Signature` and describe it, for the operator's tool.

use super::envelope::Envelope;
use super::{SignatureError, SignatureVerifier};
use crate::algorithm::algorithm_name;

/// What an `Mdm-Signature` says and whether it verifies. Each description field is `None` when
/// decoding stopped before it could be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inspection {
    /// The signer certificate's subject (RFC 4514; empty for an empty subject).
    pub subject: Option<String>,
    /// The signer certificate's issuer (RFC 4514).
    pub issuer: Option<String>,
    /// The signer certificate's Common Name (empty if none; `None` if unreadable or ambiguous).
    pub common_name: Option<String>,
    /// The SHA-256 of the signer certificate's DER.
    pub sha256: Option<[u8; 32]>,
    /// The signer certificate's notBefore, in Unix seconds.
    pub not_before: Option<i64>,
    /// The signer certificate's notAfter, in Unix seconds.
    pub not_after: Option<i64>,
    /// The SignerInfo's digest algorithm (`SHA-256`, …, or the OID when unknown).
    pub digest_algorithm: Option<String>,
    /// The SignerInfo's signature algorithm (`rsaEncryption`, …, or the OID when unknown).
    pub signature_algorithm: Option<String>,
    /// Whether the SignerInfo has signed attributes.
    pub signed_attributes: Option<bool>,
    /// How many certificates the SignedData carries.
    pub certificates: usize,
    /// Whether the verdict includes the chain to the CAs (a verifier was given).
    pub chain_checked: bool,
    /// `Ok` when the signature verifies over the body (and, when `chain_checked`, the signer
    /// chains to the verifier's CAs exactly as [`SignatureVerifier::verify`] requires); otherwise
    /// the first reason it does not.
    pub verdict: Result<(), SignatureError>,
}

/// Verifies and describes the base64 `Mdm-Signature` header value over `body` at `now` (Unix
/// seconds): who signed, with what, and why it is not accepted, reading as much as can be read
/// even when verification fails. Without a verifier, the verdict covers the signature over the
/// body only, not the chain.
pub fn inspect(
    header: &[u8],
    body: &[u8],
    verifier: Option<&SignatureVerifier>,
    now: i64,
) -> Inspection {
    let mut inspection = Inspection {
        subject: None,
        issuer: None,
        common_name: None,
        sha256: None,
        not_before: None,
        not_after: None,
        digest_algorithm: None,
        signature_algorithm: None,
        signed_attributes: None,
        certificates: 0,
        chain_checked: verifier.is_some(),
        verdict: Ok(()),
    };
    let envelope = match Envelope::decode(header) {
        Ok(envelope) => envelope,
        Err(e) => {
            inspection.verdict = Err(e);
            return inspection;
        }
    };
    let info = &envelope.signer_info;
    inspection.digest_algorithm = Some(algorithm_name(&info.digest_alg.oid));
    inspection.signature_algorithm = Some(algorithm_name(&info.signature_algorithm.oid));
    inspection.signed_attributes = Some(info.signed_attrs.is_some());
    inspection.certificates = envelope.certificates.len();
    let signer = match envelope.signer_certificate() {
        Ok(signer) => signer,
        Err(e) => {
            inspection.verdict = Err(e);
            return inspection;
        }
    };
    inspection.subject = Some(signer.subject());
    inspection.issuer = Some(signer.issuer());
    inspection.common_name = signer.common_name().ok();
    inspection.sha256 = Some(signer.sha256());
    inspection.not_before = Some(signer.not_before());
    inspection.not_after = Some(signer.not_after());
    inspection.verdict = match verifier {
        Some(verifier) => verifier
            .verify_signer(&envelope, &signer, body, now)
            .map(|_| ()),
        None => envelope.verify_body(&signer, body),
    };
    inspection
}
