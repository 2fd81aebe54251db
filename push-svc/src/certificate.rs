//! Reading an uploaded MDM push certificate: PEM (certificate + key, PKCS#1, PKCS#8 or SEC1)
//! or PKCS#12 with a password (modern AES/PBKDF2, or legacy RC2/3DES as older Keychain and
//! OpenSSL exports are). Whatever the form, the same checks follow: the certificate carries a
//! `com.apple.mgmt.` UID attribute (the push topic), the key belongs to it, and it has not
//! expired.

use crate::error::Error;
use base64::Engine;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The UID attribute (OID 0.9.2342.19200300.100.1.1) that holds the push topic.
const UID_OID: &str = "0.9.2342.19200300.100.1.1";

/// Every MDM push topic starts with this.
pub const TOPIC_PREFIX: &str = "com.apple.mgmt.";

/// A push certificate that passed every check, with its key.
#[derive(Debug)]
pub struct PushCertificate {
    /// Leaf first, then whatever chain came with it.
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key of the leaf.
    pub key: PrivateKeyDer<'static>,
    /// The push topic (the leaf's UID attribute).
    pub topic: String,
    /// The leaf's subject, RFC 4514 style.
    pub subject: String,
    /// The leaf's issuer.
    pub issuer: String,
    /// The leaf's serial number, hex.
    pub serial: String,
    /// Hex SHA-256 of the leaf's DER.
    pub sha256: String,
    /// Validity start (Unix ms).
    pub not_before_ms: i64,
    /// Validity end (Unix ms).
    pub not_after_ms: i64,
}

impl PushCertificate {
    /// Reads a PEM text holding the certificate (and possibly its chain) and the private key.
    pub fn from_pem(pem: &[u8], now_ms: i64) -> Result<PushCertificate, Error> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<_, _>>()
            .map_err(|e| Error::Unreadable(format!("bad PEM: {e}")))?;
        if chain.is_empty() {
            return Err(Error::Unreadable(
                "no CERTIFICATE block in the PEM upload".into(),
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(pem).map_err(|e| {
            Error::Unreadable(format!(
                "no usable private key in the PEM upload (PKCS#1, PKCS#8 or SEC1, unencrypted): {e}"
            ))
        })?;
        PushCertificate::from_parts(chain, key, now_ms)
    }

    /// Reads a PKCS#12 file (modern or legacy encryption) protected by `password`.
    pub fn from_pkcs12(der: &[u8], password: &str, now_ms: i64) -> Result<PushCertificate, Error> {
        let archive = p12_keystore::Pkcs12Archive::from_pkcs12(der, password).map_err(|e| {
            Error::Unreadable(format!(
                "the PKCS#12 file cannot be opened (wrong password, or damaged): {e}"
            ))
        })?;
        let key = archive
            .keys
            .first()
            .ok_or_else(|| Error::Unreadable("the PKCS#12 file holds no private key".into()))?;
        let key = PrivateKeyDer::Pkcs8(key.key.as_der().to_vec().into());
        let chain = archive
            .certs
            .iter()
            .map(|bag| CertificateDer::from(bag.cert.as_der().to_vec()))
            .collect();
        PushCertificate::from_parts(chain, key, now_ms)
    }

    /// The shared checks: a push-topic leaf, its key, not expired.
    fn from_parts(
        mut chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        now_ms: i64,
    ) -> Result<PushCertificate, Error> {
        // The leaf is the certificate with the push topic, wherever the bundle put it.
        let leaf_index = chain
            .iter()
            .position(|der| topic_of(der).is_ok())
            .ok_or_else(|| match chain.first().map(|der| topic_of(der)) {
                Some(Err(error)) => error,
                _ => Error::Unreadable("no certificate".into()),
            })?;
        let leaf = chain.remove(leaf_index);
        chain.insert(0, leaf);
        let (_, parsed) = x509_parser::parse_x509_certificate(&chain[0])
            .map_err(|e| Error::Unreadable(format!("bad certificate: {e}")))?;
        let topic = topic_of(&chain[0])?;
        let validity = parsed.validity();
        let not_before_ms = validity.not_before.timestamp().saturating_mul(1000);
        let not_after_ms = validity.not_after.timestamp().saturating_mul(1000);
        let certificate = PushCertificate {
            topic,
            subject: parsed.subject().to_string(),
            issuer: parsed.issuer().to_string(),
            serial: parsed.raw_serial_as_string(),
            sha256: hex::encode(Sha256::digest(&chain[0])),
            not_before_ms,
            not_after_ms,
            chain,
            key,
        };
        // The TLS handshake would fail with a mismatched key; say so now, at upload.
        certificate.certified_key()?;
        if not_after_ms <= now_ms {
            return Err(Error::Expired(not_after_ms));
        }
        Ok(certificate)
    }

    /// The chain and key as rustls uses them as a client certificate; fails when the key does
    /// not belong to the leaf.
    pub fn certified_key(&self) -> Result<Arc<rustls::sign::CertifiedKey>, Error> {
        let provider = rustls::crypto::ring::default_provider();
        rustls::sign::CertifiedKey::from_der(self.chain.clone(), self.key.clone_key(), &provider)
            .map(Arc::new)
            .map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => Error::KeyMismatch,
                other => Error::Unreadable(format!("unusable private key: {other}")),
            })
    }

    /// The chain as PEM, for storage.
    pub fn chain_pem(&self) -> String {
        self.chain
            .iter()
            .map(|der| pem_block("CERTIFICATE", der))
            .collect()
    }

    /// The private key as PEM in its own form, for sealing.
    pub fn key_pem(&self) -> String {
        let label = match &self.key {
            PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
            PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
            _ => "PRIVATE KEY",
        };
        pem_block(label, self.key.secret_der())
    }

    /// A certificate read back from storage (already checked at upload; the expiry is not
    /// re-checked, so an expired certificate keeps being tried and its 403s stay visible).
    pub fn from_stored(chain_pem: &str, key_pem: &[u8]) -> Result<PushCertificate, Error> {
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(chain_pem.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|e| Error::Unreadable(format!("stored chain: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| Error::Unreadable(format!("stored key: {e}")))?;
        PushCertificate::from_parts(chain, key, i64::MIN)
    }
}

/// The push topic of a certificate: its subject's UID attribute, which must start with
/// `com.apple.mgmt.`.
pub fn topic_of(der: &[u8]) -> Result<String, Error> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| Error::Unreadable(format!("bad certificate: {e}")))?;
    let subject = cert.subject().to_string();
    let uid = cert
        .subject()
        .iter_attributes()
        .find(|attr| attr.attr_type().to_id_string() == UID_OID)
        .ok_or_else(|| Error::NotPushCertificate(format!("{subject:?} has no UID attribute")))?;
    let uid = uid.as_str().map_err(|_| {
        Error::NotPushCertificate(format!("the UID attribute of {subject:?} is not text"))
    })?;
    if !uid.starts_with(TOPIC_PREFIX) || uid.len() == TOPIC_PREFIX.len() {
        return Err(Error::NotPushCertificate(format!(
            "the UID {uid:?} of {subject:?} does not start with {TOPIC_PREFIX}"
        )));
    }
    Ok(uid.to_owned())
}

fn pem_block(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

#[cfg(test)]
mod tests;
