//! `/v1/devices`: enrollments as an administrator sees them, with their inventory, push state,
//! installed apps and command history.

use crate::commands::DeliveryStatus;
use crate::enrollment::IssuedCertificate;
use crate::push::PushState;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// Where an enrollment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentStatus {
    /// Authenticate received; waiting for the first TokenUpdate.
    Authenticated,
    /// Managed and reachable by push.
    Enrolled,
    /// Checked out (or never came back): not managed.
    CheckedOut,
}

impl EnrollmentStatus {
    /// The name in queries and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            EnrollmentStatus::Authenticated => "authenticated",
            EnrollmentStatus::Enrolled => "enrolled",
            EnrollmentStatus::CheckedOut => "checked_out",
        }
    }
}

/// What the device reported about itself in answers to DeviceInformation, SecurityInfo and
/// InstalledApplicationList, folded into its record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Inventory {
    /// Storage capacity, GB (DeviceCapacity).
    pub capacity_gb: Option<f64>,
    /// Free storage, GB (AvailableDeviceCapacity).
    pub available_gb: Option<f64>,
    /// Battery charge, 0 to 1 (BatteryLevel).
    pub battery_level: Option<f64>,
    /// Supervised (IsSupervised).
    pub supervised: Option<bool>,
    /// Storage encrypted (SecurityInfo: hardware encryption on iOS, FileVault on macOS).
    pub encrypted: Option<bool>,
    /// A passcode is set (SecurityInfo PasscodePresent).
    pub passcode_present: Option<bool>,
    /// Apps in the last InstalledApplicationList answer.
    pub app_count: Option<u32>,
    /// When a result last updated this record.
    pub updated_at: Option<String>,
}

/// A device channel or a user channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Device {
    /// The enrollment ID: the UDID (or EnrollmentID), or `<device>:<user>` for a user channel.
    pub enrollment_id: String,
    /// The device channel's ID.
    pub device_id: String,
    /// The macOS user's ID on a user channel.
    pub user_id: Option<String>,
    /// Where it stands.
    pub status: EnrollmentStatus,
    /// Hex SHA-256 of the identity certificate bound to it (device channel).
    pub cert_sha256: Option<String>,
    /// When that certificate expires, when this server's CA issued it: the device is renewed
    /// before then (docs/identities.md).
    pub identity_expires_at: Option<String>,
    /// Its push topic.
    pub topic: Option<String>,
    /// SerialNumber.
    pub serial_number: Option<String>,
    /// ProductName, e.g. `iPhone15,2`.
    pub product_name: Option<String>,
    /// OSVersion.
    pub os_version: Option<String>,
    /// BuildVersion.
    pub build_version: Option<String>,
    /// DeviceName.
    pub device_name: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// ModelName, e.g. `iPhone`.
    pub model_name: Option<String>,
    /// IMEI.
    pub imei: Option<String>,
    /// MEID.
    pub meid: Option<String>,
    /// UserShortName of a user channel.
    pub user_short_name: Option<String>,
    /// UserLongName of a user channel.
    pub user_long_name: Option<String>,
    /// Hex of its APNs token.
    pub push_token: Option<String>,
    /// A PushMagic is known.
    pub has_push_magic: bool,
    /// An UnlockToken is held (never shown).
    pub has_unlock_token: bool,
    /// A BootstrapToken is held (never shown).
    pub has_bootstrap_token: bool,
    /// AwaitingConfiguration from its last TokenUpdate.
    pub awaiting_configuration: bool,
    /// Grows each time the enrollment starts afresh.
    pub generation: u64,
    /// First seen.
    pub created_at: Option<String>,
    /// Last Authenticate.
    pub authenticated_at: Option<String>,
    /// Last TokenUpdate.
    pub token_updated_at: Option<String>,
    /// CheckOut.
    pub checked_out_at: Option<String>,
    /// Last message of any kind.
    pub last_seen_at: Option<String>,
    /// What its command results said about it.
    pub inventory: Inventory,
    /// Its push target (only on `GET /v1/devices/{id}`; `null` in lists and when none).
    pub push: Option<PushState>,
    /// The identity certificate bound to it, when this server's CA issued it: how and when, and
    /// until when it is valid (only on `GET /v1/devices/{id}`; `null` in lists, and for an
    /// identity from elsewhere).
    pub identity_certificate: Option<IssuedCertificate>,
}

