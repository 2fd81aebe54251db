//! `/v1/commands`: queue a command for devices, list commands, read one with its delivery
//! counts and deliveries, cancel it.
//!
//! Queueing is where the API guards devices: the body is validated and the scopes checked here,
//! before command-svc sees anything. Destructive commands need the `destructive` scope and a
//! reason; ClearPasscode also needs `clear-passcode` and goes to exactly one device, because it
//! removes the passcode and Data Protection and must never reach a lost device by accident
//! (Apple: decide how it "can be issued and accounted for").

use super::{created, segment, AppState, Failures};
use crate::auth::Caller;
use crate::convert;
use crate::cursor;
use crate::error::ApiError;
use crate::extract::{Body, Param, Query};
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use mdm_api::commands::{Command, CommandQuery, DeliveryQuery, EnqueueRequest, Enqueued, Expiry};
use mdm_api::devices::Delivery;
use mdm_api::{Page, Scope};
use mdm_core::commands::{api_command, is_destructive, request_type_of};
use mdm_proto::v1::{
    self, CancelRequest, GetCommandRequest, ListCommandsRequest, ListDeliveriesRequest,
};
use serde_json::{Map, Value};

const SERVICE: &str = "command-svc";

/// The scopes a request type needs besides `commands`: `destructive` for the destructive ones
/// (with a reason), and `clear-passcode` too for ClearPasscode. The OpenAPI document names them
/// per request type (`x-request-type-scopes`) from here, for clients that build forms.
pub fn scopes_needed(request_type: &str) -> Vec<Scope> {
    let mut scopes = Vec::new();
    if is_destructive(request_type) {
        scopes.push(Scope::Destructive);
    }
    if request_type == "ClearPasscode" {
        scopes.push(Scope::ClearPasscode);
    }
    scopes
}

/// Queues a command for devices; wakes them unless `push` is false.
#[utoipa::path(post, path = "/v1/commands", operation_id = "enqueueCommand", tag = "commands",
    request_body = EnqueueRequest,
    responses(
        (status = 201, description = "Queued (or, for a repeated idempotency key, the earlier command)",
         body = Enqueued, headers(("Location" = String, description = "The command"))),
        Failures),
    security(("bearer" = ["commands"])))]
