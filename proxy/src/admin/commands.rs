//! `/v1/commands`: queue a command for devices, read it with its deliveries, cancel it.
//!
//! Queueing is where the API guards devices: the body is validated and the scopes checked here,
//! before command-svc sees anything. Destructive commands need the `destructive` scope and a
//! reason; ClearPasscode also needs `clear-passcode` and goes to exactly one device, because it
//! removes the passcode and Data Protection and must never reach a lost device by accident
//! (Apple: decide how it "can be issued and accounted for").

use super::auth::Caller;
use super::config::Scope;
use super::error::AdminError;
use super::render::{self, Reply};
use crate::backends::Backends;
use http::StatusCode;
use mdm_core::commands::{
    command_from_json, is_destructive, parse_command_plist, request_type_of, CommandSpec,
};
use mdm_proto::v1::{CancelRequest, EnqueueRequest, GetCommandRequest};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashSet;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Most devices one request may target.
pub const MAX_DEVICES: usize = 100_000;

/// Longest device ID accepted: a user channel's `<device>:<user>` of two maximal IDs.
const MAX_DEVICE_ID_LEN: usize = 2 * mdm_core::MAX_ID_LEN + 1;

/// Longest idempotency key or reason.
const MAX_TEXT_LEN: usize = 1024;

const SERVICE: &str = "command-svc";

/// The body of `POST /v1/commands`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnqueueBody {
    devices: Vec<String>,
    /// Typed (`request_type`), Apple-keyed JSON (`RequestType`) or `{"plist": "<xml>"}`.
    command: Value,
    #[serde(default)]
    priority: i32,
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    ttl_seconds: Option<u64>,
    #[serde(default)]
    idempotency_key: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    /// Wake the devices now (default). `false` leaves the command for their next check-in
    /// or push.
    #[serde(default)]
    push: Option<bool>,
    /// Queue for devices not enrolled yet (they get it at their first enrollment). Without it,
    /// a device that is unknown or checked out fails the request, which names it.
    #[serde(default)]
    allow_unknown: bool,
}

/// Validates a `POST /v1/commands` body for `caller` and builds the gRPC request. `now_ms` is
/// the clock `ttl_seconds` counts from.
pub fn enqueue_request(
    caller: &Caller,
    body: &[u8],
    now_ms: i64,
) -> Result<EnqueueRequest, AdminError> {
    caller.require(Scope::Commands)?;
    let body: EnqueueBody =
        serde_json::from_slice(body).map_err(|e| AdminError::InvalidJson(e.to_string()))?;
    check_devices(&body.devices)?;
    let command = command_dictionary(&body.command)?;
    let request_type = request_type_of(&command)
        .ok_or_else(|| AdminError::Invalid("the command has no RequestType".into()))?
        .to_owned();

    let destructive = is_destructive(&request_type);
    let clear_passcode = request_type == "ClearPasscode";
    if destructive {
        caller.require(Scope::Destructive)?;
    }
    if clear_passcode {
        caller.require(Scope::ClearPasscode)?;
    }
    let reason = optional_text("reason", body.reason)?;
    if destructive && reason.is_empty() {
        return Err(AdminError::Invalid(format!(
            "{request_type} needs a reason: it is recorded with the command"
        )));
    }
    if clear_passcode && body.devices.len() != 1 {
        return Err(AdminError::Invalid(
            "ClearPasscode goes to exactly one device, after its owner is verified to hold it"
                .into(),
        ));
    }
    let idempotency_key = optional_text("idempotency_key", body.idempotency_key)?;
    let expires_at_ms = expiry(body.expires_at.as_deref(), body.ttl_seconds, now_ms)?;

    let mut command_plist = Vec::new();
    plist::Value::Dictionary(command)
        .to_writer_xml(&mut command_plist)
        // Only a UID (possible in a binary plist, meaningless in a command) fails to write.
        .map_err(|e| AdminError::Invalid(format!("the command cannot be written as XML: {e}")))?;
    Ok(EnqueueRequest {
        enrollment_ids: body.devices,
        command_plist,
        priority: body.priority,
        expires_at_ms,
        idempotency_key,
        requested_by: caller.name.clone(),
        reason,
        no_push: body.push == Some(false),
        allow_unknown: body.allow_unknown,
    })
}

/// `POST /v1/commands` → 201.
pub async fn enqueue(
    backends: &Backends,
    caller: &Caller,
    body: &[u8],
) -> Result<Reply, AdminError> {
    let request = enqueue_request(caller, body, service_kit::now_ms())?;
    let reason = request.reason.clone();
    let answer = backends
        .command_client()
        .enqueue(request)
        .await
        .map_err(|status| AdminError::backend(SERVICE, &status))?
        .into_inner();
    // The audit line: who queued what, for how many, and why.
    tracing::info!(
        caller = %caller.name,
        command_uuid = %answer.command_uuid,
        request_type = %answer.request_type,
        targets = answer.targets,
        duplicate = answer.duplicate,
        reason = %reason,
        "command queued"
    );
    Ok(Reply::json(
        StatusCode::CREATED,
        &json!({
            "command_uuid": answer.command_uuid,
            "request_type": answer.request_type,
            "targets": answer.targets,
            "duplicate": answer.duplicate,
            "push": answer.push.as_ref().map_or(Value::Null, super::push::summary),
        }),
    ))
}

