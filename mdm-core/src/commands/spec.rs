//! [`CommandSpec`]: the common request types as typed JSON, and their `Command` dictionaries.

use plist::{Dictionary, Value};
use serde::{Deserialize, Serialize};

use super::xml_text::{is_xml_text, NOT_XML_TEXT};
use super::Base64Bytes;
use crate::ParseError;

#[cfg(test)]
mod tests;

/// The `Queries` a DeviceInformation command asks for when the administrator names none: what
/// identifies the device and what an inventory shows.
pub const DEFAULT_DEVICE_INFORMATION_QUERIES: [&str; 16] = [
    "UDID",
    "DeviceName",
    "OSVersion",
    "BuildVersion",
    "ModelName",
    "Model",
    "ProductName",
    "SerialNumber",
    "IMEI",
    "MEID",
    "DeviceCapacity",
    "AvailableDeviceCapacity",
    "BatteryLevel",
    "WiFiMAC",
    "BluetoothMAC",
    "IsSupervised",
];

/// A command as the admin API receives it (JSON), typed for the common request types.
///
/// The JSON object names the request type in `request_type` and holds the request's fields in
/// snake case, e.g. `{"request_type":"DeviceLock","pin":"123456","message":"Lost"}`. Unknown
/// request types and unknown fields are rejected. [`CommandSpec::to_command`] validates the
/// values and builds the `Command` dictionary with Apple's key names.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "request_type", deny_unknown_fields)]
pub enum CommandSpec {
    /// Asks for device facts (`Queries`); when none are named, the usual set: identity, OS,
    /// model, capacity, battery (`DEFAULT_DEVICE_INFORMATION_QUERIES`).
    DeviceInformation {
        /// The facts to report, by Apple's query names.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        queries: Vec<String>,
    },
    /// Asks for the device's security state (encryption, passcode, FileVault, firewall…).
    SecurityInfo {},
    /// Asks for the installed configuration profiles.
    ProfileList {},
    /// Asks for the installed apps.
    InstalledApplicationList {
        /// `ManagedAppsOnly`: list only apps this server manages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        managed_apps_only: Option<bool>,
        /// `Identifiers`: list only these bundle identifiers; empty lists all.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        identifiers: Vec<String>,
    },
    /// Asks for the installed certificates.
    CertificateList {},
    /// Asks for the installed provisioning profiles.
    ProvisioningProfileList {},
    /// Installs a configuration profile.
    InstallProfile {
        /// `Payload`: the `.mobileconfig` bytes (signed or not), base64 in JSON.
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
        payload: Base64Bytes,
    },
    /// Removes a configuration profile.
    RemoveProfile {
        /// `Identifier`: the profile's PayloadIdentifier.
        identifier: String,
    },
    /// Installs a provisioning profile.
    InstallProvisioningProfile {
        /// `ProvisioningProfile`: the `.mobileprovision` bytes, base64 in JSON.
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
        profile: Base64Bytes,
    },
    /// Locks the device.
    DeviceLock {
        /// `PIN`: six digits; on macOS, the code that unlocks the Mac.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pin: Option<String>,
        /// `Message`: shown on the lock screen.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// `PhoneNumber`: shown on the lock screen.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phone_number: Option<String>,
    },
    /// Erases the device.
    EraseDevice {
        /// `PIN`: six digits; on macOS, the Find My lock code.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pin: Option<String>,
        /// `PreserveDataPlan`: keep the cellular data plan (eSIM).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        preserve_data_plan: Option<bool>,
    },
    /// Clears the device passcode. The server adds the device's `UnlockToken` as the command
    /// leaves (`with_unlock_token`); the administrator never sees or sends it.
    ClearPasscode {},
    /// Restarts the device.
    RestartDevice {},
    /// Shuts the device down.
    ShutDownDevice {},
}