pub async fn enqueue(
    caller: Caller,
    State(state): State<AppState>,
    Body(body): Body<EnqueueRequest>,
) -> Result<Response, ApiError> {
    let command = command_dictionary(&body.command)?;
    let request_type = request_type_of(&command)
        .ok_or_else(|| ApiError::Invalid("the command has no RequestType".into()))?
        .to_owned();
    let destructive = is_destructive(&request_type);
    for scope in scopes_needed(&request_type) {
        caller.require(scope)?;
    }
    if request_type == "ClearPasscode" && body.devices.len() != 1 {
        return Err(ApiError::Invalid(
            "ClearPasscode goes to exactly one device, after its owner is verified to hold it"
                .into(),
        ));
    }
    let reason = optional_text(body.reason);
    if destructive && reason.is_empty() {
        return Err(ApiError::Invalid(format!(
            "{request_type} needs a reason: it is recorded with the command"
        )));
    }
    let idempotency_key = optional_text(body.idempotency_key);
    let expires_at_ms = expiry(body.expiry.as_ref(), service_kit::now_ms())?;
    let mut command_plist = Vec::new();
    plist::Value::Dictionary(command)
        .to_writer_xml(&mut command_plist)
        // Only a UID (possible in a binary plist, meaningless in a command) fails to write.
        .map_err(|e| ApiError::Invalid(format!("the command cannot be written as XML: {e}")))?;
    let answer = state
        .backends
        .commands()
        .enqueue(v1::EnqueueRequest {
            enrollment_ids: body.devices,
            command_plist,
            priority: body.priority,
            expires_at_ms,
            idempotency_key,
            requested_by: caller.name.clone(),
            reason: reason.clone(),
            no_push: body.push == Some(false),
            allow_unknown: body.allow_unknown == Some(true),
            allow_unsupported: body.allow_unsupported == Some(true),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    // The audit line: who queued what, for how many, and why.
    tracing::info!(target: "audit", caller = %caller.name, command_uuid = %answer.command_uuid,
        request_type = %answer.request_type, targets = answer.targets, duplicate = answer.duplicate,
        %reason, "command queued");
    let location = format!("/v1/commands/{}", segment(&answer.command_uuid));
    Ok(created(
        location,
        Enqueued {
            push: convert::push_summary(answer.push),
            command_uuid: answer.command_uuid,
            request_type: answer.request_type,
            targets: answer.targets,
            duplicate: answer.duplicate,
            warnings: answer.warnings,
        },
    ))
}

/// Commands, newest first.
#[utoipa::path(get, path = "/v1/commands", operation_id = "listCommands", tag = "commands",
    params(CommandQuery),
    responses((status = 200, description = "A page of commands (without delivery counts)", body = Page<Command>), Failures),
    security(("bearer" = ["read"])))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<CommandQuery>,
) -> Result<Json<Page<Command>>, ApiError> {
    let before = cursor::decode("commands", query.cursor.as_deref())?.unwrap_or_default();
    let answer = state
        .backends
        .commands()
        .list_commands(ListCommandsRequest {
            request_type: query.request_type.unwrap_or_default(),
            requested_by: query.requested_by.unwrap_or_default(),
            before,
            limit: cursor::limit(query.limit),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    Ok(cursor::page(
        "commands",
        answer.commands,
        convert::command,
        &answer.next_before,
    ))
}

/// A command with the count of its deliveries per status.
#[utoipa::path(get, path = "/v1/commands/{uuid}", operation_id = "getCommand", tag = "commands",
    params(("uuid" = String, Path, description = "CommandUUID", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F]+$")),
    responses((status = 200, description = "The command", body = Command), Failures),
    security(("bearer" = ["read"])))]
pub async fn get(
    State(state): State<AppState>,
    Param(uuid): Param,
) -> Result<Json<Command>, ApiError> {
    Ok(Json(read(&state, uuid).await?))
}

async fn read(state: &AppState, command_uuid: String) -> Result<Command, ApiError> {
    let info = state
        .backends
        .commands()
        .get_command(GetCommandRequest { command_uuid })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    Ok(convert::command(info))
}

/// A command's deliveries, in enrollment-ID order, of one status if asked.
#[utoipa::path(get, path = "/v1/commands/{uuid}/deliveries", operation_id = "listCommandDeliveries", tag = "commands",
    params(("uuid" = String, Path, description = "CommandUUID", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F]+$"), DeliveryQuery),
    responses((status = 200, description = "A page of deliveries", body = Page<Delivery>), Failures),
    security(("bearer" = ["read"])))]
