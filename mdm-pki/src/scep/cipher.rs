//! Content-encryption algorithms of SCEP envelopes, and OpenSSL's legacy provider for single DES.
//!
//! Real clients differ (docs/architecture.md §11): Apple's mdmclient sends 3DES or AES, some widely
//! used clients single DES-CBC even when AES is offered. OpenSSL 3 moved single DES into its
//! `legacy` provider, so [`load_legacy_provider`] loads it once at start-up; when it cannot,
//! [`ContentCipher::openssl`] refuses DES with a clear error instead of failing deep inside a
//! decryption.

use super::asn1::{self, tag};
use super::ScepError;
use openssl::provider::Provider;
use openssl::symm::Cipher;
use std::sync::OnceLock;

/// A content-encryption algorithm of a PKCS#7 EnvelopedData.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentCipher {
    /// DES-CBC (1.3.14.3.2.7): weak, but some clients send nothing else.
    DesCbc,
    /// DES-EDE3-CBC (1.2.840.113549.3.7): Apple devices.
    DesEde3Cbc,
    /// AES-128-CBC.
    Aes128Cbc,
    /// AES-192-CBC.
    Aes192Cbc,
    /// AES-256-CBC.
    Aes256Cbc,
}

impl ContentCipher {
    /// Every supported cipher.
    pub const ALL: [ContentCipher; 5] = [
        ContentCipher::DesCbc,
        ContentCipher::DesEde3Cbc,
        ContentCipher::Aes128Cbc,
        ContentCipher::Aes192Cbc,
        ContentCipher::Aes256Cbc,
    ];

    /// The algorithm's OID, dotted.
    pub fn oid(self) -> &'static str {
        match self {
            ContentCipher::DesCbc => "1.3.14.3.2.7",
            ContentCipher::DesEde3Cbc => "1.2.840.113549.3.7",
            ContentCipher::Aes128Cbc => "2.16.840.1.101.3.4.1.2",
            ContentCipher::Aes192Cbc => "2.16.840.1.101.3.4.1.22",
            ContentCipher::Aes256Cbc => "2.16.840.1.101.3.4.1.42",
        }
    }

    /// A short name for logs.
    pub fn name(self) -> &'static str {
        match self {
            ContentCipher::DesCbc => "DES-CBC",
            ContentCipher::DesEde3Cbc => "DES-EDE3-CBC",
            ContentCipher::Aes128Cbc => "AES-128-CBC",
            ContentCipher::Aes192Cbc => "AES-192-CBC",
            ContentCipher::Aes256Cbc => "AES-256-CBC",
        }
    }

    /// The cipher for an encoded OID (the whole TLV).
    pub fn from_oid_tlv(raw: &[u8]) -> Option<ContentCipher> {
        ContentCipher::ALL
            .into_iter()
            .find(|cipher| asn1::oid(cipher.oid()) == raw)
    }

    /// OpenSSL's cipher. Single DES is refused when the legacy provider is not loaded.
    pub fn openssl(self) -> Result<Cipher, ScepError> {
        Ok(match self {
            ContentCipher::DesCbc => {
                if !single_des_available() {
                    return Err(ScepError::UnsupportedCipher(format!(
                        "DES-CBC needs OpenSSL's legacy provider, which is not loaded ({})",
                        legacy_status().err().unwrap_or("not attempted")
                    )));
                }
                Cipher::des_cbc()
            }
            ContentCipher::DesEde3Cbc => Cipher::des_ede3_cbc(),
            ContentCipher::Aes128Cbc => Cipher::aes_128_cbc(),
            ContentCipher::Aes192Cbc => Cipher::aes_192_cbc(),
            ContentCipher::Aes256Cbc => Cipher::aes_256_cbc(),
        })
    }
}

/// The default and legacy providers, kept loaded for the life of the process (dropping a
/// `Provider` would unload it).
static LEGACY: OnceLock<Result<(Provider, Provider), String>> = OnceLock::new();

