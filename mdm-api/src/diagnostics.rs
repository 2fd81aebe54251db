//! `/v1/diagnostics`: what each service finds wrong with itself — its database, its
//! migrations, its clock, and its own concerns (push-svc's handshake with APNs, enroll-svc's
//! enrollment settings) — for `mdmctl doctor` and monitoring. Unlike `/v1/summary`, a service
//! that cannot be asked does not fail the request: that is itself the finding.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The answer of `GET /v1/diagnostics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Diagnostics {
    /// admin-svc, enroll-svc, command-svc and push-svc, in that order.
    pub services: Vec<ServiceDiagnosis>,
}

/// One service's view of itself (one replica's, when it has several).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServiceDiagnosis {
    /// `admin-svc`, `enroll-svc`, `command-svc` or `push-svc`.
    pub service: String,
    /// Whether it answered; when not, `error` says why and there are no findings.
    pub reachable: bool,
    /// Why it could not be asked.
    pub error: Option<String>,
    /// What it looked at: `database`, `migrations`, then its own (`apns:<topic>`,
    /// `enrollment`).
    pub findings: Vec<Finding>,
    /// Settings other checks compare against: `clock_unix_ms` (its clock as it answered);
    /// enroll-svc's `topic`, `base_url`, `server_url`, `check_in_url`, `sign_message` and
    /// `server_roots_pem` (the private roots of the server's TLS certificate, empty when it is
    /// publicly trusted).
    pub facts: BTreeMap<String, String>,
}

/// One thing a service looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Finding {
    /// Stable name.
    pub name: String,
    /// Whether it is as it should be.
    pub ok: bool,
    /// What was found, in one sentence.
    pub detail: String,
}
