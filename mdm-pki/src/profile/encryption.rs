//! `EncryptedPayloadContent`: a profile's payload array as a plist, in a CMS EnvelopedData
//! encrypted to the device's identity certificate (OTA phase 3), and the device's way back.

use super::{payload_array, ProfileError};
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::pkey::{PKeyRef, Private};
use openssl::stack::Stack;
use openssl::symm::Cipher;
use openssl::x509::{X509Ref, X509};
use plist::{Dictionary, Value};

/// Encrypts `payloads` (as an XML plist array) to `recipient` with AES-256-CBC. DER out.
pub fn encrypt_payloads(
    payloads: &[Dictionary],
    recipient: &X509Ref,
) -> Result<Vec<u8>, ProfileError> {
    let mut xml = Vec::new();
    payload_array(payloads)
        .to_writer_xml(&mut xml)
        .map_err(|e| ProfileError::Plist(e.to_string()))?;
    let mut recipients = Stack::<X509>::new()?;
    recipients.push(recipient.to_owned())?;
    let sealed =
        CmsContentInfo::encrypt(&recipients, &xml, Cipher::aes_256_cbc(), CMSOptions::BINARY)?;
    Ok(sealed.to_der()?)
}

/// A profile dictionary with its `EncryptedPayloadContent` decrypted into `PayloadContent` (a
/// profile without one is returned as it is).
pub fn decrypt_profile(
    mut profile: Dictionary,
    cert: &X509Ref,
    key: &PKeyRef<Private>,
) -> Result<Dictionary, ProfileError> {
    let Some(sealed) = profile.remove("EncryptedPayloadContent") else {
        return Ok(profile);
    };
    let Value::Data(sealed) = sealed else {
        return Err(ProfileError::Invalid(
            "EncryptedPayloadContent is not <data>".into(),
        ));
    };
    let envelope = CmsContentInfo::from_der(&sealed)
        .map_err(|e| ProfileError::Invalid(format!("EncryptedPayloadContent: {e}")))?;
    let plain = envelope
        .decrypt(key, &cert.to_owned())
        .map_err(|e| ProfileError::Signature(format!("cannot decrypt the payloads: {e}")))?;
    let payloads = match mdm_core::parse_plist_value(&plain) {
        Ok(Value::Array(items)) => items,
        Ok(_) => return Err(ProfileError::Invalid("payloads are not an array".into())),
        Err(e) => return Err(ProfileError::Plist(e.to_string())),
    };
    profile.insert("PayloadContent".into(), Value::Array(payloads));
    Ok(profile)
}
