//! `/v1/push` and `/v1/push-certificate`: wake devices now; install and read the MDM push
//! certificate. Also a device's push state and what an enqueue's push did.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A device's push target as push-svc keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PushState {
    /// `active`, or `inactive` (silent too long, or APNs said the token is gone).
    pub status: String,
    /// Why it is flagged, if it is.
    pub flag: Option<String>,
    /// Hex of the APNs token.
    pub token: String,
    /// The topic it is pushed on.
    pub topic: String,
    /// When its TokenUpdate registered it.
    pub registered_at: Option<String>,
    /// When the device last connected.
    pub last_seen_at: Option<String>,
    /// When it was last pushed.
    pub last_push_at: Option<String>,
    /// What the last push did (`delivered`, `unregistered`, ...).
    pub last_outcome: Option<String>,
    /// APNs's reason for the last failure.
    pub last_reason: Option<String>,
    /// Inactive since.
    pub inactive_since: Option<String>,
}

/// What a push after an enqueue did. A failed push never fails the enqueue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PushSummary {
    /// Whether pushing was attempted (`push: false` or no push service: no).
    pub attempted: bool,
    /// Devices APNs accepted a push for.
    pub delivered: u32,
    /// Devices not pushed, for any reason.
    pub not_delivered: u32,
    /// Devices per outcome (`delivered`, `no_target`, `inactive`, ...).
    pub outcomes: BTreeMap<String, u32>,
    /// Why nothing could be pushed at all (no certificate, push-svc down).
    pub error: Option<String>,
}

/// The body of `POST /v1/push`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The enrollment IDs to wake, each once.
    #[schema(min_items = 1, max_items = 100_000,
             value_type = std::collections::BTreeSet<crate::commands::DeviceIdText>)]
    pub devices: Vec<String>,
}

/// What one device's push did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PushResult {
    /// The device.
    pub enrollment_id: String,
    /// `delivered`, `no_target`, `inactive`, `unregistered`, `bad_token`,
    /// `certificate_rejected`, `no_certificate`, `topic_mismatch`, `rejected`, `failed`.
    pub outcome: String,
    /// APNs's reason, when it refused.
    pub reason: Option<String>,
    /// APNs's HTTP status, when it answered.
    pub apns_status: Option<u16>,
}

/// The answer of `POST /v1/push`: one result per device, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PushResults {
    /// Per device.
    pub results: Vec<PushResult>,
    /// Devices per outcome.
    pub counts: BTreeMap<String, u32>,
    /// Why no device could be pushed (no certificate installed, rejected by APNs).
    pub certificate_error: Option<String>,
}

/// The installed MDM push certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PushCertificate {
    /// Its topic (the subject's UID): every device listens on it.
    pub topic: String,
    /// Subject.
    pub subject: String,
    /// Issuer.
    pub issuer: String,
    /// Serial number.
    pub serial_number: String,
    /// Hex SHA-256 of the certificate.
    pub sha256: String,
    /// `production` or `sandbox`.
    pub environment: String,
    /// Valid from.
    pub not_before: Option<String>,
    /// Valid until: renew it before.
    pub not_after: Option<String>,
    /// Days until it expires (negative once expired).
    pub days_left: i64,
    /// A warning to act on (expiring soon, expired).
    pub warning: Option<String>,
    /// When it was installed.
    pub uploaded_at: Option<String>,
    /// By whom.
    pub uploaded_by: Option<String>,
    /// APNs's last refusal of it.
    pub last_error: Option<String>,
    /// When.
    pub last_error_at: Option<String>,
    /// Grows with every upload.
    pub version: u64,
}

/// The body of `PUT /v1/push-certificate`: a PEM file or a PKCS#12 file, base64-encoded. It
/// replaces the certificate of its own topic (the topic is the certificate's UID).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PushCertificateUpload {
    /// PEM: certificate and key in one file, or the key apart.
    Pem(PemUpload),
    /// PKCS#12 (`.p12`), legacy encryptions included.
    Pkcs12(Pkcs12Upload),
}

/// A PEM upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PemUpload {
    /// Base64 of the PEM with the certificate (and the key, unless `key_pem` holds it).
    #[schema(
        min_length = 1,
        max_length = 1_000_000,
        pattern = "^[A-Za-z0-9+/=\\s]+$"
    )]
    pub pem: String,
    /// Base64 of a separate PEM key file.
    #[schema(
        min_length = 1,
        max_length = 1_000_000,
        pattern = "^[A-Za-z0-9+/=\\s]+$"
    )]
    pub key_pem: Option<String>,
    /// `production` (default) or `sandbox`.
    pub environment: Option<PushEnvironment>,
    /// Install it although this server does not push its topic yet (a second organisation,
    /// a migration): without it, a certificate whose topic is new is refused, because a
    /// renewal whose topic changed would cut off every device of the old one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_topic: Option<bool>,
}

/// A PKCS#12 upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Pkcs12Upload {
    /// Base64 of the `.p12` file.
    #[schema(
        min_length = 1,
        max_length = 1_000_000,
        pattern = "^[A-Za-z0-9+/=\\s]+$"
    )]
    pub pkcs12: String,
    /// Its password.
    #[schema(max_length = 1024)]
    pub password: Option<String>,
    /// `production` (default) or `sandbox`.
    pub environment: Option<PushEnvironment>,
    /// Install it although this server does not push its topic yet (a second organisation,
    /// a migration): without it, a certificate whose topic is new is refused, because a
    /// renewal whose topic changed would cut off every device of the old one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_topic: Option<bool>,
}

/// The APNs environment a certificate pushes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PushEnvironment {
    /// api.push.apple.com.
    Production,
    /// api.sandbox.push.apple.com.
    Sandbox,
}

impl PushEnvironment {
    /// The name push-svc takes.
    pub fn as_str(self) -> &'static str {
        match self {
            PushEnvironment::Production => "production",
            PushEnvironment::Sandbox => "sandbox",
        }
    }
}
