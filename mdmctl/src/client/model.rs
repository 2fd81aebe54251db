//! The admin API's JSON documents (`components/schemas` of `proxy/openapi.json`), read
//! leniently: fields default when absent, and fields this version does not know are kept in
//! `other` so that `-o json` prints everything the server sent.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// `Enrollment`: a device or user channel as an administrator sees it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)] // The fields are the API's; openapi.json describes each.
pub struct Enrollment {
    pub enrollment_id: String,
    pub device_id: String,
    pub user_id: Option<String>,
    pub status: String,
    pub cert_sha256: Option<String>,
    pub topic: Option<String>,
    pub serial_number: Option<String>,
    pub product_name: Option<String>,
    pub os_version: Option<String>,
    pub build_version: Option<String>,
    pub device_name: Option<String>,
    pub model: Option<String>,
    pub model_name: Option<String>,
    pub imei: Option<String>,
    pub meid: Option<String>,
    pub user_short_name: Option<String>,
    pub user_long_name: Option<String>,
    pub push_token: Option<String>,
    pub has_push_magic: bool,
    pub has_unlock_token: bool,
    pub has_bootstrap_token: bool,
    pub awaiting_configuration: bool,
    pub created_at: Option<String>,
    pub authenticated_at: Option<String>,
    pub token_updated_at: Option<String>,
    pub checked_out_at: Option<String>,
    pub last_seen_at: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `DeviceList`: one page of enrollments.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DeviceList {
    /// The page.
    pub devices: Vec<Enrollment>,
    /// The `after` of the next page; `None` at the end.
    pub next_after: Option<String>,
}

/// `Delivery`: one command for one enrollment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct Delivery {
    pub enrollment_id: String,
    pub command_uuid: String,
    pub request_type: String,
    pub status: String,
    pub not_now_count: i64,
    pub priority: i32,
    pub queued_at: Option<String>,
    pub sent_at: Option<String>,
    pub completed_at: Option<String>,
    pub result: Option<Value>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `DeliveryList`: an enrollment's commands, newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DeliveryList {
    /// The deliveries.
    pub deliveries: Vec<Delivery>,
}

/// `Command`: a queued command with its deliveries.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct Command {
    pub command_uuid: String,
    pub request_type: String,
    pub priority: i32,
    pub created_at: Option<String>,
    pub expires_at: Option<String>,
    pub requested_by: Option<String>,
    pub reason: Option<String>,
    pub command: Option<Value>,
    /// Deliveries per status, over all targets (`deliveries` holds at most the first 1000).
    pub status_counts: BTreeMap<String, i64>,
    pub deliveries: Vec<Delivery>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `EnqueueResponse`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct Enqueued {
    pub command_uuid: String,
    pub request_type: String,
    pub targets: i64,
    pub duplicate: bool,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `CancelResponse`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Cancelled {
    /// Queue entries withdrawn (0 when every delivery had been answered).
    pub cancelled: i64,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `PushResult`: what one device's push did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct PushResult {
    pub enrollment_id: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub apns_status: Option<i64>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `PushResponse`: one result per device, in request order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct PushResponse {
    pub results: Vec<PushResult>,
    pub counts: BTreeMap<String, i64>,
    pub certificate_error: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `PushCertificate`: the installed MDM push certificate.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct PushCertificate {
    pub topic: String,
    pub subject: String,
    pub issuer: String,
    pub serial_number: String,
    pub sha256: String,
    pub environment: String,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    pub days_left: i64,
    pub warning: Option<String>,
    pub uploaded_at: Option<String>,
    pub uploaded_by: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub version: i64,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `EnrollmentToken`, and `EnrollmentTokenCreated` (with `secret` and the URLs) when just
/// created.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct EnrollmentToken {
    pub id: String,
    pub description: String,
    pub user_name: Option<String>,
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub created_by: String,
    pub created_at: Option<String>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrollment_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_url: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `EnrollmentTokenList`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EnrollmentTokenList {
    /// The tokens, newest first.
    pub tokens: Vec<EnrollmentToken>,
}

/// `Error`: the body of every failure.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    /// Stable code, e.g. `unauthorized`, `not_found`.
    pub error: String,
    /// What went wrong, for the administrator.
    pub message: String,
}
