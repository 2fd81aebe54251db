//! SCEP's signed attributes (RFC 8894 §3.2.1) and the PKCS#9 ones beside them: their OIDs, typed
//! values, how they are encoded and how they are read back from a SignerInfo.

use super::asn1::{self, tag, Tlv};
use super::ScepError;

/// PKCS#9 contentType.
pub const CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
/// PKCS#9 messageDigest.
pub const MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
/// PKCS#9 challengePassword (in a CSR, and from Apple's mdmclient also in the signed attributes).
pub const CHALLENGE_PASSWORD: &str = "1.2.840.113549.1.9.7";
/// SCEP messageType.
pub const MESSAGE_TYPE: &str = "2.16.840.1.113733.1.9.2";
/// SCEP pkiStatus.
pub const PKI_STATUS: &str = "2.16.840.1.113733.1.9.3";
/// SCEP failInfo.
pub const FAIL_INFO: &str = "2.16.840.1.113733.1.9.4";
/// SCEP senderNonce.
pub const SENDER_NONCE: &str = "2.16.840.1.113733.1.9.5";
/// SCEP recipientNonce.
pub const RECIPIENT_NONCE: &str = "2.16.840.1.113733.1.9.6";
/// SCEP transactionID.
pub const TRANSACTION_ID: &str = "2.16.840.1.113733.1.9.7";
/// RFC 8894 failInfoText.
pub const FAIL_INFO_TEXT: &str = "1.3.6.1.5.5.7.24.1";

/// The SCEP message types this codec knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// 3: the CA's answer.
    CertRep,
    /// 17: renewal, signed by the identity being renewed.
    RenewalReq,
    /// 19: a certificate request with a challenge.
    PkcsReq,
    /// 20: poll for a pending request (GetCertInitial).
    CertPoll,
    /// 21: fetch a certificate by issuer and serial.
    GetCert,
    /// 22: fetch a CRL.
    GetCrl,
}

impl MessageType {
    /// The decimal string sent on the wire.
    pub fn code(self) -> &'static str {
        match self {
            MessageType::CertRep => "3",
            MessageType::RenewalReq => "17",
            MessageType::PkcsReq => "19",
            MessageType::CertPoll => "20",
            MessageType::GetCert => "21",
            MessageType::GetCrl => "22",
        }
    }

    /// Parses a wire value.
    pub fn from_code(code: &str) -> Option<MessageType> {
        Some(match code.trim() {
            "3" => MessageType::CertRep,
            "17" => MessageType::RenewalReq,
            "19" => MessageType::PkcsReq,
            "20" => MessageType::CertPoll,
            "21" => MessageType::GetCert,
            "22" => MessageType::GetCrl,
            _ => return None,
        })
    }
}

/// pkiStatus of a CertRep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkiStatus {
    /// 0: the certificate is in the envelope.
    Success,
    /// 2: refused; see [`FailInfo`].
    Failure,
    /// 3: the request waits for approval.
    Pending,
}

impl PkiStatus {
    /// The decimal string sent on the wire.
    pub fn code(self) -> &'static str {
        match self {
            PkiStatus::Success => "0",
            PkiStatus::Failure => "2",
            PkiStatus::Pending => "3",
        }
    }

    /// Parses a wire value.
    pub fn from_code(code: &str) -> Option<PkiStatus> {
        Some(match code.trim() {
            "0" => PkiStatus::Success,
            "2" => PkiStatus::Failure,
            "3" => PkiStatus::Pending,
            _ => return None,
        })
    }
}

/// failInfo of a CertRep FAILURE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailInfo {
    /// 0: unrecognized or unsupported algorithm.
    BadAlg,
    /// 1: integrity check (signature) failed.
    BadMessageCheck,
    /// 2: transaction not permitted or supported (wrong, reused or expired challenge).
    BadRequest,
    /// 3: the signingTime attribute was not close enough to the system time.
    BadTime,
    /// 4: no certificate matches the criteria.
    BadCertId,
}