impl CommandSpec {
    /// The `RequestType`, as Apple spells it.
    pub fn request_type(&self) -> &'static str {
        match self {
            CommandSpec::DeviceInformation { .. } => "DeviceInformation",
            CommandSpec::SecurityInfo {} => "SecurityInfo",
            CommandSpec::ProfileList {} => "ProfileList",
            CommandSpec::InstalledApplicationList { .. } => "InstalledApplicationList",
            CommandSpec::CertificateList {} => "CertificateList",
            CommandSpec::ProvisioningProfileList {} => "ProvisioningProfileList",
            CommandSpec::InstallProfile { .. } => "InstallProfile",
            CommandSpec::RemoveProfile { .. } => "RemoveProfile",
            CommandSpec::InstallProvisioningProfile { .. } => "InstallProvisioningProfile",
            CommandSpec::DeviceLock { .. } => "DeviceLock",
            CommandSpec::EraseDevice { .. } => "EraseDevice",
            CommandSpec::ClearPasscode {} => "ClearPasscode",
            CommandSpec::RestartDevice {} => "RestartDevice",
            CommandSpec::ShutDownDevice {} => "ShutDownDevice",
        }
    }

    /// The `Command` dictionary: `RequestType` plus the request's keys, with Apple's key names
    /// (Queries, Payload, Identifier, ProvisioningProfile, PIN, Message, PhoneNumber,
    /// ManagedAppsOnly, Identifiers, PreserveDataPlan).
    ///
    /// Validates what the device would otherwise reject or misread: a PIN must be exactly six
    /// ASCII digits; Identifier, Payload and ProvisioningProfile must not be empty; list entries
    /// must not be empty; no string may hold a character XML cannot carry. As elsewhere in this
    /// crate, an empty optional string (PIN, Message, PhoneNumber) counts as absent.
    pub fn to_command(&self) -> Result<Dictionary, ParseError> {
        let mut command = Dictionary::new();
        command.insert(
            "RequestType".to_owned(),
            Value::String(self.request_type().to_owned()),
        );
        match self {
            CommandSpec::DeviceInformation { queries } => {
                let queries = if queries.is_empty() {
                    DEFAULT_DEVICE_INFORMATION_QUERIES
                        .map(str::to_owned)
                        .to_vec()
                } else {
                    queries.clone()
                };
                put_list(&mut command, "Queries", &queries)?;
            }
            CommandSpec::InstalledApplicationList {
                managed_apps_only,
                identifiers,
            } => {
                put_bool(&mut command, "ManagedAppsOnly", *managed_apps_only);
                if !identifiers.is_empty() {
                    put_list(&mut command, "Identifiers", identifiers)?;
                }
            }
            CommandSpec::InstallProfile { payload } => put_data(&mut command, "Payload", payload)?,
            CommandSpec::RemoveProfile { identifier } => {
                if identifier.trim().is_empty() {
                    return Err(ParseError::MissingField("Identifier"));
                }
                put_string(&mut command, "Identifier", Some(identifier))?;
            }
            CommandSpec::InstallProvisioningProfile { profile } => {
                put_data(&mut command, "ProvisioningProfile", profile)?;
            }
            CommandSpec::DeviceLock {
                pin,
                message,
                phone_number,
            } => {
                put_pin(&mut command, pin.as_deref())?;
                put_string(&mut command, "Message", message.as_deref())?;
                put_string(&mut command, "PhoneNumber", phone_number.as_deref())?;
            }
            CommandSpec::EraseDevice {
                pin,
                preserve_data_plan,
            } => {
                put_pin(&mut command, pin.as_deref())?;
                put_bool(&mut command, "PreserveDataPlan", *preserve_data_plan);
            }
            CommandSpec::SecurityInfo {}
            | CommandSpec::ProfileList {}
            | CommandSpec::CertificateList {}
            | CommandSpec::ProvisioningProfileList {}
            | CommandSpec::ClearPasscode {}
            | CommandSpec::RestartDevice {}
            | CommandSpec::ShutDownDevice {} => {}
        }
        Ok(command)
    }
}

/// Adds an optional string, skipping it when absent or empty.
fn put_string(
    command: &mut Dictionary,
    key: &'static str,
    value: Option<&str>,
) -> Result<(), ParseError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    if !is_xml_text(value) {
        return Err(invalid(key, NOT_XML_TEXT));
    }
    command.insert(key.to_owned(), Value::String(value.to_owned()));
    Ok(())
}

/// Adds a PIN, which must be exactly six ASCII digits.
fn put_pin(command: &mut Dictionary, pin: Option<&str>) -> Result<(), ParseError> {
    if let Some(pin) = pin.filter(|p| !p.is_empty()) {
        if pin.len() != 6 || !pin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("PIN", "must be exactly 6 digits (0-9)"));
        }
    }
    put_string(command, "PIN", pin)
}

fn put_bool(command: &mut Dictionary, key: &'static str, value: Option<bool>) {
    if let Some(value) = value {
        command.insert(key.to_owned(), Value::Boolean(value));
    }
}

fn put_data(
    command: &mut Dictionary,
    key: &'static str,
    value: &Base64Bytes,
) -> Result<(), ParseError> {
    if value.0.is_empty() {
        return Err(ParseError::MissingField(key));
    }
    command.insert(key.to_owned(), Value::Data(value.0.clone()));
    Ok(())
}

/// Adds a list of strings, none of which may be empty.
fn put_list(
    command: &mut Dictionary,
    key: &'static str,
    items: &[String],
) -> Result<(), ParseError> {
    let mut values = Vec::with_capacity(items.len());
    for item in items {
        if item.trim().is_empty() {
            return Err(invalid(key, "has an empty entry"));
        }
        if !is_xml_text(item) {
            return Err(invalid(key, NOT_XML_TEXT));
        }
        values.push(Value::String(item.clone()));
    }
    command.insert(key.to_owned(), Value::Array(values));
    Ok(())
}

fn invalid(field: &'static str, reason: &str) -> ParseError {
    ParseError::InvalidField {
        field,
        reason: reason.to_owned(),
    }
}
