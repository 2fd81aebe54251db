//! gRPC answers as the admin API's JSON: timestamps in RFC 3339 (or `null` for "never"),
//! enums as lower_snake strings, empty optional strings as `null`, plists as JSON.

use http::StatusCode;
use mdm_proto::v1::{CommandInfo, Delivery, DeliveryStatus, EnrollmentInfo, EnrollmentStatus};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A Unix-milliseconds timestamp as RFC 3339 in UTC; `null` for 0 ("not yet", "never") or a
/// value outside the calendar.
pub fn timestamp(ms: i64) -> Value {
    if ms == 0 {
        return Value::Null;
    }
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .map_or(Value::Null, Value::String)
}

/// An optional string: `null` when empty (proto3 cannot tell "empty" from "absent").
fn text(value: &str) -> Value {
    if value.is_empty() {
        Value::Null
    } else {
        Value::String(value.to_owned())
    }
}

/// A stored plist (command or device report) as a JSON object; `null` when there is none. A
/// plist that does not convert (it was parsed before it was stored, so this should not happen)
/// becomes `{"$raw": "<its text>"}`, so the administrator still sees what the device said.
pub fn plist(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    match mdm_core::json::report_to_json(bytes) {
        Ok(value) => value,
        Err(error) => {
            tracing::warn!(%error, "a stored plist does not convert to JSON");
            json!({ "$raw": String::from_utf8_lossy(bytes) })
        }
    }
}

/// The API name of a delivery status.
pub fn delivery_status(status: i32) -> &'static str {
    match DeliveryStatus::try_from(status) {
        Ok(DeliveryStatus::Queued) => "queued",
        Ok(DeliveryStatus::Acknowledged) => "acknowledged",
        Ok(DeliveryStatus::Error) => "error",
        Ok(DeliveryStatus::CommandFormatError) => "command_format_error",
        Ok(DeliveryStatus::Cancelled) => "cancelled",
        Ok(DeliveryStatus::Expired) => "expired",
        Ok(DeliveryStatus::Superseded) => "superseded",
        Ok(DeliveryStatus::Unspecified) | Err(_) => "unspecified",
    }
}

/// The API name of an enrollment status.
pub fn enrollment_status(status: i32) -> &'static str {
    match EnrollmentStatus::try_from(status) {
        Ok(EnrollmentStatus::Authenticated) => "authenticated",
        Ok(EnrollmentStatus::Enrolled) => "enrolled",
        Ok(EnrollmentStatus::CheckedOut) => "checked_out",
        Ok(EnrollmentStatus::Unspecified) | Err(_) => "unspecified",
    }
}

/// The enrollment status named in a query (`?status=enrolled`).
pub fn parse_enrollment_status(name: &str) -> Option<EnrollmentStatus> {
    [
        EnrollmentStatus::Authenticated,
        EnrollmentStatus::Enrolled,
        EnrollmentStatus::CheckedOut,
    ]
    .into_iter()
    .find(|status| enrollment_status(*status as i32) == name)
}

/// One command for one enrollment.
pub fn delivery(d: &Delivery) -> Value {
    json!({
        "enrollment_id": d.enrollment_id,
        "command_uuid": d.command_uuid,
        "request_type": d.request_type,
        "status": delivery_status(d.status),
        "not_now_count": d.not_now_count,
        "priority": d.priority,
        "queued_at": timestamp(d.queued_at_ms),
        "sent_at": timestamp(d.sent_at_ms),
        "completed_at": timestamp(d.completed_at_ms),
        "result": plist(&d.result_plist),
    })
}

/// A command with its deliveries.
pub fn command(c: &CommandInfo) -> Value {
    // Sorted, so that the same state always renders the same document.
    let counts: BTreeMap<&str, u32> = c
        .status_counts
        .iter()
        .map(|(status, n)| (status.as_str(), *n))
        .collect();
    json!({
        "command_uuid": c.command_uuid,
        "request_type": c.request_type,
        "priority": c.priority,
        "created_at": timestamp(c.created_at_ms),
        "expires_at": timestamp(c.expires_at_ms),
        "requested_by": text(&c.requested_by),
        "reason": text(&c.reason),
        "command": plist(&c.command_plist),
        "status_counts": counts,
        "deliveries": c.deliveries.iter().map(delivery).collect::<Vec<_>>(),
    })
}

