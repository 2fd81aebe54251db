//! The server's side of a PKIOperation: what a client's `pkiMessage` says, whether its signature
//! holds, and its envelope decrypted with the CA's key.

use super::attributes::MessageType;
use super::cipher::{envelope_cipher, ContentCipher};
use super::reply::ReplyTo;
use super::signed::{self, Digest};
use super::ScepError;
use openssl::pkcs7::{Pkcs7, Pkcs7Flags};
use openssl::pkey::{PKeyRef, Private};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509Ref, X509};

/// A client's signed request, parsed but not yet trusted.
pub struct PkiRequest {
    /// messageType.
    pub message_type: MessageType,
    /// transactionID, echoed in the reply.
    pub transaction_id: String,
    /// senderNonce, returned as the reply's recipientNonce.
    pub sender_nonce: Vec<u8>,
    /// The SignerInfo's digest algorithm (the reply uses the same).
    pub digest: Digest,
    /// A challengePassword among the signed attributes (Apple's mdmclient).
    pub signed_challenge: Option<String>,
    /// The signer's certificate: self-signed for PKCSReq, the identity being renewed for
    /// RenewalReq. The reply's envelope is encrypted to it.
    pub signer: X509,
    envelope: Vec<u8>,
    pkcs7: Pkcs7,
}

impl std::fmt::Debug for PkiRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PkiRequest")
            .field("message_type", &self.message_type)
            .field("transaction_id", &self.transaction_id)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

/// Parses a `pkiMessage`. [`ScepError::Malformed`] means no reply can be built (no transaction
/// ID, nonce or signer to answer): the caller answers an HTTP error instead of a CertRep.
pub fn parse_pki_message(message: &[u8]) -> Result<PkiRequest, ScepError> {
    let view = signed::read(message)?;
    let attributes = view.attributes;
    let message_type = attributes
        .message_type
        .as_deref()
        .and_then(MessageType::from_code)
        .ok_or_else(|| ScepError::Malformed("missing or unknown messageType".into()))?;
    let transaction_id = attributes
        .transaction_id
        .filter(|id| !id.is_empty() && id.len() <= 256)
        .ok_or_else(|| ScepError::Malformed("missing transactionID".into()))?;
    let sender_nonce = attributes
        .sender_nonce
        .filter(|nonce| !nonce.is_empty() && nonce.len() <= 64)
        .ok_or_else(|| ScepError::Malformed("missing senderNonce".into()))?;
    let envelope = view
        .content
        .ok_or_else(|| ScepError::Malformed("no pkcsPKIEnvelope".into()))?;
    let pkcs7 = Pkcs7::from_der(message)
        .map_err(|e| ScepError::Malformed(format!("not a PKCS#7 message: {e}")))?;
    let no_certs = Stack::<X509>::new()?;
    let signer = pkcs7
        .signers(&no_certs, Pkcs7Flags::empty())
        .ok()
        .and_then(|signers| signers.iter().next().map(X509Ref::to_owned))
        .ok_or_else(|| {
            ScepError::Malformed("the signer's certificate is not in the message".into())
        })?;
    Ok(PkiRequest {
        message_type,
        transaction_id,
        sender_nonce,
        digest: view.digest.unwrap_or(Digest::Sha256),
        signed_challenge: attributes.challenge_password,
        signer,
        envelope,
        pkcs7,
    })
}

impl PkiRequest {
    /// Checks the signature (by the certificate in the message; who that is, is the caller's
    /// business) and the messageDigest.
    pub fn verify_signature(&self) -> Result<(), ScepError> {
        let no_certs = Stack::<X509>::new()?;
        let store = X509StoreBuilder::new()?.build();
        self.pkcs7
            .verify(&no_certs, &store, None, None, Pkcs7Flags::NOVERIFY)
            .map_err(|e| ScepError::BadSignature(format!("pkiMessage signature: {e}")))
    }

    /// Decrypts the envelope with the recipient's (the CA's) certificate and key; answers the
    /// content (a CSR for PKCSReq and RenewalReq) and the cipher the client chose.
    pub fn decrypt(
        &self,
        cert: &X509Ref,
        key: &PKeyRef<Private>,
    ) -> Result<(Vec<u8>, ContentCipher), ScepError> {
        let envelope = Pkcs7::from_der(&self.envelope)
            .map_err(|e| ScepError::Malformed(format!("pkcsPKIEnvelope: {e}")))?;
        let cipher = match envelope_cipher(&self.envelope) {
            Err(ScepError::Malformed(_)) => envelope_cipher(&envelope.to_der()?)?,
            other => other?,
        };
        // Refuses single DES up front when the legacy provider is missing.
        cipher.openssl()?;
        let content = envelope
            .decrypt(key, cert, Pkcs7Flags::BINARY)
            .map_err(|e| ScepError::Decrypt(format!("{} envelope: {e}", cipher.name())))?;
        Ok((content, cipher))
    }

    /// Where a reply to this request goes.
    pub fn reply_to(&self) -> ReplyTo {
        ReplyTo {
            transaction_id: self.transaction_id.clone(),
            sender_nonce: self.sender_nonce.clone(),
            digest: self.digest,
        }
    }
}
