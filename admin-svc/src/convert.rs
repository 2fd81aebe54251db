//! From the services' messages to the API's documents (`mdm_api`), and back for times: proto3
//! cannot tell "empty" from "absent", so empty strings and zero times become `null` here, once.

use mdm_api::commands::{Command, DeliveryStatus};
use mdm_api::devices::{App, Delivery, Device, EnrollmentStatus, Inventory};
use mdm_api::enrollment::{CertificateFlow, EnrollmentToken, IssuedCertificate};
use mdm_api::push::{PushCertificate, PushState, PushSummary};
use mdm_proto::v1;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Unix ms as RFC 3339; `None` for 0 (never).
pub fn time(ms: i64) -> Option<String> {
    if ms == 0 {
        return None;
    }
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
}

/// RFC 3339 as Unix ms; `None` when it is not a valid time.
pub fn parse_time(text: &str) -> Option<i64> {
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// An optional string.
pub fn text(value: String) -> Option<String> {
    Some(value).filter(|v| !v.is_empty())
}

/// A stored plist (a result, a command) as JSON; text when it does not convert.
pub fn plist(bytes: &[u8]) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    Some(match mdm_core::json::report_to_json(bytes) {
        Ok(value) => value,
        Err(error) => {
            tracing::warn!(%error, "a stored plist does not convert to JSON");
            json!({ "$raw": String::from_utf8_lossy(bytes) })
        }
    })
}

/// An enrollment's status.
pub fn enrollment_status(status: i32) -> EnrollmentStatus {
    match v1::EnrollmentStatus::try_from(status) {
        Ok(v1::EnrollmentStatus::Enrolled) => EnrollmentStatus::Enrolled,
        Ok(v1::EnrollmentStatus::CheckedOut) => EnrollmentStatus::CheckedOut,
        _ => EnrollmentStatus::Authenticated,
    }
}

/// The gRPC form of a status filter.
pub fn enrollment_status_filter(status: EnrollmentStatus) -> v1::EnrollmentStatus {
    match status {
        EnrollmentStatus::Authenticated => v1::EnrollmentStatus::Authenticated,
        EnrollmentStatus::Enrolled => v1::EnrollmentStatus::Enrolled,
        EnrollmentStatus::CheckedOut => v1::EnrollmentStatus::CheckedOut,
    }
}

/// A device, without its push state.
pub fn device(e: v1::EnrollmentInfo) -> Device {
    let inventory = e.inventory.unwrap_or_default();
    Device {
        status: enrollment_status(e.status),
        enrollment_id: e.enrollment_id,
        device_id: e.device_id,
        user_id: text(e.user_id),
        cert_sha256: text(e.cert_sha256),
        identity_expires_at: time(e.identity_not_after_ms),
        topic: text(e.topic),
        serial_number: text(e.serial_number),
        product_name: text(e.product_name),
        os_version: text(e.os_version),
        build_version: text(e.build_version),
        device_name: text(e.device_name),
        model: text(e.model),
        model_name: text(e.model_name),
        imei: text(e.imei),
        meid: text(e.meid),
        user_short_name: text(e.user_short_name),
        user_long_name: text(e.user_long_name),
        push_token: text(e.push_token),
        has_push_magic: e.has_push_magic,
        has_unlock_token: e.has_unlock_token,
        has_bootstrap_token: e.has_bootstrap_token,
        awaiting_configuration: e.awaiting_configuration,
        generation: e.generation,
        created_at: time(e.created_at_ms),
        authenticated_at: time(e.authenticated_at_ms),
        token_updated_at: time(e.token_updated_at_ms),
        checked_out_at: time(e.checked_out_at_ms),
        last_seen_at: time(e.last_seen_at_ms),
        inventory: Inventory {
            capacity_gb: inventory.capacity_gb,
            available_gb: inventory.available_gb,
            battery_level: inventory.battery_level,
            supervised: inventory.supervised,
            encrypted: inventory.encrypted,
            passcode_present: inventory.passcode_present,
            app_count: inventory.app_count,
            updated_at: time(inventory.updated_at_ms),
        },
        push: None,
        identity_certificate: None,
    }
}

