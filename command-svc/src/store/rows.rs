//! Row types of the queue tables.

use mdm_core::CommandStatus;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Waiting (possibly sent, not yet answered with a final status).
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
    /// Queued for an earlier generation of the enrollment (before a re-enrollment): never sent.
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

    /// The stored text.
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

    /// The delivery status a final report status leads to.
    pub fn from_final(status: CommandStatus) -> DeliveryStatus {
        match status {
            CommandStatus::Acknowledged => DeliveryStatus::Acknowledged,
            CommandStatus::CommandFormatError => DeliveryStatus::CommandFormatError,
            _ => DeliveryStatus::Error,
        }
    }
}

impl TryFrom<String> for DeliveryStatus {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        DeliveryStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| format!("unknown delivery status {value:?}"))
    }
}

/// A command row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommandRow {
    /// CommandUUID.
    pub command_uuid: String,
    /// RequestType.
    pub request_type: String,
    /// The plist sent to devices.
    pub payload: Vec<u8>,
    /// Priority.
    pub priority: i32,
    /// Expiry (Unix ms).
    pub expires_at: Option<i64>,
    /// Who asked.
    pub requested_by: String,
    /// Why.
    pub reason: String,
    /// When (Unix ms).
    pub created_at: i64,
    /// When an administrator cancelled it (Unix ms).
    pub cancelled_at: Option<i64>,
    /// Who cancelled it.
    pub cancelled_by: Option<String>,
}

/// One command for one enrollment, with its outcome.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    /// Target.
    pub enrollment_id: String,
    /// Command.
    pub command_uuid: String,
    /// RequestType of the command.
    pub request_type: String,
    /// Priority.
    pub priority: i32,
    /// Where it stands.
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
    /// NotNow answers so far.
    pub not_now_count: i32,
    /// Unix ms.
    pub queued_at: i64,
    /// First sent (Unix ms).
    pub sent_at: Option<i64>,
    /// Final status received (Unix ms).
    pub completed_at: Option<i64>,
    /// The device's final report.
    pub result: Option<Vec<u8>>,
}

/// One audit entry: a destructive command queued for one enrollment (`command.queued`), or a
/// command cancelled (`command.cancelled`, no enrollment).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    /// Increasing.
    pub id: i64,
    /// Unix ms.
    pub at: i64,
    /// Who (admin token name).
    pub actor: String,
    /// What (`enqueue`).
    pub action: String,
    /// RequestType.
    pub request_type: String,
    /// The command.
    pub command_uuid: String,
    /// The target.
    pub enrollment_id: String,
    /// Why.
    pub reason: String,
}
