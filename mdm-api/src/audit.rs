//! `/v1/audit`: who did what to which devices, and why: destructive commands queued, refused
//! and approved re-enrollments, admin tokens made and revoked. Newest first, from every service
//! that keeps a part of it.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// When.
    pub at: Option<String>,
    /// Which service kept it: `command-svc`, `enroll-svc` or `admin-svc`.
    pub source: String,
    /// Who: an admin token's name, or `device:<enrollment>` for what a device did.
    pub actor: String,
    /// What: `command.queued` (a destructive command, one entry per device), `command.cancelled`,
    /// `enrollment.rebind_refused`, `enrollment.reenrollment_approved`, `certificate.revoked`,
    /// `admin_token.created`,
    /// `admin_token.revoked`.
    pub action: String,
    /// The device it concerns, if any.
    pub enrollment_id: Option<String>,
    /// The command's RequestType, for command actions.
    pub request_type: Option<String>,
    /// The command, for command actions.
    pub command_uuid: Option<String>,
    /// Why (the administrator's reason), or what was refused and why.
    pub detail: String,
}

/// Filters and paging of `GET /v1/audit`, newest first.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only entries about this device.
    #[param(min_length = 1, max_length = 513)]
    pub enrollment_id: Option<String>,
    /// Only this action.
    #[param(min_length = 1, max_length = 64, pattern = "^[a-z_.]+$")]
    pub action: Option<String>,
    /// A previous page's `next_cursor`.
    #[param(min_length = 1, max_length = 1024)]
    pub cursor: Option<String>,
    /// Items per page (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}
