//! The server's answer to a PKIOperation: a CertRep signed by the CA, SUCCESS with the issued
//! certificate encrypted to the requester, or FAILURE with a failInfo (RFC 8894 §3.3.2).

use super::attributes::{self, FailInfo, MessageType, PkiStatus};
use super::cipher::ContentCipher;
use super::signed::{self, Digest, Signer};
use super::ScepError;
use openssl::pkcs7::{Pkcs7, Pkcs7Flags};
use openssl::stack::Stack;
use openssl::x509::{X509Ref, X509};

/// Who a reply answers: the request's transaction and nonce, and the digest it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyTo {
    /// transactionID, echoed.
    pub transaction_id: String,
    /// The request's senderNonce, echoed as recipientNonce.
    pub sender_nonce: Vec<u8>,
    /// Digest of the reply's signature (the request's: a client that signs with SHA-1 may
    /// verify nothing else).
    pub digest: Digest,
}

fn common_attributes(to: &ReplyTo, status: PkiStatus) -> Result<Vec<Vec<u8>>, ScepError> {
    let mut nonce = [0u8; 16];
    openssl::rand::rand_bytes(&mut nonce)?;
    Ok(vec![
        attributes::printable(attributes::MESSAGE_TYPE, MessageType::CertRep.code()),
        attributes::printable(attributes::PKI_STATUS, status.code()),
        attributes::printable(attributes::TRANSACTION_ID, &to.transaction_id),
        attributes::octets(attributes::SENDER_NONCE, &nonce),
        attributes::octets(attributes::RECIPIENT_NONCE, &to.sender_nonce),
    ])
}

/// CertRep SUCCESS: `issued` (and `chain`, if any) in a certificates-only SignedData, encrypted
/// with `cipher` to `recipient` (the request's signer), signed by the CA.
pub fn success(
    to: &ReplyTo,
    ca: Signer<'_>,
    issued: &X509Ref,
    chain: &[&X509Ref],
    recipient: &X509Ref,
    cipher: ContentCipher,
) -> Result<Vec<u8>, ScepError> {
    let mut certs = vec![issued];
    certs.extend_from_slice(chain);
    let degenerate = signed::certificates_only(&certs)?;
    let mut recipients = Stack::<X509>::new()?;
    recipients.push(recipient.to_owned())?;
    let envelope = Pkcs7::encrypt(
        &recipients,
        &degenerate,
        cipher.openssl()?,
        Pkcs7Flags::BINARY,
    )?
    .to_der()?;
    signed::build(
        ca,
        to.digest,
        Some(&envelope),
        common_attributes(to, PkiStatus::Success)?,
    )
}

/// CertRep FAILURE with `fail_info` and, for people reading logs, a short `text`.
pub fn failure(
    to: &ReplyTo,
    ca: Signer<'_>,
    fail_info: FailInfo,
    text: &str,
) -> Result<Vec<u8>, ScepError> {
    let mut attrs = common_attributes(to, PkiStatus::Failure)?;
    attrs.push(attributes::printable(
        attributes::FAIL_INFO,
        fail_info.code(),
    ));
    if !text.is_empty() {
        attrs.push(attributes::utf8(attributes::FAIL_INFO_TEXT, text));
    }
    signed::build(ca, to.digest, None, attrs)
}