pub async fn deliveries(
    State(state): State<AppState>,
    Param(uuid): Param,
    Query(query): Query<DeliveryQuery>,
) -> Result<Json<Page<Delivery>>, ApiError> {
    let after = cursor::decode("deliveries", query.cursor.as_deref())?.unwrap_or_default();
    let answer = state
        .backends
        .commands()
        .list_deliveries(ListDeliveriesRequest {
            command_uuid: uuid,
            status: query
                .status
                .map_or(0, |s| convert::delivery_status_filter(s).into()),
            after,
            limit: cursor::limit(query.limit),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    Ok(cursor::page(
        "deliveries",
        answer.deliveries,
        convert::delivery,
        &answer.next_after,
    ))
}

/// Withdraws a command from every queue it still waits in. It stays readable, marked cancelled
/// (the first cancellation's time and author are kept).
#[utoipa::path(post, path = "/v1/commands/{uuid}/cancel", operation_id = "cancelCommand", tag = "commands",
    params(("uuid" = String, Path, description = "CommandUUID", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F]+$")),
    responses((status = 200, description = "The command, cancelled", body = Command), Failures),
    security(("bearer" = ["commands"])))]
pub async fn cancel(
    caller: Caller,
    State(state): State<AppState>,
    Param(uuid): Param,
) -> Result<Json<Command>, ApiError> {
    let answer = state
        .backends
        .commands()
        .cancel(CancelRequest {
            command_uuid: uuid.clone(),
            requested_by: caller.name.clone(),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    tracing::info!(target: "audit", caller = %caller.name, command_uuid = %uuid,
        cancelled = answer.cancelled, "command cancelled");
    Ok(Json(read(&state, uuid).await?))
}

/// The `Command` dictionary of any of the three accepted forms, checked against Apple's schema
/// of its request type (`mdm_core::catalogue`): a misspelled key or a wrong type is refused here,
/// naming the key, rather than by the device hours later.
pub fn command_dictionary(command: &Map<String, Value>) -> Result<plist::Dictionary, ApiError> {
    api_command(command).map_err(|e| ApiError::Invalid(format!("command: {e}")))
}

/// An optional free text, trimmed; absent is empty. (Its length and characters are the
/// document's to check, before the handler runs.)
fn optional_text(value: Option<String>) -> String {
    value.map(|v| v.trim().to_owned()).unwrap_or_default()
}

/// Unix ms after which the command is never served; 0 for none. A time already past is
/// refused rather than queued dead.
pub fn expiry(expiry: Option<&Expiry>, now_ms: i64) -> Result<i64, ApiError> {
    let at_ms = match expiry {
        None => return Ok(0),
        Some(Expiry::At(at)) => convert::parse_time(&at.expires_at)
            .ok_or_else(|| ApiError::Invalid("expiry.expires_at is not an RFC 3339 time".into()))?,
        Some(Expiry::After(after)) => {
            if after.ttl_seconds == 0 || after.ttl_seconds > 31_536_000 {
                return Err(ApiError::Invalid(
                    "expiry.ttl_seconds must be 1 to 31536000".into(),
                ));
            }
            now_ms.saturating_add(i64::from(after.ttl_seconds) * 1000)
        }
    };
    if at_ms <= now_ms {
        return Err(ApiError::Invalid(
            "the expiry time has already passed".into(),
        ));
    }
    Ok(at_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdm_api::commands::{ExpiresAfter, ExpiresAt};

    #[test]
    fn a_command_comes_in_three_forms_and_nothing_else() {
        let object = |v: Value| v.as_object().expect("object").clone();
        assert!(
            command_dictionary(&object(serde_json::json!({"request_type": "ProfileList"}))).is_ok()
        );
        assert!(
            command_dictionary(&object(serde_json::json!({"RequestType": "ProfileList"}))).is_ok()
        );
        let xml = "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>RequestType</key><string>ProfileList</string></dict></plist>";
        assert!(command_dictionary(&object(serde_json::json!({"plist": xml}))).is_ok());
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"plist": xml, "extra": 1}),
            serde_json::json!({"request_type": "NoSuchThing"}),
        ] {
            assert!(command_dictionary(&object(bad.clone())).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_expiry_is_in_the_future() {
        let after = |s| Expiry::After(ExpiresAfter { ttl_seconds: s });
        assert_eq!(expiry(Some(&after(60)), 1_000).expect("ttl"), 61_000);
        assert!(expiry(Some(&after(0)), 1_000).is_err());
        let at = |t: &str| {
            Expiry::At(ExpiresAt {
                expires_at: t.into(),
            })
        };
        assert!(expiry(Some(&at("2001-01-01T00:00:00Z")), 1_700_000_000_000).is_err());
        assert!(expiry(Some(&at("soon")), 0).is_err());
        assert_eq!(expiry(None, 5).expect("none"), 0);
    }
}
