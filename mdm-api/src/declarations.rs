//! `/v1/declarations` and `/v1/declaration-sets`: Declarative Device Management. Declarations
//! are checked against Apple's schema of their type; sets group them and are assigned to
//! devices; every change that alters devices' manifests sends those devices the
//! `DeclarativeManagement` command (once per change), and devices report each declaration's
//! state by themselves.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

/// The body of `PUT /v1/declarations/{identifier}`: a declaration as Apple defines it. Its
/// `Identifier`, when given, must be the one in the path; a `ServerToken` given is ignored (the
/// server computes it from the content).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclarationRequest {
    /// `com.apple.configuration.passcode.settings`, `com.apple.activation.simple`...
    #[serde(rename = "Type")]
    #[schema(min_length = 1, max_length = 256, pattern = r"^[^\x00-\x1F\x7F]+$")]
    pub declaration_type: String,
    /// The path's identifier, if given.
    #[serde(
        rename = "Identifier",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(min_length = 1, max_length = 128, pattern = r"^[^\x00-\x1F\x7F/]+$")]
    pub identifier: Option<String>,
    /// Ignored: the server's token is a digest of the content.
    #[serde(
        rename = "ServerToken",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(max_length = 256)]
    pub server_token: Option<String>,
    /// The payload, checked against Apple's schema of `Type`.
    #[serde(rename = "Payload")]
    #[schema(value_type = Object)]
    pub payload: Map<String, Value>,
}

/// The body of `PUT /v1/declarations/{identifier}/asset`: an asset whose data the server keeps
/// (sealed) and serves to the devices that hold it, authenticated as themselves. The server makes
/// the asset declaration (its `Reference` at the server, with the data's size and SHA-256,
/// `Authentication` `MDM`); the data is never shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetRequest {
    /// An asset type whose payload has a `Reference`: `com.apple.asset.credential.userpassword`,
    /// `com.apple.asset.credential.identity`, `com.apple.asset.data`...
    #[serde(rename = "type")]
    #[schema(min_length = 1, max_length = 256, pattern = r"^[^\x00-\x1F\x7F]+$")]
    pub asset_type: String,
    /// The data's media type (`application/json` for a user name and password,
    /// `application/pkcs12` for an identity).
    #[schema(min_length = 1, max_length = 255, pattern = r"^[^\x00-\x1F\x7F]+$")]
    pub content_type: String,
    /// The data, base64 (at most 1 MiB once decoded).
    #[schema(min_length = 1, max_length = 1_398_104)]
    pub data: String,
}

/// A stored declaration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Declaration {
    /// `Identifier`.
    pub identifier: String,
    /// `Type`.
    #[serde(rename = "type")]
    pub declaration_type: String,
    /// `Payload`.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// `ServerToken`: changes exactly when the content does.
    pub server_token: String,
    /// The sets that hold it.
    pub sets: Vec<String>,
    /// Made.
    pub created_at: Option<String>,
    /// Content last changed.
    pub updated_at: Option<String>,
    /// Who changed it last.
    pub updated_by: String,
}

/// The body of `PUT /v1/declaration-sets/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclarationSetRequest {
    /// The identifiers of its declarations (each must exist), each once.
    #[schema(max_items = 1000, value_type = std::collections::BTreeSet<IdentifierText>)]
    pub declarations: Vec<String>,
}

/// A declaration's identifier as a request names it.
#[derive(Debug, Clone, ToSchema)]
#[schema(min_length = 1, max_length = 128, pattern = r"^[^\x00-\x1F\x7F/]+$")]
pub struct IdentifierText(pub String);

/// A declaration set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeclarationSet {
    /// Its name.
    pub name: String,
    /// Its declarations.
    pub declarations: Vec<String>,
    /// How many devices it is assigned to.
    pub devices: u64,
    /// Made.
    pub created_at: Option<String>,
    /// Last changed (declarations or assignments).
    pub updated_at: Option<String>,
    /// Who changed it last.
    pub updated_by: String,
}

