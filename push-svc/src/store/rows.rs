//! Row types of the push tables.

/// Whether a target is pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetStatus {
    /// Pushed on request.
    Active,
    /// Not pushed: APNs said the token is gone, or the device was silent too long.
    Inactive,
}

impl TargetStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetStatus::Active => "active",
            TargetStatus::Inactive => "inactive",
        }
    }
}

impl TryFrom<String> for TargetStatus {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        match value.as_str() {
            "active" => Ok(TargetStatus::Active),
            "inactive" => Ok(TargetStatus::Inactive),
            other => Err(format!("unknown target status {other:?}")),
        }
    }
}

/// One enrollment's push target.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TargetRow {
    /// Enrollment ID.
    pub enrollment_id: String,
    /// Its device channel.
    pub device_id: String,
    /// APNs device token.
    pub token: Vec<u8>,
    /// PushMagic.
    pub push_magic: String,
    /// The topic the device reported.
    pub topic: String,
    /// Active or inactive.
    #[sqlx(try_from = "String")]
    pub status: TargetStatus,
    /// Why it needs attention.
    pub flag: Option<String>,
    /// Unix ms of the last TokenUpdate.
    pub registered_at: i64,
    /// Unix ms the device was last known to connect.
    pub last_seen_at: i64,
    /// Unix ms of the last push attempt.
    pub last_push_at: Option<i64>,
    /// Outcome name of the last push.
    pub last_outcome: Option<String>,
    /// APNs's reason for it.
    pub last_reason: Option<String>,
    /// Unix ms it became inactive.
    pub inactive_at: Option<i64>,
}

/// One uploaded push certificate.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CertificateRow {
    /// Increases with every upload; the highest is current.
    pub version: i64,
    /// Push topic.
    pub topic: String,
    /// `production` or `sandbox`.
    pub environment: String,
    /// PEM chain, leaf first.
    pub chain_pem: String,
    /// The key's PEM, sealed.
    pub sealed_key: Vec<u8>,
    /// Hex SHA-256 of the leaf.
    pub sha256: String,
    /// Leaf subject.
    pub subject: String,
    /// Leaf issuer.
    pub issuer: String,
    /// Leaf serial (hex).
    pub serial: String,
    /// Unix ms.
    pub not_before: i64,
    /// Unix ms.
    pub not_after: i64,
    /// Unix ms.
    pub uploaded_at: i64,
    /// Admin token name.
    pub uploaded_by: String,
    /// Last certificate-level refusal from APNs.
    pub last_error: Option<String>,
    /// When it happened (Unix ms).
    pub last_error_at: Option<i64>,
}
