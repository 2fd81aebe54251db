//! The catalogue's types: what Apple's schema says of each request type, reduced to facts a
//! server can check (no descriptions).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::platform::Platform;

/// Every MDM command Apple's device-management schema describes, by `RequestType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// The schema release the catalogue was generated from, by the OS versions it describes.
    pub source: String,
    /// Each request type's schema, keyed by its `RequestType`.
    pub commands: BTreeMap<String, CommandSchema>,
}

/// Every declaration type of Apple's Declarative Device Management schema, and the status items
/// devices report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclarationCatalogue {
    /// The schema release the catalogue was generated from.
    pub source: String,
    /// Each declaration type's schema, keyed by its `Type`
    /// (`com.apple.configuration.passcode.settings`).
    pub declarations: BTreeMap<String, DeclarationSchema>,
    /// The status items devices report (`device.operating-system.version`,
    /// `management.declarations`...), sorted.
    pub status_items: Vec<String>,
}

/// One declaration type: where it applies and the keys of its `Payload`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclarationSchema {
    /// The declaration's `Type`.
    pub declaration_type: String,
    /// The platforms that take it and from which version.
    pub platforms: BTreeMap<Platform, Support>,
    /// The keys of its `Payload`, in the schema's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeySchema>,
}

/// One request type: where it runs and the keys its `Command` dictionary may hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSchema {
    /// The `RequestType`, as Apple spells it.
    pub request_type: String,
    /// The platforms that run it and from which version; a platform missing here never does.
    pub platforms: BTreeMap<Platform, Support>,
    /// The keys beside `RequestType`, in the schema's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeySchema>,
    /// The keys an acknowledged result holds beside the report's own (`Status`, `UDID`,
    /// `CommandUUID`...), in the schema's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_keys: Vec<KeySchema>,
}

/// How one platform supports a request type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Support {
    /// The first OS version that runs it, e.g. `"9.3"`.
    pub introduced: String,
    /// The version that deprecated it, if any (it still runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
    /// The version that removed it, if any (it no longer runs from there on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<String>,
    /// Runs only on a supervised device.
    #[serde(default, skip_serializing_if = "is_false")]
    pub supervised: bool,
    /// Runs only on a device enrolled through Automated Device Enrollment.
    #[serde(default, skip_serializing_if = "is_false")]
    pub requires_dep: bool,
    /// Runs only where the user approved the enrollment (macOS).
    #[serde(default, skip_serializing_if = "is_false")]
    pub user_approved_mdm: bool,
    /// Whether the device channel takes it (absent: the schema does not say; it does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_channel: Option<bool>,
    /// Whether a user channel takes it (absent: the schema does not say; it does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_channel: Option<bool>,
    /// How it relates to User Enrollment: `allowed`, `forbidden`, `required` or `ignored`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_enrollment: Option<String>,
}

/// One key of a command (or of a dictionary or array inside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySchema {
    /// The key's name; [`WILDCARD`] in a dictionary whose keys are free (an app's bundle ID, a
    /// restriction's name), and the element's name in an array.
    pub key: String,
    /// The plist type of its value.
    #[serde(rename = "type")]
    pub kind: KeyType,
    /// The key must be present.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// The only values it may take (strings or numbers); empty when any value of its type does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<Json>,
    /// Values the schema names without closing the set (DeviceInformation's queries: devices
    /// answer more than it names, and leave out what they do not know).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known: Vec<Json>,
    /// Bounds of a number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<Bounds>,
    /// Bounds of an array's length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetition: Option<Bounds>,
    /// What the device assumes when the key is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Json>,
    /// A dictionary's keys; an array's element (several: the element is any one of these forms);
    /// empty when the contents are free.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subkeys: Vec<KeySchema>,
}

/// The name of a dictionary's free keys in [`KeySchema::key`].
pub const WILDCARD: &str = "*";

/// A value's plist type, as the schema names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    /// `<string>`.
    String,
    /// `<integer>`.
    Integer,
    /// `<real>` (an integer is accepted too).
    Real,
    /// `<true/>` or `<false/>`.
    Boolean,
    /// `<date>`.
    Date,
    /// `<data>` (base64 in XML; `{"$data": …}` in the API's JSON).
    Data,
    /// `<array>`.
    Array,
    /// `<dict>`.
    Dictionary,
    /// Anything.
    Any,
}

impl KeyType {
    /// The type's name as the catalogue writes it: "string", "integer".
    pub fn name(self) -> &'static str {
        match self {
            KeyType::String => "string",
            KeyType::Integer => "integer",
            KeyType::Real => "real",
            KeyType::Boolean => "boolean",
            KeyType::Date => "date",
            KeyType::Data => "data",
            KeyType::Array => "array",
            KeyType::Dictionary => "dictionary",
            KeyType::Any => "any",
        }
    }

    /// The type with its article, for messages: "a string", "an integer".
    pub fn described(self) -> &'static str {
        match self {
            KeyType::String => "a string",
            KeyType::Integer => "an integer",
            KeyType::Real => "a number",
            KeyType::Boolean => "a boolean",
            KeyType::Date => "a date",
            KeyType::Data => "data",
            KeyType::Array => "an array",
            KeyType::Dictionary => "a dictionary",
            KeyType::Any => "any value",
        }
    }
}

/// Inclusive bounds; either may be open.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// The least allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The most allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl Bounds {
    /// Whether `value` lies within.
    pub fn holds(&self, value: f64) -> bool {
        self.min.is_none_or(|min| value >= min) && self.max.is_none_or(|max| value <= max)
    }
}

impl std::fmt::Display for Bounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.min, self.max) {
            (Some(min), Some(max)) => write!(f, "between {min} and {max}"),
            (Some(min), None) => write!(f, "at least {min}"),
            (None, Some(max)) => write!(f, "at most {max}"),
            (None, None) => write!(f, "any"),
        }
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}
