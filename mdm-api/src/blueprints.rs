//! `/v1/blueprints`: commands every new device (or those of some enrollment tokens) gets when it
//! finishes enrolling, followed by DeviceConfigured for a device waiting in Setup Assistant.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

/// The body of `POST /v1/blueprints`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlueprintRequest {
    /// Its unique name (commands it queues are requested by `blueprint:<name>`).
    #[schema(min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9._ -]+$")]
    pub name: String,
    /// What it is for.
    #[schema(max_length = 256, pattern = r"^[^\x00-\x1F\x7F]*$")]
    pub description: Option<String>,
    /// The commands, in the order devices get them, each in any form `POST /v1/commands`
    /// takes. Destructive commands are refused. May be empty when `declaration_sets` is not.
    #[schema(max_items = 50, value_type = Vec<Object>)]
    pub commands: Vec<Map<String, Value>>,
    /// Declaration sets (DDM) assigned to each device it runs on, before its commands; with
    /// `enrollment_tokens`, this assigns sets by enrollment token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 100, value_type = Option<std::collections::BTreeSet<SetNameText>>)]
    pub declaration_sets: Option<Vec<String>>,
    /// Only devices enrolled with one of these enrollment tokens (by ID); every new device
    /// when absent.
    #[schema(min_items = 1, max_items = 100)]
    pub enrollment_tokens: Option<Vec<TokenIdText>>,
    /// Send DeviceConfigured after the commands to a device waiting in Setup Assistant
    /// (default true).
    pub device_configured: Option<bool>,
    /// Whether new devices get it (default true).
    pub enabled: Option<bool>,
}

/// A declaration set's name, as a request names it.
#[derive(Debug, Clone, ToSchema)]
#[schema(min_length = 1, max_length = 128, pattern = r"^[^\x00-\x1F\x7F/]+$")]
pub struct SetNameText(pub String);

/// An enrollment token's ID, as a request names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(min_length = 1, max_length = 128, pattern = r"^[^\x00-\x1F\x7F,]+$")]
pub struct TokenIdText(pub String);

/// The body of `PATCH /v1/blueprints/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlueprintPatch {
    /// Whether new devices get it.
    pub enabled: bool,
}

/// A blueprint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Blueprint {
    /// Its ID.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The commands, as given.
    #[schema(value_type = Vec<Object>)]
    pub commands: Vec<Value>,
    /// The declaration sets assigned to each device it runs on.
    pub declaration_sets: Vec<String>,
    /// The enrollment tokens it is limited to; empty: every new device.
    pub enrollment_tokens: Vec<String>,
    /// DeviceConfigured follows for a device in Setup Assistant.
    pub device_configured: bool,
    /// Whether new devices get it.
    pub enabled: bool,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: Option<String>,
}

/// A blueprint applied to one device (one enrollment generation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlueprintRun {
    /// Its ID.
    pub id: String,
    /// The blueprint.
    pub blueprint_id: String,
    /// The device.
    pub device: String,
    /// The enrollment generation (a re-enrollment runs the blueprint again).
    pub generation: i64,
    /// The device waited in Setup Assistant.
    pub awaiting_configuration: bool,
    /// `queueing`, `waiting` (for the answers, before DeviceConfigured), `done` or `failed`.
    pub status: String,
    /// Commands queued.
    pub queued: i64,
    /// Commands answered (or expired, or cancelled).
    pub answered: i64,
    /// The blueprint's commands.
    pub total: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// When it started.
    pub created_at: Option<String>,
    /// Its last change.
    pub updated_at: Option<String>,
}

/// The parameters of `GET /v1/blueprints/{id}/runs`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    /// Only this device's runs.
    #[param(min_length = 1, max_length = 513, pattern = r"^[^\x00-\x1F\x7F]+$")]
    pub device: Option<String>,
    /// At most this many, newest first (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}