/// The order of `GET /v1/devices` (ties by enrollment ID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceSort {
    /// Enrollment ID (the default).
    Id,
    /// Device name, ignoring case; devices without a name first.
    Name,
    /// Last contact, oldest first (`descending` for the most recent).
    LastSeen,
}

impl DeviceSort {
    /// The name in queries.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceSort::Id => "id",
            DeviceSort::Name => "name",
            DeviceSort::LastSeen => "last_seen",
        }
    }
}

/// Filters, order and paging of `GET /v1/devices`, in enrollment-ID order by default.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeviceQuery {
    /// Only enrollments in this state.
    pub status: Option<EnrollmentStatus>,
    /// Exactly this serial number.
    #[param(min_length = 1, max_length = 64)]
    pub serial: Option<String>,
    /// Exactly this model: ProductName (`iPhone15,2`), Model or ModelName (`iPhone`).
    #[param(min_length = 1, max_length = 64)]
    pub model: Option<String>,
    /// This OS version or its point releases, by whole parts: `17` finds 17, 17.4 and 17.4.1;
    /// `17.4` finds 17.4 and 17.4.1, not 17.40.
    #[param(min_length = 1, max_length = 32)]
    pub os_version: Option<String>,
    /// Device names starting with this, ignoring case.
    #[param(min_length = 1, max_length = 128)]
    pub name: Option<String>,
    /// Seen at or after this time (RFC 3339).
    #[param(format = DateTime)]
    pub last_seen_after: Option<String>,
    /// Seen before this time (RFC 3339).
    #[param(format = DateTime)]
    pub last_seen_before: Option<String>,
    /// The order (ties by enrollment ID); a cursor continues only the order it was made in.
    pub sort: Option<DeviceSort>,
    /// Backwards: Z to A, most recently seen first.
    pub descending: Option<bool>,
    /// A previous page's `next_cursor`.
    #[param(min_length = 1, max_length = 1024)]
    pub cursor: Option<String>,
    /// Items per page (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// One command for one enrollment, with its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    /// The target.
    pub enrollment_id: String,
    /// The command.
    pub command_uuid: String,
    /// Its RequestType.
    pub request_type: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// NotNow answers so far.
    pub not_now_count: u32,
    /// Its priority (higher first).
    pub priority: i32,
    /// Queued.
    pub queued_at: Option<String>,
    /// First sent to the device.
    pub sent_at: Option<String>,
    /// Answered with a final status (or withdrawn).
    pub completed_at: Option<String>,
    /// The device's report for the final status, as JSON (`data` as base64).
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
}

/// One installed app, from the last InstalledApplicationList answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct App {
    /// Bundle identifier.
    pub identifier: String,
    /// Name.
    pub name: Option<String>,
    /// ShortVersion.
    pub version: Option<String>,
    /// Version (the build).
    pub build: Option<String>,
    /// BundleSize, bytes.
    pub size_bytes: Option<u64>,
}

/// The body of `POST /v1/devices/{id}/approve-reenrollment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    /// Why the administrator vouches for the device; kept in the audit log.
    #[schema(
        min_length = 1,
        max_length = 1024,
        pattern = r"^[^\x00-\x1F\x7F]*[^\s\x00-\x1F\x7F][^\x00-\x1F\x7F]*$"
    )]
    pub reason: String,
    /// How long the approval waits for the device's Authenticate (default a day).
    #[schema(minimum = 60, maximum = 604_800)]
    pub ttl_seconds: Option<u32>,
}

/// An administrator's approval of a re-enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Approval {
    /// The device channel it is for.
    pub enrollment_id: String,
    /// Who approved.
    pub approved_by: String,
    /// Why.
    pub reason: String,
    /// When.
    pub created_at: Option<String>,
    /// Unused after this.
    pub expires_at: Option<String>,
}