/// The body of `POST /v1/declaration-sets/{name}/devices`: assign the set to devices and take
/// it back from others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentRequest {
    /// Devices (enrollment IDs) to assign it to.
    #[serde(default)]
    #[schema(max_items = 100_000,
             value_type = std::collections::BTreeSet<crate::commands::DeviceIdText>)]
    pub assign: Vec<String>,
    /// Devices to take it back from.
    #[serde(default)]
    #[schema(max_items = 100_000,
             value_type = std::collections::BTreeSet<crate::commands::DeviceIdText>)]
    pub unassign: Vec<String>,
}

/// The devices a change sent the `DeclarativeManagement` command to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Sync {
    /// Enrolled devices whose declarations changed: each was sent the command once.
    pub devices: u64,
    /// The commands queued (one per 100,000 devices).
    pub commands: Vec<String>,
    /// Devices queued although Apple's schema says they cannot run DeclarativeManagement
    /// (an OS too old for it), with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// What `PUT /v1/declarations/{identifier}` did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeclarationChange {
    /// The declaration as stored.
    pub declaration: Declaration,
    /// False when the content was the one stored already (nothing was sent).
    pub changed: bool,
    /// The devices told to sync.
    pub sync: Sync,
}

/// What a change of a set (its declarations, its devices) did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeclarationSetChange {
    /// The set as it now is.
    pub set: DeclarationSet,
    /// False when nothing changed.
    pub changed: bool,
    /// The devices told to sync.
    pub sync: Sync,
}

/// Which states a status listing keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeclarationStateFilter {
    /// Reported active and valid on the version served now.
    Applied,
    /// Not reported yet on the version served now.
    Pending,
    /// Reported invalid.
    Failed,
}

/// The query of the status listings.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StateQuery {
    /// Only these states.
    pub state: Option<DeclarationStateFilter>,
    /// Where to continue: a previous page's `next_cursor`.
    #[param(min_length = 1, max_length = 1024)]
    pub cursor: Option<String>,
    /// Items per page (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// One declaration on one device: served to it through a set, and what it last reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeclarationState {
    /// The device (enrollment ID).
    pub device: String,
    /// The declaration.
    pub identifier: String,
    /// Its type.
    #[serde(rename = "type")]
    pub declaration_type: String,
    /// The `ServerToken` served now.
    pub server_token: String,
    /// Reported on the version served now, active and valid.
    pub applied: bool,
    /// What the device reported, `null` before its first report of it.
    pub reported: Option<ReportedState>,
}

/// What a device reported of one declaration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportedState {
    /// The `ServerToken` it reported on (an older one: not synced yet).
    pub server_token: String,
    /// Whether it is in force (an activation's predicate held; a configuration was activated).
    pub active: bool,
    /// `valid`, `invalid` or `unknown`.
    pub valid: String,
    /// Why it is not active or valid: `[{"Code", "Description", "Details"}]`.
    #[schema(value_type = Vec<Object>)]
    pub reasons: Vec<Value>,
    /// When.
    pub reported_at: Option<String>,
}

/// A status item a device reported (the latest value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatusItem {
    /// Its name: `device.operating-system.version`...
    pub item: String,
    /// Its value.
    #[schema(value_type = Object)]
    pub value: Value,
    /// When it was last reported changed.
    pub reported_at: Option<String>,
}

/// A device's status items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatusItems {
    /// The items, by name.
    pub items: Vec<StatusItem>,
    /// When it last sent a full report; `null`: never.
    pub full_report_at: Option<String>,
}

/// The query of a device's status history.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatusHistoryQuery {
    /// Only this status item (`device.operating-system.version`...).
    #[param(min_length = 1, max_length = 512, pattern = r"^[^\x00-\x1F\x7F]+$")]
    pub item: Option<String>,
    /// Where to continue: a previous page's `next_cursor`.
    #[param(min_length = 1, max_length = 1024)]
    pub cursor: Option<String>,
    /// Items per page (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// One change of a status item a device reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatusChange {
    /// The item.
    pub item: String,
    /// Its new value.
    #[schema(value_type = Object)]
    pub value: Value,
    /// When it was reported.
    pub reported_at: Option<String>,
}