/// An enrollment as an administrator sees it (the service never returns secrets).
pub fn enrollment(e: &EnrollmentInfo) -> Value {
    json!({
        "enrollment_id": e.enrollment_id,
        "device_id": e.device_id,
        "user_id": text(&e.user_id),
        "status": enrollment_status(e.status),
        "cert_sha256": text(&e.cert_sha256),
        "topic": text(&e.topic),
        "serial_number": text(&e.serial_number),
        "product_name": text(&e.product_name),
        "os_version": text(&e.os_version),
        "build_version": text(&e.build_version),
        "device_name": text(&e.device_name),
        "model": text(&e.model),
        "model_name": text(&e.model_name),
        "imei": text(&e.imei),
        "meid": text(&e.meid),
        "user_short_name": text(&e.user_short_name),
        "user_long_name": text(&e.user_long_name),
        "push_token": text(&e.push_token),
        "has_push_magic": e.has_push_magic,
        "has_unlock_token": e.has_unlock_token,
        "has_bootstrap_token": e.has_bootstrap_token,
        "awaiting_configuration": e.awaiting_configuration,
        "created_at": timestamp(e.created_at_ms),
        "authenticated_at": timestamp(e.authenticated_at_ms),
        "token_updated_at": timestamp(e.token_updated_at_ms),
        "checked_out_at": timestamp(e.checked_out_at_ms),
        "last_seen_at": timestamp(e.last_seen_at_ms),
    })
}

/// The error body every failure answers.
pub fn error(code: &str, message: &str) -> Value {
    json!({ "error": code, "message": message })
}

/// A successful answer: status and JSON body.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The serialized JSON.
    pub body: Vec<u8>,
}

impl Reply {
    /// `value` serialized as the body.
    pub fn json(status: StatusCode, value: &Value) -> Reply {
        // A `Value` always serializes (its keys are strings); the fallback is unreachable.
        let body = serde_json::to_vec(value).unwrap_or_default();
        Reply { status, body }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
        <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
        \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
        <plist version=\"1.0\"><dict>\
        <key>CommandUUID</key><string>c-1</string>\
        <key>QueryResponses</key><dict><key>OSVersion</key><string>17.4</string></dict>\
        <key>Status</key><string>Acknowledged</string>\
        <key>UDID</key><string>UDID-1</string>\
        </dict></plist>";

    fn sample() -> Delivery {
        Delivery {
            enrollment_id: "UDID-1".into(),
            command_uuid: "c-1".into(),
            request_type: "DeviceInformation".into(),
            status: DeliveryStatus::Queued as i32,
            not_now_count: 2,
            queued_at_ms: 1_700_000_000_123,
            sent_at_ms: 0,
            completed_at_ms: 0,
            result_plist: Vec::new(),
            priority: 5,
        }
    }

    #[test]
    fn a_pending_delivery_has_null_times_and_result() {
        let v = delivery(&sample());
        assert_eq!(v["status"], "queued");
        assert_eq!(v["queued_at"], "2023-11-14T22:13:20.123Z");
        assert_eq!(v["sent_at"], Value::Null);
        assert_eq!(v["completed_at"], Value::Null);
        assert_eq!(v["result"], Value::Null);
        assert_eq!(v["not_now_count"], 2);
        assert_eq!(v["priority"], 5);
    }

    #[test]
    fn a_completed_delivery_carries_its_result_as_json() {
        let d = Delivery {
            status: DeliveryStatus::Acknowledged as i32,
            sent_at_ms: 1_700_000_001_000,
            completed_at_ms: 1_700_000_002_000,
            result_plist: REPORT.as_bytes().to_vec(),
            ..sample()
        };
        let v = delivery(&d);
        assert_eq!(v["status"], "acknowledged");
        assert_eq!(v["completed_at"], "2023-11-14T22:13:22Z");
        assert_eq!(v["result"]["Status"], "Acknowledged");
        assert_eq!(v["result"]["QueryResponses"]["OSVersion"], "17.4");
    }

    #[test]
    fn a_result_that_does_not_convert_is_kept_as_text() {
        let d = Delivery {
            result_plist: b"not a plist".to_vec(),
            ..sample()
        };
        assert_eq!(delivery(&d)["result"]["$raw"], "not a plist");
    }

    #[test]
    fn statuses_have_stable_names() {
        assert_eq!(
            delivery_status(DeliveryStatus::CommandFormatError as i32),
            "command_format_error"
        );
        assert_eq!(delivery_status(99), "unspecified");
        for status in [
            EnrollmentStatus::Authenticated,
            EnrollmentStatus::Enrolled,
            EnrollmentStatus::CheckedOut,
        ] {
            assert_eq!(
                parse_enrollment_status(enrollment_status(status as i32)),
                Some(status)
            );
        }
        assert_eq!(parse_enrollment_status("unspecified"), None);
    }

    #[test]
    fn an_enrollment_renders_empty_strings_as_null() {
        let e = EnrollmentInfo {
            enrollment_id: "UDID-1:USER-1".into(),
            device_id: "UDID-1".into(),
            user_id: "USER-1".into(),
            status: EnrollmentStatus::Enrolled as i32,
            created_at_ms: 1_700_000_000_000,
            ..EnrollmentInfo::default()
        };
        let v = enrollment(&e);
        assert_eq!(v["status"], "enrolled");
        assert_eq!(v["serial_number"], Value::Null);
        assert_eq!(v["created_at"], "2023-11-14T22:13:20Z");
        assert_eq!(v["checked_out_at"], Value::Null);
    }
}
