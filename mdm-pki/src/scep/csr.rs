//! PKCS#10 certification requests: read leniently (real devices send version 2, RFC 2986 says 0)
//! with their challengePassword, and built with one (OpenSSL's bindings cannot add attributes).

use super::asn1::{self, tag};
use super::attributes;
use super::signed::Digest;
use super::ScepError;
use openssl::pkey::{Id, PKey, PKeyRef, Private, Public};
use openssl::x509::{X509NameRef, X509Req};

/// A certification request as received.
pub struct Csr {
    /// The request, parsed by OpenSSL (subject, key, signature).
    pub req: X509Req,
    /// The version field as sent (0 per RFC 2986; some devices send 2).
    pub version: u64,
    /// The challengePassword attribute, if the request has one.
    pub challenge: Option<String>,
}

impl std::fmt::Debug for Csr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Csr")
            .field("subject", &self.req.subject_name())
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Csr {
    /// Parses a DER request. Its signature is checked separately ([`Csr::verify_signature`]).
    pub fn parse(der: &[u8]) -> Result<Csr, ScepError> {
        let outer = asn1::read_only(der)?
            .expect(tag::SEQUENCE, "CertificationRequest")?
            .children()?;
        let info = outer
            .first()
            .ok_or_else(|| ScepError::Malformed("empty CSR".into()))?
            .expect(tag::SEQUENCE, "CertificationRequestInfo")?
            .children()?;
        let version = info
            .first()
            .ok_or_else(|| ScepError::Malformed("CSR without version".into()))?
            .small_uint()?;
        let mut challenge = None;
        if let Some(attrs) = info.get(3).filter(|a| a.tag == tag::CONTEXT_0) {
            for attribute in attrs.children()? {
                let parts = attribute
                    .expect(tag::SEQUENCE, "CSR attribute")?
                    .children()?;
                let is_challenge = parts
                    .first()
                    .is_some_and(|oid| oid.raw == asn1::oid(attributes::CHALLENGE_PASSWORD));
                if !is_challenge {
                    continue;
                }
                let values = parts
                    .get(1)
                    .ok_or_else(|| ScepError::Malformed("challengePassword without value".into()))?
                    .children()?;
                if let Some(value) = values.first() {
                    challenge = Some(value.text()?);
                }
            }
        }
        let req = X509Req::from_der(der)
            .map_err(|e| ScepError::Malformed(format!("CSR not readable by OpenSSL: {e}")))?;
        Ok(Csr {
            req,
            version,
            challenge,
        })
    }

    /// Checks the request's self-signature (proof of possession of the key).
    pub fn verify_signature(&self) -> Result<(), ScepError> {
        let key = self.public_key()?;
        match self.req.verify(&key) {
            Ok(true) => Ok(()),
            _ => Err(ScepError::BadSignature(
                "the CSR's signature does not verify".into(),
            )),
        }
    }

    /// The key to certify.
    pub fn public_key(&self) -> Result<PKey<Public>, ScepError> {
        self.req
            .public_key()
            .map_err(|e| ScepError::Malformed(format!("CSR public key: {e}")))
    }

    /// The requested subject.
    pub fn subject(&self) -> &X509NameRef {
        self.req.subject_name()
    }
}

/// Builds and signs a DER request for `key` with `subject` and, when given, a challengePassword.
/// `version` is 0 except in tests reproducing devices that send another value.
pub fn build(
    key: &PKeyRef<Private>,
    subject: &X509NameRef,
    challenge: Option<&str>,
    version: u64,
    digest: Digest,
) -> Result<Vec<u8>, ScepError> {
    let attrs: Vec<Vec<u8>> = challenge
        .map(|c| {
            asn1::attribute(
                attributes::CHALLENGE_PASSWORD,
                attributes::challenge_value(c),
            )
        })
        .into_iter()
        .collect();
    let mut sorted = attrs;
    sorted.sort();
    let info = asn1::sequence(&[
        &asn1::small_uint(version),
        &subject.to_der()?,
        &key.public_key_to_der()?,
        &asn1::tlv(tag::CONTEXT_0, &sorted.concat()),
    ]);
    let mut signer = openssl::sign::Signer::new(digest.openssl(), key)?;
    signer.update(&info)?;
    let signature = signer.sign_to_vec()?;
    let mut bits = Vec::with_capacity(signature.len() + 1);
    bits.push(0);
    bits.extend_from_slice(&signature);
    Ok(asn1::sequence(&[
        &info,
        &signature_algorithm(key.id(), digest),
        &asn1::tlv(tag::BIT_STRING, &bits),
    ]))
}

/// The signature AlgorithmIdentifier for a key type and digest.
pub fn signature_algorithm(key: Id, digest: Digest) -> Vec<u8> {
    if key == Id::EC {
        let oid = match digest {
            Digest::Sha1 => "1.2.840.10045.4.1",
            Digest::Sha256 => "1.2.840.10045.4.3.2",
            Digest::Sha384 => "1.2.840.10045.4.3.3",
            Digest::Sha512 => "1.2.840.10045.4.3.4",
        };
        return asn1::algorithm_without_parameters(oid);
    }
    let oid = match digest {
        Digest::Sha1 => "1.2.840.113549.1.1.5",
        Digest::Sha256 => "1.2.840.113549.1.1.11",
        Digest::Sha384 => "1.2.840.113549.1.1.12",
        Digest::Sha512 => "1.2.840.113549.1.1.13",
    };
    asn1::algorithm(oid)
}
