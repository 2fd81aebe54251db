//! [`Issued`]: one certificate and its private key, in the forms tests need.

use sha2::{Digest, Sha256};

/// A certificate issued by a [`TestCa`](super::TestCa), with its private key.
#[derive(Clone, Debug)]
pub struct Issued {
    /// The certificate, PEM (`-----BEGIN CERTIFICATE-----`).
    pub cert_pem: String,
    /// The private key, PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub key_pem: String,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
}

impl Issued {
    /// Lowercase hex SHA-256 of the certificate's DER: the fingerprint services record for a device.
    pub fn sha256_hex(&self) -> String {
        hex::encode(Sha256::digest(&self.cert_der))
    }

    /// Certificate then key, concatenated: the PEM that `reqwest::Identity::from_pem` wants.
    pub fn identity_pem(&self) -> String {
        let mut pem = self.cert_pem.clone();
        if !pem.ends_with('\n') {
            pem.push('\n');
        }
        pem.push_str(&self.key_pem);
        pem
    }
}
