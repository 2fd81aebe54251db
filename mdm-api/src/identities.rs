//! Identity renewals (docs/identities.md): what became of each device identity announced as
//! near expiry.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The renewal of one identity certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IdentityRenewal {
    /// Serial of the certificate being replaced.
    pub serial: String,
    /// The device channel.
    pub device: String,
    /// When that certificate expires.
    pub not_after: Option<String>,
    /// `pending` (to queue), `queued` (the renewal profile waits for the device), `installed`
    /// (the device acknowledged it), `renewed` (the new certificate is in use) or `failed`.
    pub status: String,
    /// The InstallProfile carrying the renewal profile.
    pub command_uuid: Option<String>,
    /// The new certificate, once renewed.
    pub renewed_serial: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// When the certificate was announced as near expiry.
    pub created_at: Option<String>,
    /// The last change.
    pub updated_at: Option<String>,
}

/// The parameters of `GET /v1/identity-renewals`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RenewalQuery {
    /// Only this device's renewals.
    #[param(min_length = 1, max_length = 513, pattern = r"^[^\x00-\x1F\x7F]+$")]
    pub device: Option<String>,
    /// Only renewals in this status.
    #[param(inline)]
    pub status: Option<RenewalStatus>,
    /// At most this many, newest first (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Where a renewal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RenewalStatus {
    /// To queue.
    Pending,
    /// The renewal profile waits for the device.
    Queued,
    /// The device acknowledged the profile.
    Installed,
    /// The new certificate is in use.
    Renewed,
    /// It failed.
    Failed,
}

impl RenewalStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            RenewalStatus::Pending => "pending",
            RenewalStatus::Queued => "queued",
            RenewalStatus::Installed => "installed",
            RenewalStatus::Renewed => "renewed",
            RenewalStatus::Failed => "failed",
        }
    }
}
