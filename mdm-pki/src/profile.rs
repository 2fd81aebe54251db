//! Configuration profiles (`.mobileconfig`): built as plists, signed (CMS SignedData) so a device
//! shows them as verified, and, for OTA enrollment's last phase, with their payloads encrypted to
//! the device's identity (CMS EnvelopedData). The reading side (unwrap a signed profile, decrypt
//! encrypted payloads, read a device's signed Profile Service answer) is here too, for the
//! simulator and for the server's OTA phases.
//!
//! # Layout
//! - [`payload`]: the payload dictionaries: root certificate, SCEP, MDM.
//! - [`service`]: the Profile Service payload (OTA phase 1) and the device's signed answer.
//! - [`signing`]: CMS SignedData over a profile, and opening one.
//! - [`encryption`]: `EncryptedPayloadContent` (CMS EnvelopedData) both ways.
//! - [`chain`]: verifying a device certificate against Apple's device CA (expired intermediates).

pub mod chain;
pub mod encryption;
pub mod payload;
pub mod service;
pub mod signing;

#[cfg(test)]
mod tests;

use plist::{Dictionary, Value};

/// `Content-Type` of a profile served to a device.
pub const CONTENT_TYPE: &str = "application/x-apple-aspen-config";

/// Why a profile could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The plist could not be written or read.
    #[error("plist: {0}")]
    Plist(String),
    /// A signature does not verify, or the signer is missing.
    #[error("signature: {0}")]
    Signature(String),
    /// The signer does not chain to a trusted anchor (or is outside its validity).
    #[error("certificate chain: {0}")]
    Chain(String),
    /// A profile or a device answer lacks something it must have.
    #[error("invalid profile: {0}")]
    Invalid(String),
    /// OpenSSL failed while building (a fault on our side).
    #[error("OpenSSL: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
}

/// A fresh upper-case UUID, the form Apple's tools write for PayloadUUID.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string().to_ascii_uppercase()
}

/// A top-level `Configuration` profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// PayloadIdentifier: a profile with the same identifier replaces an installed one.
    pub identifier: String,
    /// PayloadUUID.
    pub uuid: String,
    /// PayloadDisplayName.
    pub display_name: String,
    /// PayloadOrganization.
    pub organization: Option<String>,
    /// PayloadDescription.
    pub description: Option<String>,
    /// The payload dictionaries, installed in order (certificates before the MDM payload).
    pub payloads: Vec<Dictionary>,
}

impl Profile {
    /// An empty profile.
    pub fn new(identifier: impl Into<String>, display_name: impl Into<String>) -> Profile {
        Profile {
            identifier: identifier.into(),
            uuid: new_uuid(),
            display_name: display_name.into(),
            organization: None,
            description: None,
            payloads: Vec::new(),
        }
    }

    /// The top-level keys without the payloads. A profile holding an MDM payload must be
    /// removable (iOS refuses it otherwise: "A profile containing an MDM payload must be removable"), so
    /// PayloadRemovalDisallowed is written as false rather than left to a default.
    fn header(&self) -> Dictionary {
        let mut dict = Dictionary::new();
        dict.insert("PayloadType".into(), "Configuration".into());
        dict.insert("PayloadVersion".into(), Value::Integer(1.into()));
        dict.insert("PayloadIdentifier".into(), self.identifier.clone().into());
        dict.insert("PayloadUUID".into(), self.uuid.clone().into());
        dict.insert(
            "PayloadDisplayName".into(),
            self.display_name.clone().into(),
        );
        if let Some(org) = &self.organization {
            dict.insert("PayloadOrganization".into(), org.clone().into());
        }
        if let Some(description) = &self.description {
            dict.insert("PayloadDescription".into(), description.clone().into());
        }
        dict.insert("PayloadRemovalDisallowed".into(), Value::Boolean(false));
        dict
    }

    /// The profile as a plist dictionary.
    pub fn to_dictionary(&self) -> Dictionary {
        let mut dict = self.header();
        dict.insert("PayloadContent".into(), payload_array(&self.payloads));
        dict
    }

    /// The profile as an XML plist.
    pub fn to_xml(&self) -> Result<Vec<u8>, ProfileError> {
        to_xml(&self.to_dictionary())
    }

    /// The profile as an XML plist whose payloads are encrypted to `recipient`: they travel as
    /// `EncryptedPayloadContent`, readable only with the recipient's key.
    pub fn to_encrypted_xml(
        &self,
        recipient: &openssl::x509::X509Ref,
    ) -> Result<Vec<u8>, ProfileError> {
        let mut dict = self.header();
        let sealed = encryption::encrypt_payloads(&self.payloads, recipient)?;
        dict.insert("EncryptedPayloadContent".into(), Value::Data(sealed));
        to_xml(&dict)
    }
}

fn payload_array(payloads: &[Dictionary]) -> Value {
    Value::Array(payloads.iter().cloned().map(Value::Dictionary).collect())
}

/// Writes a dictionary as an XML plist.
pub fn to_xml(dict: &Dictionary) -> Result<Vec<u8>, ProfileError> {
    let mut out = Vec::new();
    Value::Dictionary(dict.clone())
        .to_writer_xml(&mut out)
        .map_err(|e| ProfileError::Plist(e.to_string()))?;
    Ok(out)
}

/// Reads a plist dictionary (XML or binary) with the crate's bounded decoder.
pub fn read_dictionary(bytes: &[u8]) -> Result<Dictionary, ProfileError> {
    match mdm_core::parse_plist_value(bytes) {
        Ok(Value::Dictionary(dict)) => Ok(dict),
        Ok(_) => Err(ProfileError::Invalid(
            "the plist is not a dictionary".into(),
        )),
        Err(e) => Err(ProfileError::Plist(e.to_string())),
    }
}
