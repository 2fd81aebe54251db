//! The client's side of SCEP, for the device simulator and tests: a PKCSReq or RenewalReq built
//! from a CSR, and a CertRep read back (signature checked, certificate decrypted).

use super::attributes::{self, FailInfo, MessageType, PkiStatus};
use super::cipher::ContentCipher;
use super::signed::{self, Digest, Signer};
use super::ScepError;
use openssl::pkcs7::{Pkcs7, Pkcs7Flags};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509Ref, X509};

/// How to build a request.
#[derive(Debug, Clone)]
pub struct RequestOptions {
    /// PKCSReq (with a challenge) or RenewalReq (signed by the identity being renewed).
    pub message_type: MessageType,
    /// Envelope encryption.
    pub cipher: ContentCipher,
    /// Signature digest.
    pub digest: Digest,
    /// Also put this challengePassword in the signed attributes, as Apple's mdmclient does.
    pub signed_challenge: Option<String>,
}

impl Default for RequestOptions {
    fn default() -> Self {
        RequestOptions {
            message_type: MessageType::PkcsReq,
            cipher: ContentCipher::Aes256Cbc,
            digest: Digest::Sha256,
            signed_challenge: None,
        }
    }
}

/// A built request and what its reply must echo.
#[derive(Debug, Clone)]
pub struct ClientRequest {
    /// The DER `pkiMessage` (POST body, or base64 in a GET query).
    pub message: Vec<u8>,
    /// transactionID.
    pub transaction_id: String,
    /// senderNonce.
    pub sender_nonce: Vec<u8>,
}

/// Builds a `pkiMessage` carrying `csr_der`, encrypted to `ca` and signed by `signer`.
pub fn build_request(
    csr_der: &[u8],
    signer: Signer<'_>,
    ca: &X509Ref,
    options: &RequestOptions,
) -> Result<ClientRequest, ScepError> {
    let key_digest = openssl::hash::hash(
        openssl::hash::MessageDigest::sha256(),
        &signer.key.public_key_to_der()?,
    )?;
    let transaction_id = hex::encode(key_digest);
    let mut sender_nonce = vec![0u8; 16];
    openssl::rand::rand_bytes(&mut sender_nonce)?;
    let mut recipients = Stack::<X509>::new()?;
    recipients.push(ca.to_owned())?;
    let envelope = Pkcs7::encrypt(
        &recipients,
        csr_der,
        options.cipher.openssl()?,
        Pkcs7Flags::BINARY,
    )?
    .to_der()?;
    let mut attrs = vec![
        attributes::printable(attributes::MESSAGE_TYPE, options.message_type.code()),
        attributes::printable(attributes::TRANSACTION_ID, &transaction_id),
        attributes::octets(attributes::SENDER_NONCE, &sender_nonce),
    ];
    if let Some(challenge) = &options.signed_challenge {
        attrs.push(asn1_challenge(challenge));
    }
    let message = signed::build(signer, options.digest, Some(&envelope), attrs)?;
    Ok(ClientRequest {
        message,
        transaction_id,
        sender_nonce,
    })
}

fn asn1_challenge(challenge: &str) -> Vec<u8> {
    super::asn1::attribute(
        attributes::CHALLENGE_PASSWORD,
        attributes::challenge_value(challenge),
    )
}

/// A CertRep as the client reads it.
#[derive(Debug)]
pub struct CertRep {
    /// pkiStatus.
    pub status: PkiStatus,
    /// failInfo (FAILURE only).
    pub fail_info: Option<FailInfo>,
    /// failInfoText, if the server sent one.
    pub fail_info_text: Option<String>,
    /// The certificates of a SUCCESS, issued certificate first.
    pub certificates: Vec<X509>,
}

/// Reads a CertRep answering `request`: the signature must be the CA's, transaction and nonce
/// must match, and a SUCCESS envelope is decrypted with the requester's key.
pub fn read_cert_rep(
    message: &[u8],
    ca: &X509Ref,
    requester: Signer<'_>,
    request: &ClientRequest,
) -> Result<CertRep, ScepError> {
    let view = signed::read(message)?;
    let pkcs7 =
        Pkcs7::from_der(message).map_err(|e| ScepError::Malformed(format!("CertRep: {e}")))?;
    let mut trusted = Stack::<X509>::new()?;
    trusted.push(ca.to_owned())?;
    let store = X509StoreBuilder::new()?.build();
    // A FAILURE has no content: its messageDigest is over the empty string.
    let detached: Option<&[u8]> = if view.content.is_none() {
        Some(&[])
    } else {
        None
    };
    pkcs7
        .verify(
            &trusted,
            &store,
            detached,
            None,
            Pkcs7Flags::NOVERIFY | Pkcs7Flags::NOINTERN,
        )
        .map_err(|e| ScepError::BadSignature(format!("CertRep is not signed by the CA: {e}")))?;
    let attrs = view.attributes;
    if attrs.message_type.as_deref() != Some(MessageType::CertRep.code()) {
        return Err(ScepError::Malformed("not a CertRep".into()));
    }
    if attrs.transaction_id.as_deref() != Some(request.transaction_id.as_str())
        || attrs.recipient_nonce.as_deref() != Some(request.sender_nonce.as_slice())
    {
        return Err(ScepError::Malformed(
            "the CertRep answers another transaction or nonce".into(),
        ));
    }
    let status = attrs
        .pki_status
        .as_deref()
        .and_then(PkiStatus::from_code)
        .ok_or_else(|| ScepError::Malformed("missing pkiStatus".into()))?;
    let fail_info = attrs.fail_info.as_deref().and_then(FailInfo::from_code);
    let mut certificates = Vec::new();
    if status == PkiStatus::Success {
        let envelope = view
            .content
            .ok_or_else(|| ScepError::Malformed("SUCCESS without an envelope".into()))?;
        let degenerate = Pkcs7::from_der(&envelope)
            .map_err(|e| ScepError::Malformed(format!("envelope: {e}")))?
            .decrypt(requester.key, requester.cert, Pkcs7Flags::BINARY)
            .map_err(|e| ScepError::Decrypt(e.to_string()))?;
        certificates = certificates_of(&degenerate)?;
    }
    Ok(CertRep {
        status,
        fail_info,
        fail_info_text: attrs.fail_info_text,
        certificates,
    })
}

/// The certificates of a (degenerate) SignedData.
pub fn certificates_of(signed_data: &[u8]) -> Result<Vec<X509>, ScepError> {
    let pkcs7 = Pkcs7::from_der(signed_data)
        .map_err(|e| ScepError::Malformed(format!("certificates-only SignedData: {e}")))?;
    Ok(pkcs7
        .signed()
        .and_then(|signed| signed.certificates())
        .map(|certs| certs.iter().map(X509Ref::to_owned).collect())
        .unwrap_or_default())
}
