//! `/v1/commands`: queue a command for devices, list and read commands with their deliveries,
//! cancel one.

use crate::push::PushSummary;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// Where one delivery (a command for one device) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting in the queue (perhaps sent, not answered yet).
    Queued,
    /// Answered Acknowledged.
    Acknowledged,
    /// Answered Error.
    Error,
    /// Answered CommandFormatError.
    CommandFormatError,
    /// Withdrawn by an administrator.
    Cancelled,
    /// Expired before it was answered.
    Expired,
    /// Queued before the device re-enrolled: never sent.
    Superseded,
}

impl DeliveryStatus {
    /// Every status.
    pub const ALL: [DeliveryStatus; 7] = [
        DeliveryStatus::Queued,
        DeliveryStatus::Acknowledged,
        DeliveryStatus::Error,
        DeliveryStatus::CommandFormatError,
        DeliveryStatus::Cancelled,
        DeliveryStatus::Expired,
        DeliveryStatus::Superseded,
    ];

    /// The name in queries, counts and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Acknowledged => "acknowledged",
            DeliveryStatus::Error => "error",
            DeliveryStatus::CommandFormatError => "command_format_error",
            DeliveryStatus::Cancelled => "cancelled",
            DeliveryStatus::Expired => "expired",
            DeliveryStatus::Superseded => "superseded",
        }
    }

    /// Whether the device will never be sent it again.
    pub fn is_final(self) -> bool {
        self != DeliveryStatus::Queued
    }
}

/// When a command stops being served: at a time, or after a while. One or the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Expiry {
    /// At this time.
    At(ExpiresAt),
    /// This long after it is queued.
    After(ExpiresAfter),
}

/// An expiry time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpiresAt {
    /// RFC 3339; must be in the future.
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// A lifetime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpiresAfter {
    /// Seconds from now.
    #[schema(minimum = 1, maximum = 31_536_000)]
    pub ttl_seconds: u32,
}

/// The body of `POST /v1/commands`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnqueueRequest {
    /// The enrollment IDs to queue it for, each once.
    #[schema(min_items = 1, max_items = 100_000,
             value_type = std::collections::BTreeSet<DeviceIdText>)]
    pub devices: Vec<String>,
    /// The command: typed (`{"request_type": "DeviceInformation", "queries": [...]}`), as
    /// Apple spells it (`{"RequestType": ...}`), or an XML plist (`{"plist": "<?xml ..."}`).
    #[schema(value_type = Object)]
    pub command: Map<String, Value>,
    /// Higher is served first; equal priorities in queue order.
    #[serde(default)]
    #[schema(minimum = -1000, maximum = 1000)]
    pub priority: i32,
    /// When it stops being served; never, if absent.
    pub expiry: Option<Expiry>,
    /// A retry with the same key answers the first command instead of queuing another.
    #[schema(min_length = 1, max_length = 1024, pattern = r"^[^\x00-\x1F\x7F]+$")]
    pub idempotency_key: Option<String>,
    /// Why; required for destructive commands, and kept with the command.
    #[schema(
        min_length = 1,
        max_length = 1024,
        pattern = r"^[^\x00-\x1F\x7F]*[^\s\x00-\x1F\x7F][^\x00-\x1F\x7F]*$"
    )]
    pub reason: Option<String>,
    /// Wake the devices now (the default); `false` leaves it for their next check-in or push.
    pub push: Option<bool>,
    /// Also queue for devices not enrolled yet (they get it at their first enrollment).
    /// Without it, a device that is unknown or checked out fails the request, named.
    pub allow_unknown: Option<bool>,
    /// Also queue for devices Apple's schema says cannot run the command (their platform, OS
    /// version, supervision or channel, as last reported): they are named in `warnings`.
    /// Without it, such a device fails the request, named with the reason.
    pub allow_unsupported: Option<bool>,
}

/// A device ID as it travels in a request body (the schema of each `devices` item).
#[derive(Debug, Clone, ToSchema)]
#[schema(min_length = 1, max_length = 513, pattern = r"^[^\x00-\x1F\x7F]+$")]
pub struct DeviceIdText(pub String);

/// What `POST /v1/commands` did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Enqueued {
    /// The CommandUUID (UUIDv7: its order is the queue's).
    pub command_uuid: String,
    /// Its RequestType.
    pub request_type: String,
    /// The devices it was queued for.
    pub targets: u32,
    /// The idempotency key matched an earlier command: this is that one.
    pub duplicate: bool,
    /// What the wake-up push did.
    pub push: PushSummary,
    /// With `allow_unsupported`: the devices queued although Apple's schema says they cannot
    /// run the command, each with the reason (a few, and how many more).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A command and where its deliveries stand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Command {
    /// The CommandUUID.
    pub command_uuid: String,
    /// Its RequestType.
    pub request_type: String,
    /// Its priority.
    pub priority: i32,
    /// Queued.
    pub created_at: Option<String>,
    /// Not served after this.
    pub expires_at: Option<String>,
    /// Who queued it (an admin token's name).
    pub requested_by: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// The Command dictionary as sent to devices (without per-device secrets).
    #[schema(value_type = Option<Object>)]
    pub command: Option<Value>,
    /// Deliveries per status, over every target, and `not_now`: how many of the `queued` ones
    /// the device answered NotNow (busy; it gets the command again at its next check-in).
    pub status_counts: BTreeMap<String, u32>,
    /// When an administrator cancelled it.
    pub cancelled_at: Option<String>,
    /// Who cancelled it.
    pub cancelled_by: Option<String>,
}

/// Filters and paging of `GET /v1/commands`, newest first.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CommandQuery {
    /// Only this RequestType.
    #[param(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9]+$")]
    pub request_type: Option<String>,
    /// Only those queued by this token name.
    #[param(min_length = 1, max_length = 128)]
    pub requested_by: Option<String>,
    /// A previous page's `next_cursor`.
    #[param(min_length = 1, max_length = 1024)]
    pub cursor: Option<String>,
    /// Items per page (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Filters and paging of `GET /v1/commands/{uuid}/deliveries`, in enrollment-ID order.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// Only deliveries in this state.
    pub status: Option<DeliveryStatus>,
    /// A previous page's `next_cursor`.
    #[param(min_length = 1, max_length = 1024)]
    pub cursor: Option<String>,
    /// Items per page (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}