impl FailInfo {
    /// The decimal string sent on the wire.
    pub fn code(self) -> &'static str {
        match self {
            FailInfo::BadAlg => "0",
            FailInfo::BadMessageCheck => "1",
            FailInfo::BadRequest => "2",
            FailInfo::BadTime => "3",
            FailInfo::BadCertId => "4",
        }
    }

    /// Parses a wire value.
    pub fn from_code(code: &str) -> Option<FailInfo> {
        Some(match code.trim() {
            "0" => FailInfo::BadAlg,
            "1" => FailInfo::BadMessageCheck,
            "2" => FailInfo::BadRequest,
            "3" => FailInfo::BadTime,
            "4" => FailInfo::BadCertId,
            _ => return None,
        })
    }
}

/// The SCEP-relevant signed attributes of one SignerInfo, as sent (absent ones are `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScepAttributes {
    /// messageType, as its decimal string.
    pub message_type: Option<String>,
    /// transactionID.
    pub transaction_id: Option<String>,
    /// senderNonce.
    pub sender_nonce: Option<Vec<u8>>,
    /// recipientNonce.
    pub recipient_nonce: Option<Vec<u8>>,
    /// pkiStatus, as its decimal string.
    pub pki_status: Option<String>,
    /// failInfo, as its decimal string.
    pub fail_info: Option<String>,
    /// failInfoText.
    pub fail_info_text: Option<String>,
    /// challengePassword (Apple's mdmclient puts it here as well as, or instead of, in the CSR).
    pub challenge_password: Option<String>,
}

/// Reads the attributes from the content of a `[0] IMPLICIT SET OF Attribute`.
pub fn read(signed_attributes: &[u8]) -> Result<ScepAttributes, ScepError> {
    let mut found = ScepAttributes::default();
    for attribute in asn1::children(signed_attributes)? {
        let parts = attribute.expect(tag::SEQUENCE, "Attribute")?.children()?;
        let (Some(kind), Some(values)) = (parts.first(), parts.get(1)) else {
            return Err(ScepError::Malformed("an attribute without values".into()));
        };
        let kind = kind.expect(tag::OID, "attribute type")?;
        let values = values.expect(tag::SET, "attribute values")?.children()?;
        let Some(value) = values.first() else {
            continue;
        };
        let text = |v: &Tlv<'_>| v.text();
        let octets = |v: &Tlv<'_>| -> Result<Vec<u8>, ScepError> {
            Ok(v.expect(tag::OCTET_STRING, "nonce")?.content.to_vec())
        };
        match kind.raw {
            k if k == asn1::oid(MESSAGE_TYPE) => found.message_type = Some(text(value)?),
            k if k == asn1::oid(TRANSACTION_ID) => found.transaction_id = Some(text(value)?),
            k if k == asn1::oid(SENDER_NONCE) => found.sender_nonce = Some(octets(value)?),
            k if k == asn1::oid(RECIPIENT_NONCE) => found.recipient_nonce = Some(octets(value)?),
            k if k == asn1::oid(PKI_STATUS) => found.pki_status = Some(text(value)?),
            k if k == asn1::oid(FAIL_INFO) => found.fail_info = Some(text(value)?),
            k if k == asn1::oid(FAIL_INFO_TEXT) => found.fail_info_text = Some(text(value)?),
            k if k == asn1::oid(CHALLENGE_PASSWORD) => {
                found.challenge_password = Some(text(value)?)
            }
            _ => {}
        }
    }
    Ok(found)
}

/// A PrintableString attribute (messageType, pkiStatus, failInfo, transactionID).
pub fn printable(dotted: &str, value: &str) -> Vec<u8> {
    asn1::attribute(dotted, asn1::tlv(tag::PRINTABLE_STRING, value.as_bytes()))
}

/// A UTF8String attribute (failInfoText, challengePassword with non-printable characters).
pub fn utf8(dotted: &str, value: &str) -> Vec<u8> {
    asn1::attribute(dotted, asn1::tlv(tag::UTF8_STRING, value.as_bytes()))
}

/// An OCTET STRING attribute (nonces, messageDigest).
pub fn octets(dotted: &str, value: &[u8]) -> Vec<u8> {
    asn1::attribute(dotted, asn1::tlv(tag::OCTET_STRING, value))
}

/// Whether `value` fits a PrintableString (otherwise it is sent as UTF8String).
pub fn is_printable(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b))
}

/// A challengePassword value in the string type its characters allow.
pub fn challenge_value(challenge: &str) -> Vec<u8> {
    let kind = if is_printable(challenge) {
        tag::PRINTABLE_STRING
    } else {
        tag::UTF8_STRING
    };
    asn1::tlv(kind, challenge.as_bytes())
}
