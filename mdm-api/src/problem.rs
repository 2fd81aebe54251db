//! The body of every failure: an RFC 9457 problem document (`application/problem+json`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Media type of [`Problem`] bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// `urn:mdm:problem:<code>`: identifies the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind (the HTTP reason phrase).
    pub title: String,
    /// The HTTP status.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What happened in this case, for the administrator.
    pub detail: String,
    /// The stable code: `unauthorized`, `forbidden`, `not_found`, `invalid_request`,
    /// `conflict`, `payload_too_large`, `unavailable`, `internal`, ...
    pub code: String,
}

impl Problem {
    /// The problem `code` answered with `status`, explained by `detail`.
    pub fn new(status: u16, title: &str, code: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("urn:mdm:problem:{code}"),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            code: code.to_owned(),
        }
    }
}