/// A device's push target.
pub fn push_state(t: v1::PushTarget) -> PushState {
    let status = match v1::PushTargetStatus::try_from(t.status) {
        Ok(v1::PushTargetStatus::Inactive) => "inactive",
        _ => "active",
    };
    PushState {
        status: status.into(),
        flag: text(t.flag),
        token: t.token,
        topic: t.topic,
        registered_at: time(t.registered_at_ms),
        last_seen_at: time(t.last_seen_at_ms),
        last_push_at: time(t.last_push_at_ms),
        last_outcome: text(t.last_outcome),
        last_reason: text(t.last_reason),
        inactive_since: time(t.inactive_since_ms),
    }
}

/// An app.
pub fn app(a: v1::App) -> App {
    App {
        identifier: a.identifier,
        name: text(a.name),
        version: text(a.version),
        build: text(a.build),
        size_bytes: a.size_bytes,
    }
}

/// A delivery's status.
pub fn delivery_status(status: i32) -> DeliveryStatus {
    match v1::DeliveryStatus::try_from(status) {
        Ok(v1::DeliveryStatus::Acknowledged) => DeliveryStatus::Acknowledged,
        Ok(v1::DeliveryStatus::Error) => DeliveryStatus::Error,
        Ok(v1::DeliveryStatus::CommandFormatError) => DeliveryStatus::CommandFormatError,
        Ok(v1::DeliveryStatus::Cancelled) => DeliveryStatus::Cancelled,
        Ok(v1::DeliveryStatus::Expired) => DeliveryStatus::Expired,
        Ok(v1::DeliveryStatus::Superseded) => DeliveryStatus::Superseded,
        _ => DeliveryStatus::Queued,
    }
}

/// The gRPC form of a delivery status filter.
pub fn delivery_status_filter(status: DeliveryStatus) -> v1::DeliveryStatus {
    match status {
        DeliveryStatus::Queued => v1::DeliveryStatus::Queued,
        DeliveryStatus::Acknowledged => v1::DeliveryStatus::Acknowledged,
        DeliveryStatus::Error => v1::DeliveryStatus::Error,
        DeliveryStatus::CommandFormatError => v1::DeliveryStatus::CommandFormatError,
        DeliveryStatus::Cancelled => v1::DeliveryStatus::Cancelled,
        DeliveryStatus::Expired => v1::DeliveryStatus::Expired,
        DeliveryStatus::Superseded => v1::DeliveryStatus::Superseded,
    }
}

/// A delivery.
pub fn delivery(d: v1::Delivery) -> Delivery {
    Delivery {
        status: delivery_status(d.status),
        result: plist(&d.result_plist),
        enrollment_id: d.enrollment_id,
        command_uuid: d.command_uuid,
        request_type: d.request_type,
        not_now_count: d.not_now_count,
        priority: d.priority,
        queued_at: time(d.queued_at_ms),
        sent_at: time(d.sent_at_ms),
        completed_at: time(d.completed_at_ms),
    }
}

/// A command.
pub fn command(c: v1::CommandInfo) -> Command {
    let command = plist(&c.command_plist).map(|full| match full.get("Command") {
        Some(inner) => inner.clone(),
        None => full,
    });
    Command {
        command,
        command_uuid: c.command_uuid,
        request_type: c.request_type,
        priority: c.priority,
        created_at: time(c.created_at_ms),
        expires_at: time(c.expires_at_ms),
        requested_by: text(c.requested_by),
        reason: text(c.reason),
        status_counts: c.status_counts.into_iter().collect(),
        cancelled_at: time(c.cancelled_at_ms),
        cancelled_by: text(c.cancelled_by),
    }
}