/// `GET /v1/commands/{uuid}`.
pub async fn get(backends: &Backends, command_uuid: &str) -> Result<Reply, AdminError> {
    let info = backends
        .command_client()
        .get_command(GetCommandRequest {
            command_uuid: command_uuid.to_owned(),
        })
        .await
        .map_err(|status| AdminError::backend(SERVICE, &status))?
        .into_inner();
    Ok(Reply::json(StatusCode::OK, &render::command(&info)))
}

/// `DELETE /v1/commands/{uuid}` → how many queue entries were withdrawn.
pub async fn cancel(
    backends: &Backends,
    caller: &Caller,
    command_uuid: &str,
) -> Result<Reply, AdminError> {
    caller.require(Scope::Commands)?;
    let answer = backends
        .command_client()
        .cancel(CancelRequest {
            command_uuid: command_uuid.to_owned(),
            requested_by: caller.name.clone(),
        })
        .await
        .map_err(|status| AdminError::backend(SERVICE, &status))?
        .into_inner();
    tracing::info!(
        caller = %caller.name,
        %command_uuid,
        cancelled = answer.cancelled,
        "command cancelled"
    );
    Ok(Reply::json(
        StatusCode::OK,
        &json!({ "cancelled": answer.cancelled }),
    ))
}

/// 1..=[`MAX_DEVICES`] distinct, non-empty IDs without control characters.
fn check_devices(devices: &[String]) -> Result<(), AdminError> {
    if devices.is_empty() {
        return Err(AdminError::Invalid(
            "devices must name at least one device".into(),
        ));
    }
    if devices.len() > MAX_DEVICES {
        return Err(AdminError::Invalid(format!(
            "devices names {} devices; at most {MAX_DEVICES} per request",
            devices.len()
        )));
    }
    let mut seen = HashSet::with_capacity(devices.len());
    for id in devices {
        if id.trim().is_empty() || id.len() > MAX_DEVICE_ID_LEN || id.chars().any(char::is_control)
        {
            return Err(AdminError::Invalid(format!(
                "device ID {:?} is empty, too long or holds a control character",
                truncate(id)
            )));
        }
        // Refused rather than merged: a repeated ID usually means the list is not what the
        // administrator thinks it is.
        if !seen.insert(id.as_str()) {
            return Err(AdminError::Invalid(format!(
                "device ID {:?} is listed twice",
                truncate(id)
            )));
        }
    }
    Ok(())
}

/// The `Command` dictionary of any of the three accepted forms.
fn command_dictionary(command: &Value) -> Result<plist::Dictionary, AdminError> {
    let invalid = |e: mdm_core::ParseError| AdminError::Invalid(format!("command: {e}"));
    let Some(object) = command.as_object() else {
        return Err(AdminError::InvalidJson(
            "command must be a JSON object".into(),
        ));
    };
    if object.contains_key("plist") {
        let Some(Value::String(xml)) = object.get("plist").filter(|_| object.len() == 1) else {
            return Err(AdminError::InvalidJson(
                "a raw command is {\"plist\": \"<XML of the Command dictionary>\"} alone".into(),
            ));
        };
        parse_command_plist(xml.as_bytes()).map_err(invalid)
    } else if object.contains_key("request_type") {
        let spec: CommandSpec = serde_json::from_value(command.clone())
            .map_err(|e| AdminError::InvalidJson(format!("command: {e}")))?;
        spec.to_command().map_err(invalid)
    } else if object.contains_key("RequestType") {
        command_from_json(command).map_err(invalid)
    } else {
        Err(AdminError::InvalidJson(
            "command needs request_type (typed), RequestType (Apple's keys) or plist (raw XML)"
                .into(),
        ))
    }
}

/// An optional free text: absent is empty; present must hold something and stay short.
fn optional_text(field: &str, value: Option<String>) -> Result<String, AdminError> {
    let Some(value) = value else {
        return Ok(String::new());
    };
    let value = value.trim();
    if value.is_empty() || value.len() > MAX_TEXT_LEN {
        return Err(AdminError::Invalid(format!(
            "{field} must be 1 to {MAX_TEXT_LEN} bytes when given"
        )));
    }
    Ok(value.to_owned())
}

/// Unix ms after which the command is never served; 0 for none. One of `expires_at` (RFC 3339)
/// or `ttl_seconds`; a time already past is refused rather than queued dead.
fn expiry(
    expires_at: Option<&str>,
    ttl_seconds: Option<u64>,
    now_ms: i64,
) -> Result<i64, AdminError> {
    let at_ms = match (expires_at, ttl_seconds) {
        (Some(_), Some(_)) => {
            return Err(AdminError::Invalid(
                "give expires_at or ttl_seconds, not both".into(),
            ))
        }
        (None, None) => return Ok(0),
        (Some(text), None) => {
            let at = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
                AdminError::Invalid(format!(
                    "expires_at {:?} is not an RFC 3339 time",
                    truncate(text)
                ))
            })?;
            i64::try_from(at.unix_timestamp_nanos() / 1_000_000)
                .map_err(|_| AdminError::Invalid("expires_at is out of range".into()))?
        }
        (None, Some(ttl)) => i64::try_from(ttl)
            .ok()
            .and_then(|ttl| ttl.checked_mul(1000))
            .and_then(|ttl_ms| now_ms.checked_add(ttl_ms))
            .ok_or_else(|| AdminError::Invalid("ttl_seconds is out of range".into()))?,
    };
    if at_ms <= now_ms {
        return Err(AdminError::Invalid(
            "the command would expire before it is queued".into(),
        ));
    }
    Ok(at_ms)
}

/// At most 64 characters of client text, for error messages.
fn truncate(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
mod tests;