/// Loads OpenSSL's `legacy` provider into the default library context, keeping the default
/// provider available. Idempotent; call it once at start-up. Returns why it failed, if it did.
///
/// The default provider is loaded explicitly first: the legacy provider works in a child of the
/// library context that only sees the providers active when it is loaded, and DES key
/// generation (encrypting a reply to a DES client) needs the default provider's DRBG there.
/// Left to OpenSSL's lazy fallback, that depends on what ran before.
pub fn load_legacy_provider() -> Result<(), &'static str> {
    LEGACY
        .get_or_init(|| {
            let default = Provider::try_load(None, "default", true)
                .map_err(|e| format!("default provider: {e}"))?;
            let legacy = Provider::try_load(None, "legacy", true)
                .map_err(|e| format!("legacy provider: {e}"))?;
            Ok((default, legacy))
        })
        .as_ref()
        .map(|_| ())
        .map_err(String::as_str)
}

fn legacy_status() -> Result<(), &'static str> {
    match LEGACY.get() {
        Some(Ok(_)) => Ok(()),
        Some(Err(why)) => Err(why.as_str()),
        None => Err("load_legacy_provider was not called"),
    }
}

/// Whether single DES-CBC works in this process (the legacy provider is loaded and usable).
pub fn single_des_available() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    if legacy_status().is_err() {
        return false;
    }
    // Probed once: encrypting to a recipient with a fresh random key exercises what a reply
    // needs (DES key generation through the DRBG), not only the cipher.
    *WORKS.get_or_init(|| {
        probe_recipient()
            .and_then(|recipient| {
                Ok(openssl::pkcs7::Pkcs7::encrypt(
                    &recipient,
                    b"probe",
                    Cipher::des_cbc(),
                    openssl::pkcs7::Pkcs7Flags::BINARY,
                )?)
            })
            .is_ok()
    })
}

/// A throwaway recipient for [`single_des_available`]'s probe.
fn probe_recipient() -> Result<openssl::stack::Stack<openssl::x509::X509>, ScepError> {
    let key = crate::pki::rsa_key(1024)?;
    let name = crate::pki::name("probe", None)?;
    let cert = crate::pki::self_signed_signer(&key, &name)?;
    let mut stack = openssl::stack::Stack::new()?;
    stack.push(cert)?;
    Ok(stack)
}

/// The content-encryption algorithm of a PKCS#7 EnvelopedData (a DER ContentInfo).
pub fn envelope_cipher(content_info: &[u8]) -> Result<ContentCipher, ScepError> {
    let outer = asn1::read_only(content_info)?
        .expect(tag::SEQUENCE, "ContentInfo")?
        .children()?;
    let explicit = outer
        .get(1)
        .ok_or_else(|| ScepError::Malformed("ContentInfo without content".into()))?
        .expect(tag::CONTEXT_0, "ContentInfo content")?;
    let enveloped = asn1::read_only(explicit.content)?
        .expect(tag::SEQUENCE, "EnvelopedData")?
        .children()?;
    // version, [0] originatorInfo (optional), recipientInfos, encryptedContentInfo, ...
    let encrypted = enveloped
        .iter()
        .skip(1)
        .find(|item| item.tag == tag::SEQUENCE)
        .ok_or_else(|| ScepError::Malformed("EnvelopedData without encryptedContentInfo".into()))?
        .children()?;
    let algorithm = encrypted
        .get(1)
        .ok_or_else(|| ScepError::Malformed("no contentEncryptionAlgorithm".into()))?
        .expect(tag::SEQUENCE, "contentEncryptionAlgorithm")?
        .children()?;
    let oid = algorithm
        .first()
        .ok_or_else(|| ScepError::Malformed("empty AlgorithmIdentifier".into()))?;
    ContentCipher::from_oid_tlv(oid.raw).ok_or_else(|| {
        ScepError::UnsupportedCipher(format!(
            "content encryption {} is not supported",
            hex::encode(oid.content)
        ))
    })
}