/// What an enqueue's push did.
pub fn push_summary(s: Option<v1::PushSummary>) -> PushSummary {
    let Some(s) = s.filter(|s| s.attempted) else {
        return PushSummary::default();
    };
    PushSummary {
        attempted: true,
        delivered: s.delivered,
        not_delivered: s.not_delivered,
        outcomes: s.outcomes.into_iter().collect(),
        error: text(s.error),
    }
}

/// The name of a push outcome.
pub fn push_outcome(outcome: i32) -> &'static str {
    match v1::PushOutcome::try_from(outcome) {
        Ok(v1::PushOutcome::Delivered) => "delivered",
        Ok(v1::PushOutcome::NoTarget) => "no_target",
        Ok(v1::PushOutcome::Inactive) => "inactive",
        Ok(v1::PushOutcome::Unregistered) => "unregistered",
        Ok(v1::PushOutcome::BadToken) => "bad_token",
        Ok(v1::PushOutcome::CertificateRejected) => "certificate_rejected",
        Ok(v1::PushOutcome::NoCertificate) => "no_certificate",
        Ok(v1::PushOutcome::TopicMismatch) => "topic_mismatch",
        Ok(v1::PushOutcome::Rejected) => "rejected",
        Ok(v1::PushOutcome::Failed) | Ok(v1::PushOutcome::Unspecified) | Err(_) => "failed",
    }
}

/// The installed push certificate.
pub fn push_certificate(c: v1::CertificateInfo) -> PushCertificate {
    PushCertificate {
        topic: c.topic,
        subject: c.subject,
        issuer: c.issuer,
        serial_number: c.serial_number,
        sha256: c.sha256,
        environment: c.environment,
        not_before: time(c.not_before_ms),
        not_after: time(c.not_after_ms),
        days_left: c.days_left,
        warning: text(c.warning),
        uploaded_at: time(c.uploaded_at_ms),
        uploaded_by: text(c.uploaded_by),
        last_error: text(c.last_error),
        last_error_at: time(c.last_error_at_ms),
        version: u64::try_from(c.version).unwrap_or(0),
    }
}

/// An enrollment token.
pub fn enrollment_token(t: v1::EnrollmentToken) -> EnrollmentToken {
    EnrollmentToken {
        id: t.id,
        description: t.description,
        user_name: text(t.user_name),
        max_uses: (t.max_uses > 0).then_some(t.max_uses),
        uses: t.uses,
        created_by: t.created_by,
        created_at: time(t.created_at_ms),
        expires_at: time(t.expires_at_ms),
        revoked_at: time(t.revoked_at_ms),
    }
}

/// An issued certificate.
pub fn issued_certificate(c: v1::IssuedCertificate) -> IssuedCertificate {
    let flow = match c.flow() {
        v1::CertificateFlow::Ota => CertificateFlow::Ota,
        v1::CertificateFlow::Enrollment => CertificateFlow::Enrollment,
        v1::CertificateFlow::Direct | v1::CertificateFlow::Unspecified => CertificateFlow::Direct,
    };
    IssuedCertificate {
        flow,
        serial: c.serial,
        sha256: c.sha256,
        common_name: c.common_name,
        issued_at: time(c.issued_at_ms),
        not_after: time(c.not_after_ms),
        enrollment_id: text(c.enrollment_id),
        renewed_from: text(c.renewed_from),
        revoked_at: time(c.revoked_at_ms),
        revocation_reason: text(c.revocation_reason),
        revoked_by: text(c.revoked_by),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_and_zero_is_never() {
        assert_eq!(time(0), None);
        let at = time(1_700_000_000_123).expect("a time");
        assert_eq!(at, "2023-11-14T22:13:20.123Z");
        assert_eq!(parse_time(&at), Some(1_700_000_000_123));
        assert_eq!(parse_time("tomorrow"), None);
    }
}
