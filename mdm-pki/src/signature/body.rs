//! The `SignerInfo`'s signature over the body, with or without signed attributes.
//!
//! Without signed attributes (what macOS sends) the signature is over the body's digest directly.
//! With them (Go's pkcs7 in simulators; reportedly iOS) the signature is over the digest of the
//! DER SET OF attributes, and the `messageDigest` attribute must be the body's digest (RFC 5652
//! §5.4).

use cms::signed_data::SignedAttributes;
use x509_cert::der::asn1::OctetString;
use x509_cert::der::oid::ObjectIdentifier;

use super::envelope::Envelope;
use super::SignatureError;
use crate::algorithm::{
    DigestAlgorithm, PublicKey, Rejected, Scheme, ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST,
};
use crate::ChainCert;

impl Envelope {
    /// Checks that `signer`'s key signed `body` as this `SignerInfo` says.
    pub(crate) fn verify_body(
        &self,
        signer: &ChainCert,
        body: &[u8],
    ) -> Result<(), SignatureError> {
        let key =
            PublicKey::from_spki(&signer.certificate().tbs_certificate.subject_public_key_info)?;
        self.verify_body_with(&key, body)
    }

    /// [`Envelope::verify_body`] with the signer's key already read.
    pub(crate) fn verify_body_with(
        &self,
        key: &PublicKey,
        body: &[u8],
    ) -> Result<(), SignatureError> {
        let info = &self.signer_info;
        let digest_alg = DigestAlgorithm::from_oid(&info.digest_alg.oid).ok_or_else(|| {
            SignatureError::UnsupportedDigestAlgorithm {
                oid: info.digest_alg.oid.to_string(),
            }
        })?;
        let scheme = Scheme::from_oid(&info.signature_algorithm.oid).ok_or_else(|| {
            SignatureError::UnsupportedSignatureAlgorithm {
                oid: info.signature_algorithm.oid.to_string(),
            }
        })?;
        if scheme.digest.is_some_and(|named| named != digest_alg) {
            return Err(SignatureError::AlgorithmMismatch {
                what: "the signature algorithm's digest and the digestAlgorithm",
            });
        }
        let body_digest = digest_alg.digest(body);
        let signed_digest = match (&info.signed_attrs, &self.signed_attrs) {
            (None, _) => body_digest,
            (Some(attributes), Some(der)) => {
                check_attributes(attributes, &body_digest)?;
                digest_alg.digest(der)
            }
            (Some(_), None) => {
                return Err(SignatureError::MalformedCms {
                    reason: "the signed attributes could not be located".to_owned(),
                })
            }
        };
        key.verify_digest(
            scheme.key,
            digest_alg,
            &signed_digest,
            info.signature.as_bytes(),
        )
        .map_err(|rejected| match rejected {
            Rejected::WrongKeyKind => SignatureError::AlgorithmMismatch {
                what: "the signature algorithm and the signer's key type",
            },
            Rejected::BadSignature => SignatureError::BadSignature,
        })
    }
}

/// Checks `messageDigest` against the body's digest, and `contentType` (when present) is id-data.
///
/// RFC 5652 requires `contentType` whenever there are signed attributes; its absence is tolerated
/// because it protects against a content-type substitution that cannot happen here (only id-data
/// is accepted at all), and refusing it would refuse a signer for nothing.
fn check_attributes(
    attributes: &SignedAttributes,
    body_digest: &[u8],
) -> Result<(), SignatureError> {
    let mut message_digest = None;
    let mut content_type = None;
    for attribute in attributes.iter() {
        let (name, slot) = match attribute.oid {
            ID_MESSAGE_DIGEST => ("messageDigest", &mut message_digest),
            ID_CONTENT_TYPE => ("contentType", &mut content_type),
            _ => continue,
        };
        let malformed = SignatureError::MalformedSignedAttribute { attribute: name };
        let [value] = attribute.values.as_slice() else {
            return Err(malformed);
        };
        if slot.replace(value).is_some() {
            return Err(malformed);
        }
    }
    if let Some(value) = content_type {
        let oid: ObjectIdentifier =
            value
                .decode_as()
                .map_err(|_| SignatureError::MalformedSignedAttribute {
                    attribute: "contentType",
                })?;
        if oid != ID_DATA {
            return Err(SignatureError::UnexpectedContentType {
                oid: oid.to_string(),
            });
        }
    }
    let value = message_digest.ok_or(SignatureError::MissingMessageDigest)?;
    let digest: OctetString =
        value
            .decode_as()
            .map_err(|_| SignatureError::MalformedSignedAttribute {
                attribute: "messageDigest",
            })?;
    if digest.as_bytes() != body_digest {
        return Err(SignatureError::MessageDigestMismatch);
    }
    Ok(())
}
