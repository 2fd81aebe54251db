//! The header value to a decoded, not yet verified, `SignedData`: bounds, base64, BER, CMS, and
//! the shape a detached signature by one signer must have.

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use x509_cert::der::Decode;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use super::{ber_to_der, SignatureError, MAX_HEADER_BYTES};
use crate::algorithm::{ID_DATA, ID_SIGNED_DATA};
use crate::{raw, ChainCert};
use mdm_core::decode::decode_base64;
use mdm_core::error::reason;

/// A decoded `Mdm-Signature`: one `SignerInfo`, the certificates sent with it, and the exact
/// bytes its signed attributes were signed as.
pub(crate) struct Envelope {
    /// The only signer.
    pub signer_info: SignerInfo,
    /// The signed attributes as the SET OF their signature covers, if there are any.
    pub signed_attrs: Option<Vec<u8>>,
    /// The certificate set, each as DER exactly as sent.
    pub certificates: Vec<Vec<u8>>,
}

impl Envelope {
    /// Decodes a header value. Every bound is checked before the work it limits: the header
    /// length before base64, the nesting depth before DER decoding.
    pub(crate) fn decode(header: &[u8]) -> Result<Self, SignatureError> {
        if header.len() > MAX_HEADER_BYTES {
            return Err(SignatureError::HeaderTooLarge {
                len: header.len(),
                max: MAX_HEADER_BYTES,
            });
        }
        let text = std::str::from_utf8(header).map_err(|_| SignatureError::InvalidBase64 {
            reason: "the header is not ASCII text".to_owned(),
        })?;
        if text.trim().is_empty() {
            return Err(SignatureError::EmptyHeader);
        }
        let ber = decode_base64(text).map_err(|reason| SignatureError::InvalidBase64 { reason })?;
        let der = ber_to_der(&ber)?;
        let cms = |e: x509_cert::der::Error| SignatureError::MalformedCms {
            reason: reason(&e.to_string()),
        };
        let content_info = ContentInfo::from_der(&der).map_err(cms)?;
        if content_info.content_type != ID_SIGNED_DATA {
            return Err(SignatureError::NotSignedData {
                oid: content_info.content_type.to_string(),
            });
        }
        let signed_data: SignedData = content_info.content.decode_as().map_err(cms)?;
        let encapsulated = &signed_data.encap_content_info;
        if encapsulated.econtent_type != ID_DATA {
            return Err(SignatureError::UnexpectedContentType {
                oid: encapsulated.econtent_type.to_string(),
            });
        }
        if encapsulated.econtent.is_some() {
            return Err(SignatureError::NotDetached);
        }
        let mut signer_infos = signed_data.signer_infos.0.into_vec();
        if signer_infos.len() != 1 {
            return Err(SignatureError::SignerCount {
                count: signer_infos.len(),
            });
        }
        let parts = raw::signed_data_parts(&der).ok_or_else(|| SignatureError::MalformedCms {
            reason: "the SignedData layout is not the one decoded".to_owned(),
        })?;
        Ok(Self {
            signer_info: signer_infos.remove(0),
            signed_attrs: parts.signed_attrs,
            certificates: parts.certificates.into_iter().map(<[u8]>::to_vec).collect(),
        })
    }

    /// The certificate the signer identifier names, from the certificate set. A certificate that
    /// does not decode cannot be matched; if no other matches, its decoding error is the answer.
    pub(crate) fn signer_certificate(&self) -> Result<ChainCert, SignatureError> {
        let mut undecodable = None;
        for der in &self.certificates {
            match ChainCert::from_der(der.clone()) {
                Ok(cert) if self.names(&cert) => return Ok(cert),
                Ok(_) => {}
                Err(e) => undecodable = Some(e),
            }
        }
        Err(undecodable.map_or(SignatureError::SignerCertificateMissing, Into::into))
    }

    /// Whether `cert` is the one the signer identifier names.
    fn names(&self, cert: &ChainCert) -> bool {
        match &self.signer_info.sid {
            SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer,
                serial_number,
            }) => {
                let tbs = &cert.certificate().tbs_certificate;
                tbs.issuer == *issuer && tbs.serial_number == *serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(SubjectKeyIdentifier(wanted)) => cert
                .subject_key_id()
                .is_some_and(|SubjectKeyIdentifier(id)| id == *wanted),
        }
    }
}
