//! `/v1/enrollment-tokens` and `/v1/certificates`: the credentials the enrollment URLs require,
//! and the identity certificates the device CA issued.

use crate::commands::Expiry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The body of `POST /v1/enrollment-tokens`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentTokenRequest {
    /// What it is for (shown in lists).
    #[serde(default)]
    #[schema(max_length = 1024)]
    pub description: String,
    /// The user the enrollments made with it belong to.
    #[schema(min_length = 1, max_length = 256, pattern = r"^[^\x00-\x1F\x7F]+$")]
    pub user_name: Option<String>,
    /// How many enrollments it allows (default 1); absent with `unlimited` for any number.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub max_uses: Option<u32>,
    /// Any number of enrollments until it expires (`max_uses` must be absent).
    #[serde(default)]
    pub unlimited: bool,
    /// When it stops working (default: a week).
    pub expiry: Option<Expiry>,
}

/// An enrollment token (its secret is never shown again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnrollmentToken {
    /// Its ID.
    pub id: String,
    /// What it is for.
    pub description: String,
    /// The user its enrollments belong to.
    pub user_name: Option<String>,
    /// How many enrollments it allows; `null`: any number.
    pub max_uses: Option<u32>,
    /// Enrollments made with it.
    pub uses: u32,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: Option<String>,
    /// It stops working then.
    pub expires_at: Option<String>,
    /// Revoked then.
    pub revoked_at: Option<String>,
}

/// A token just made: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreatedEnrollmentToken {
    /// The token.
    pub token: EnrollmentToken,
    /// The secret: give it (or the URLs) to whoever enrolls devices.
    pub secret: String,
    /// The OTA enrollment URL with the secret: open it on the device.
    pub enrollment_url: String,
    /// The direct profile's URL with the secret (tools, macOS).
    pub profile_url: String,
}

/// Filters and paging of `GET /v1/enrollment-tokens`, newest first.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentTokenQuery {
    /// Also revoked, expired and used-up tokens.
    pub include_inactive: Option<bool>,
    /// A previous page's `next_cursor`.
    #[param(min_length = 1, max_length = 1024)]
    pub cursor: Option<String>,
    /// Items per page (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// How a certificate came to be issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertificateFlow {
    /// OTA phase 2: the identity that signs phase 3.
    Ota,
    /// OTA phase 3's enrollment profile: the MDM identity, CN = UDID.
    Enrollment,
    /// The direct profile: a random CN, held to its binding.
    Direct,
}

/// A certificate the device CA issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssuedCertificate {
    /// Lowercase hex without leading zeros.
    pub serial: String,
    /// Hex SHA-256 of the DER.
    pub sha256: String,
    /// Subject CN.
    pub common_name: String,
    /// How it was issued.
    pub flow: CertificateFlow,
    /// When.
    pub issued_at: Option<String>,
    /// Valid until.
    pub not_after: Option<String>,
    /// The enrollment it first authenticated (and the only one it ever can).
    pub enrollment_id: Option<String>,
    /// The serial it renewed.
    pub renewed_from: Option<String>,
    /// Revoked then.
    pub revoked_at: Option<String>,
    /// Why.
    pub revocation_reason: Option<String>,
    /// By whom.
    pub revoked_by: Option<String>,
}

/// The body of `POST /v1/certificates/{serial}/revoke`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// Why; kept with the revocation.
    #[schema(
        min_length = 1,
        max_length = 1024,
        pattern = r"^[^\x00-\x1F\x7F]*[^\s\x00-\x1F\x7F][^\x00-\x1F\x7F]*$"
    )]
    pub reason: String,
}
