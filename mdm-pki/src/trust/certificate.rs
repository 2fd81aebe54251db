//! [`ChainCert`]: a decoded certificate kept with its exact bytes, and what verification reads
//! from it.

use std::time::Duration;

use sha2::{Digest, Sha256};
use x509_cert::der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::{Decode, Tag, Tagged};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, SubjectKeyIdentifier};
use x509_cert::name::Name;
use x509_cert::Certificate;

use super::TrustError;
use mdm_core::error::{excerpt, reason};

/// The Common Name attribute (`2.5.4.3`).
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

/// A certificate taking part in verification: a signer's, an intermediate CA or a trust anchor.
///
/// It keeps the bytes it was decoded from, because a fingerprint and the issuer's signature are
/// over those bytes and not over a re-encoding, and it carries whether its validity period is
/// checked (always, unless [`ChainCert::skip_validity_check`] says otherwise).
#[derive(Clone, Debug)]
pub struct ChainCert {
    der: Vec<u8>,
    cert: Certificate,
    check_validity: bool,
}

impl ChainCert {
    /// Decodes a DER certificate. Its validity period will be checked.
    pub fn from_der(der: Vec<u8>) -> Result<Self, TrustError> {
        let cert = Certificate::from_der(&der).map_err(|e| TrustError::MalformedCertificate {
            reason: reason(&e.to_string()),
        })?;
        Ok(Self {
            der,
            cert,
            check_validity: true,
        })
    }

    /// The same certificate, with its validity-time check skipped.
    ///
    /// Only for a CA that is known to have expired and is still used on purpose: Apple's iPhone
    /// Certification Authority and iPhone Device CA expired in 2022 and 2014, yet device-signed
    /// payloads (OTA enrollment, DEP MachineInfo) chain through them. Everything else about the
    /// certificate (its signature, its CA constraints) is still checked.
    pub fn skip_validity_check(mut self) -> Self {
        self.check_validity = false;
        self
    }

    /// The certificate as DER, exactly as it was given.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The SHA-256 of [`ChainCert::der`]: the fingerprint enrollments are bound to.
    pub fn sha256(&self) -> [u8; 32] {
        Sha256::digest(&self.der).into()
    }

    /// The subject as an RFC 4514 string (empty for an empty subject).
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    /// The issuer as an RFC 4514 string.
    pub fn issuer(&self) -> String {
        self.cert.tbs_certificate.issuer.to_string()
    }

    /// notBefore, in Unix seconds.
    pub fn not_before(&self) -> i64 {
        unix(
            self.cert
                .tbs_certificate
                .validity
                .not_before
                .to_unix_duration(),
        )
    }

    /// notAfter, in Unix seconds.
    pub fn not_after(&self) -> i64 {
        unix(
            self.cert
                .tbs_certificate
                .validity
                .not_after
                .to_unix_duration(),
        )
    }

    /// The subject's Common Name; empty when it has none. Refuses a subject with two, since which
    /// one names the device would be arbitrary.
    pub fn common_name(&self) -> Result<String, TrustError> {
        let mut names = self
            .cert
            .tbs_certificate
            .subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .filter(|atv| atv.oid == COMMON_NAME);
        let Some(name) = names.next() else {
            return Ok(String::new());
        };
        if names.next().is_some() {
            return Err(TrustError::AmbiguousCommonName);
        }
        directory_string(&name.value).ok_or(TrustError::UnreadableCommonName)
    }

    /// The decoded certificate.
    pub(crate) fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// The issuer name, for matching against CA subjects.
    pub(crate) fn issuer_name(&self) -> &Name {
        &self.cert.tbs_certificate.issuer
    }

    /// The subject name, for matching against issuer names.
    pub(crate) fn subject_name(&self) -> &Name {
        &self.cert.tbs_certificate.subject
    }

    /// The subjectKeyIdentifier extension, if present and readable.
    pub(crate) fn subject_key_id(&self) -> Option<SubjectKeyIdentifier> {
        let found = self.cert.tbs_certificate.get::<SubjectKeyIdentifier>();
        found.ok().flatten().map(|(_, ski)| ski)
    }

    /// Checks the validity period at `now` (Unix seconds), `skew` wide on both ends, unless this
    /// certificate skips the check.
    ///
    /// Public for the one place that cannot call [`super::TrustAnchors::verify`]: the edge's TLS
    /// handshake, where OpenSSL verifies the chain and asks only whether a certificate it found
    /// outside its validity period is within the clock skew. The answer must be this one.
    pub fn check_validity(&self, now: i64, skew: Duration) -> Result<(), TrustError> {
        if !self.check_validity {
            return Ok(());
        }
        let skew = i64::try_from(skew.as_secs()).unwrap_or(i64::MAX);
        if now.saturating_add(skew) < self.not_before() {
            return Err(TrustError::CertificateNotYetValid {
                subject: excerpt(&self.subject()),
                not_before: self.not_before(),
                now,
            });
        }
        if now.saturating_sub(skew) > self.not_after() {
            return Err(TrustError::CertificateExpired {
                subject: excerpt(&self.subject()),
                not_after: self.not_after(),
                now,
            });
        }
        Ok(())
    }

    /// Checks that this certificate may issue a certificate that has `cas_below` CA certificates
    /// between it and the end of the chain: its basicConstraints (when present) say `cA` and allow
    /// that path length, and its keyUsage (when present) includes keyCertSign.
    ///
    /// A certificate without basicConstraints is accepted as an issuer, because old roots
    /// (version 1 certificates) have no extensions at all; it can only be in a chain because it
    /// was configured as an anchor or intermediate.
    pub(crate) fn check_can_issue(&self, cas_below: usize) -> Result<(), TrustError> {
        let tbs = &self.cert.tbs_certificate;
        let not_a_ca = || TrustError::NotACa {
            subject: excerpt(&self.subject()),
        };
        match tbs.get::<BasicConstraints>() {
            Ok(None) => {}
            Ok(Some((_, constraints))) if constraints.ca => {
                let allowed = constraints.path_len_constraint.map(usize::from);
                if allowed.is_some_and(|allowed| cas_below > allowed) {
                    return Err(TrustError::PathLengthExceeded {
                        subject: excerpt(&self.subject()),
                    });
                }
            }
            Ok(Some(_)) | Err(_) => return Err(not_a_ca()),
        }
        match tbs.get::<KeyUsage>() {
            Ok(None) => Ok(()),
            Ok(Some((_, usage))) if usage.key_cert_sign() => Ok(()),
            Ok(Some(_)) | Err(_) => Err(not_a_ca()),
        }
    }
}

/// Seconds since the epoch; the `der` crate only represents times from 1970 to 9999.
fn unix(since_epoch: Duration) -> i64 {
    i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
}

/// The text of an attribute value of one of the string types names are written in.
fn directory_string(value: &x509_cert::der::Any) -> Option<String> {
    let text = match value.tag() {
        Tag::Utf8String => Utf8StringRef::try_from(value).ok()?.as_str().to_owned(),
        Tag::PrintableString => PrintableStringRef::try_from(value)
            .ok()?
            .as_str()
            .to_owned(),
        Tag::Ia5String => Ia5StringRef::try_from(value).ok()?.as_str().to_owned(),
        Tag::TeletexString => TeletexStringRef::try_from(value).ok()?.as_str().to_owned(),
        Tag::BmpString => {
            let bytes = value.value();
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units = bytes
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()?
        }
        _ => return None,
    };
    Some(text)
}
