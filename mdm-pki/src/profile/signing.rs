//! Signing a profile (CMS SignedData, content attached) so the device shows it as verified, and
//! opening a signed one (signature checked; who signed is the caller's question).

use super::ProfileError;
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::pkcs7::{Pkcs7, Pkcs7Flags};
use openssl::pkey::{PKeyRef, Private};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509Ref, X509};

/// Signs `content` (a profile's XML) with `cert`/`key`, including `chain` so a device can build
/// the path to a root it trusts. DER out.
pub fn sign(
    content: &[u8],
    cert: &X509Ref,
    key: &PKeyRef<Private>,
    chain: &[X509],
) -> Result<Vec<u8>, ProfileError> {
    let mut extra = Stack::<X509>::new()?;
    for c in chain {
        extra.push(c.clone())?;
    }
    // BINARY: the plist is signed byte for byte (no MIME canonicalisation of line ends).
    let signed = CmsContentInfo::sign(
        Some(cert),
        Some(key),
        Some(&extra),
        Some(content),
        CMSOptions::BINARY,
    )?;
    Ok(signed.to_der()?)
}

/// A signed message, opened.
#[derive(Debug)]
pub struct Opened {
    /// The signed content.
    pub content: Vec<u8>,
    /// The signer's certificate.
    pub signer: X509,
    /// Every certificate the message carries (the signer's chain, as the sender supplied it).
    pub certificates: Vec<X509>,
}

/// Checks the signature of a SignedData with attached content (BER accepted) by the certificate
/// it carries, and answers the content. The signer is *not* trusted by this: see
/// [`super::chain`].
pub fn open(der: &[u8]) -> Result<Opened, ProfileError> {
    let pkcs7 = Pkcs7::from_der(der)
        .map_err(|e| ProfileError::Signature(format!("not a PKCS#7 SignedData: {e}")))?;
    let no_certs = Stack::<X509>::new()?;
    let store = X509StoreBuilder::new()?.build();
    let mut content = Vec::new();
    pkcs7
        .verify(
            &no_certs,
            &store,
            None,
            Some(&mut content),
            Pkcs7Flags::NOVERIFY | Pkcs7Flags::BINARY,
        )
        .map_err(|e| ProfileError::Signature(e.to_string()))?;
    let signer = pkcs7
        .signers(&no_certs, Pkcs7Flags::empty())
        .ok()
        .and_then(|s| s.iter().next().map(X509Ref::to_owned))
        .ok_or_else(|| ProfileError::Signature("no signer certificate".into()))?;
    let certificates = pkcs7
        .signed()
        .and_then(|s| s.certificates())
        .map(|certs| certs.iter().map(X509Ref::to_owned).collect())
        .unwrap_or_default();
    Ok(Opened {
        content,
        signer,
        certificates,
    })
}
