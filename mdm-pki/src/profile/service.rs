//! OTA enrollment's Profile Service (Apple's over-the-air enrollment): the payload that asks a device for its
//! attributes, and the answer the device posts back (a plist of attributes, signed by its Apple
//! device certificate in phase 2 and by its new identity in phase 3).

use super::{new_uuid, to_xml, ProfileError};
use plist::{Dictionary, Value};

/// The attributes asked for.
pub const DEVICE_ATTRIBUTES: [&str; 7] = [
    "UDID",
    "SERIAL",
    "PRODUCT",
    "VERSION",
    "IMEI",
    "MEID",
    "DEVICE_NAME",
];

/// Longest UDID accepted (real ones are 25 or 40 characters).
const MAX_UDID_LEN: usize = 64;

/// A Profile Service payload.
#[derive(Debug, Clone)]
pub struct ProfileService {
    /// PayloadIdentifier.
    pub identifier: String,
    /// PayloadDisplayName.
    pub display_name: String,
    /// PayloadOrganization.
    pub organization: Option<String>,
    /// Where the device posts its answers.
    pub url: String,
    /// The challenge the device returns (signed) in phase 2.
    pub challenge: String,
}

impl ProfileService {
    /// The payload as an XML plist.
    pub fn to_xml(&self) -> Result<Vec<u8>, ProfileError> {
        let mut content = Dictionary::new();
        content.insert("URL".into(), self.url.clone().into());
        let attributes = DEVICE_ATTRIBUTES.iter().map(|a| (*a).into()).collect();
        content.insert("DeviceAttributes".into(), Value::Array(attributes));
        content.insert("Challenge".into(), self.challenge.clone().into());
        let mut dict = Dictionary::new();
        dict.insert("PayloadType".into(), "Profile Service".into());
        dict.insert("PayloadVersion".into(), Value::Integer(1.into()));
        dict.insert("PayloadIdentifier".into(), self.identifier.clone().into());
        dict.insert("PayloadUUID".into(), new_uuid().into());
        dict.insert(
            "PayloadDisplayName".into(),
            self.display_name.clone().into(),
        );
        if let Some(org) = &self.organization {
            dict.insert("PayloadOrganization".into(), org.clone().into());
        }
        dict.insert(
            "PayloadDescription".into(),
            "Enrolls this device in mobile device management.".into(),
        );
        dict.insert("PayloadContent".into(), Value::Dictionary(content));
        to_xml(&dict)
    }
}

/// What a device answers a Profile Service with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceAnswer {
    /// UDID.
    pub udid: String,
    /// The challenge from the Profile Service payload (phase 2; phase 3 may repeat it).
    pub challenge: Option<String>,
    /// SERIAL.
    pub serial: Option<String>,
    /// PRODUCT.
    pub product: Option<String>,
    /// VERSION (the OS build).
    pub version: Option<String>,
    /// IMEI.
    pub imei: Option<String>,
    /// MEID.
    pub meid: Option<String>,
    /// DEVICE_NAME.
    pub device_name: Option<String>,
}

impl DeviceAnswer {
    /// Reads the (already signature-checked) plist a device posted.
    pub fn parse(plist: &[u8]) -> Result<DeviceAnswer, ProfileError> {
        let dict = super::read_dictionary(plist)?;
        let text = |key: &str| {
            dict.get(key)
                .and_then(Value::as_string)
                .map(str::to_owned)
                .filter(|v| !v.is_empty())
        };
        let udid = text("UDID").ok_or_else(|| ProfileError::Invalid("no UDID".into()))?;
        let well_formed = udid.len() <= MAX_UDID_LEN
            && udid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !well_formed {
            return Err(ProfileError::Invalid(format!("malformed UDID {udid:?}")));
        }
        Ok(DeviceAnswer {
            udid,
            challenge: text("CHALLENGE"),
            serial: text("SERIAL"),
            product: text("PRODUCT"),
            version: text("VERSION"),
            imei: text("IMEI"),
            meid: text("MEID"),
            device_name: text("DEVICE_NAME"),
        })
    }

    /// The plist a device sends (for the simulator and tests).
    pub fn to_xml(&self) -> Result<Vec<u8>, ProfileError> {
        let mut dict = Dictionary::new();
        dict.insert("UDID".into(), self.udid.clone().into());
        let optional = [
            ("CHALLENGE", &self.challenge),
            ("SERIAL", &self.serial),
            ("PRODUCT", &self.product),
            ("VERSION", &self.version),
            ("IMEI", &self.imei),
            ("MEID", &self.meid),
            ("DEVICE_NAME", &self.device_name),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                dict.insert(key.into(), value.clone().into());
            }
        }
        to_xml(&dict)
    }
}
