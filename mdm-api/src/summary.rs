//! `/v1/summary`: the fleet at a glance for the web console's dashboard, in one request rather
//! than one page of every list. Counts come from the services' indexes; a service that cannot
//! answer fails the whole request (a problem document), so a zero here is always a real zero.

use crate::devices::Delivery;
use crate::push::PushCertificate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The answer of `GET /v1/summary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Summary {
    /// Enrollments by status, and how many are recently seen or no longer pushed.
    pub devices: DeviceCounts,
    /// The command queue: what waits, and what devices refused.
    pub commands: CommandSummary,
    /// The installed push certificate (watch its `days_left`); `null` before the first upload,
    /// when no device can be woken.
    pub push_certificate: Option<PushCertificate>,
}

/// Enrollments (device and user channels) by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceCounts {
    /// Every enrollment, whatever its status.
    pub total: u64,
    /// Authenticate received; waiting for the first TokenUpdate.
    pub authenticated: u64,
    /// Managed and reachable by push.
    pub enrolled: u64,
    /// Checked out: not managed.
    pub checked_out: u64,
    /// Whose last message of any kind arrived within the last 24 hours.
    pub seen_last_24h: u64,
    /// Push targets no longer pushed: APNs said the token is gone, or the device was silent
    /// past the inactivity period. Such a device gets commands only when it checks in itself.
    pub inactive: u64,
    /// Enrolled devices whose identity certificate (issued by this server) expires within 30
    /// days or has expired: unless renewed, they stop being managed then.
    pub identities_expiring_30d: u64,
}

/// The command queue at a glance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CommandSummary {
    /// Deliveries waiting for their device's answer (sent or not yet).
    pub in_flight: u64,
    /// Deliveries answered `Error` or `CommandFormatError` within the last 24 hours.
    pub errors_last_24h: u64,
    /// The latest deliveries answered `Error` or `CommandFormatError`, of any age, newest
    /// completed first, at most 10, each with the device's report (its `ErrorChain`).
    #[schema(max_items = 10)]
    pub recent_errors: Vec<Delivery>,
}
