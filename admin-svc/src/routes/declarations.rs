//! `/v1/declarations`: Declarative Device Management declarations, checked against Apple's
//! schema of their type, and what devices report of them; `/v1/devices/{id}/declarations` and
//! `/v1/devices/{id}/status-items`: one device's side. Changing a declaration sends every device
//! holding it the `DeclarativeManagement` command (docs/declarative.md).

use super::{AppState, Failures};
use crate::auth::Caller;
use crate::convert;
use crate::cursor;
use crate::ddm_sync;
use crate::error::ApiError;
use crate::extract::{Body, Param, Query};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use mdm_api::declarations::{
    AssetRequest, Declaration, DeclarationChange, DeclarationRequest, DeclarationState,
    DeclarationStateFilter, ReportedState, StateQuery, StatusChange, StatusHistoryQuery,
    StatusItem, StatusItems,
};
use mdm_api::{Cursor, Page};
use mdm_proto::v1;
use serde_json::Value;

const SERVICE: &str = "enroll-svc";

/// A declaration as the API shows it.
pub fn declaration(d: v1::Declaration) -> Declaration {
    Declaration {
        payload: serde_json::from_str(&d.payload_json).unwrap_or(Value::Null),
        identifier: d.identifier,
        declaration_type: d.r#type,
        server_token: d.server_token,
        sets: d.sets,
        created_at: convert::time(d.created_at_ms),
        updated_at: convert::time(d.updated_at_ms),
        updated_by: d.updated_by,
    }
}

/// A declaration's state on a device as the API shows it.
fn state(s: v1::DeclarationState) -> DeclarationState {
    let reported = s.reported.then(|| ReportedState {
        server_token: s.reported_server_token.clone(),
        active: s.active,
        valid: s.valid.clone(),
        reasons: serde_json::from_str(&s.reasons_json).unwrap_or_default(),
        reported_at: convert::time(s.reported_at_ms),
    });
    DeclarationState {
        applied: s.reported
            && s.reported_server_token == s.server_token
            && s.active
            && s.valid == "valid",
        device: s.enrollment_id,
        identifier: s.identifier,
        declaration_type: s.r#type,
        server_token: s.server_token,
        reported,
    }
}

fn filter(state: Option<DeclarationStateFilter>) -> v1::DeclarationStateFilter {
    match state {
        None => v1::DeclarationStateFilter::All,
        Some(DeclarationStateFilter::Applied) => v1::DeclarationStateFilter::Applied,
        Some(DeclarationStateFilter::Pending) => v1::DeclarationStateFilter::Pending,
        Some(DeclarationStateFilter::Failed) => v1::DeclarationStateFilter::Failed,
    }
}

/// A change that was saved but whose devices could not be told: the caller must know both.
/// It answers 503 whatever command-svc said: retrying the resync is the remedy.
pub fn unsynced(error: ApiError, resync: &str) -> ApiError {
    ApiError::Backend {
        service: "command-svc",
        code: mdm_proto::ErrorCode::Unavailable,
        message: format!(
            "the change was saved, but its devices could not be told to sync ({error}); \
             POST {resync} tells them again"
        ),
    }
}

/// Creates or replaces a declaration. Refused with the key's path when its payload does not
/// match Apple's schema of its type. New content gets a new `ServerToken`, and every enrolled
/// device holding the declaration through a set is sent `DeclarativeManagement` once; the same
/// content again changes nothing.
#[utoipa::path(put, path = "/v1/declarations/{identifier}", operation_id = "putDeclaration", tag = "declarations",
    params(("identifier" = String, Path, description = "The declaration's Identifier", min_length = 1, max_length = 128, pattern = r"^[^\x00-\x1F\x7F/]+$")),
    request_body = DeclarationRequest,
    responses((status = 200, description = "Stored", body = DeclarationChange), Failures),
    security(("bearer" = ["commands"])))]
pub async fn put(
    caller: Caller,
    State(state): State<AppState>,
    Param(identifier): Param,
    Body(body): Body<DeclarationRequest>,
) -> Result<Json<DeclarationChange>, ApiError> {
    if body
        .identifier
        .as_deref()
        .is_some_and(|id| id != identifier)
    {
        return Err(ApiError::Invalid(format!(
            "the body's Identifier is not the path's ({identifier:?})"
        )));
    }
    let json = serde_json::json!({
        "Type": body.declaration_type,
        "Identifier": identifier,
        "Payload": body.payload,
    });
    let answer = state
        .backends
        .declarative()
        .put_declaration(v1::PutDeclarationRequest {
            declaration_json: json.to_string(),
            by: caller.name.clone(),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    sent(&state, &caller, answer).await
}

/// A stored declaration's answer, once its devices were told to sync.
async fn sent(
    state: &AppState,
    caller: &Caller,
    answer: v1::DeclarationChange,
) -> Result<Json<DeclarationChange>, ApiError> {
    let stored = answer
        .declaration
        .ok_or_else(|| ApiError::Internal("enroll-svc answered no declaration".into()))?;
    let changed = !answer.change_id.is_empty();
    tracing::info!(target: "audit", caller = %caller.name, identifier = %stored.identifier,
        server_token = %stored.server_token, changed, devices = answer.sync_enrollment_ids.len(),
        "declaration stored");
    let resync = stored
        .sets
        .first()
        .map(|set| format!("/v1/declaration-sets/{}/sync", super::segment(set)))
        .unwrap_or_default();
    let sync = ddm_sync::sync(
        &state.backends,
        &answer.change_id,
        answer.sync_enrollment_ids,
        &caller.name,
    )
    .await
    .map_err(|e| unsynced(e, &resync))?;
    Ok(Json(DeclarationChange {
        declaration: declaration(stored),
        changed,
        sync,
    }))
}

/// Creates or replaces an asset whose data the server keeps: the data is sealed at rest and
/// served only to devices that hold the asset, authenticated as themselves; the server makes
/// the asset declaration (its `Reference` at the server, with the data's size and SHA-256), so
/// new data is a new `ServerToken` and its holders sync. The data is never shown again.
#[utoipa::path(put, path = "/v1/declarations/{identifier}/asset", operation_id = "putAsset", tag = "declarations",
    params(("identifier" = String, Path, description = "The asset declaration's Identifier", min_length = 1, max_length = 128, pattern = r"^[^\x00-\x1F\x7F/]+$")),
    request_body = AssetRequest,
    responses((status = 200, description = "Stored", body = DeclarationChange), Failures),
    security(("bearer" = ["commands"])))]
pub async fn put_asset(
    caller: Caller,
    State(state): State<AppState>,
    Param(identifier): Param,
    Body(body): Body<AssetRequest>,
) -> Result<Json<DeclarationChange>, ApiError> {
    let data = base64::engine::general_purpose::STANDARD
        .decode(body.data.as_bytes())
        .map_err(|e| ApiError::Invalid(format!("data is not base64: {e}")))?;
    let answer = state
        .backends
        .declarative()
        .put_asset(v1::PutAssetRequest {
            identifier,
            r#type: body.asset_type,
            content_type: body.content_type,
            data,
            by: caller.name.clone(),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    sent(&state, &caller, answer).await
}

/// Every declaration, by identifier.
#[utoipa::path(get, path = "/v1/declarations", operation_id = "listDeclarations", tag = "declarations",
    params(Cursor),
    responses((status = 200, description = "A page of declarations", body = Page<Declaration>), Failures),
    security(("bearer" = ["read"])))]
pub async fn list(
    State(state): State<AppState>,
    Query(page): Query<Cursor>,
) -> Result<Json<Page<Declaration>>, ApiError> {
    let after = cursor::decode("declarations", page.cursor.as_deref())?.unwrap_or_default();
    let answer = state
        .backends
        .declarative()
        .list_declarations(v1::ListDeclarationsRequest {
            after,
            limit: cursor::limit(page.limit),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    Ok(cursor::page(
        "declarations",
        answer.declarations,
        declaration,
        &answer.next_after,
    ))
}

/// One declaration.
#[utoipa::path(get, path = "/v1/declarations/{identifier}", operation_id = "getDeclaration", tag = "declarations",
    params(("identifier" = String, Path, description = "The declaration's Identifier", min_length = 1, max_length = 128, pattern = r"^[^\x00-\x1F\x7F/]+$")),
    responses((status = 200, description = "The declaration", body = Declaration), Failures),
    security(("bearer" = ["read"])))]
pub async fn get(
    State(state): State<AppState>,
    Param(identifier): Param,
) -> Result<Json<Declaration>, ApiError> {
    let answer = state
        .backends
        .declarative()
        .get_declaration(v1::GetDeclarationRequest { identifier })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    Ok(Json(declaration(answer)))
}

/// Deletes a declaration that no set holds (409 names the sets that do).
#[utoipa::path(delete, path = "/v1/declarations/{identifier}", operation_id = "deleteDeclaration", tag = "declarations",
    params(("identifier" = String, Path, description = "The declaration's Identifier", min_length = 1, max_length = 128, pattern = r"^[^\x00-\x1F\x7F/]+$")),
    responses((status = 204, description = "Deleted"), Failures),
    security(("bearer" = ["commands"])))]
pub async fn delete(
    caller: Caller,
    State(state): State<AppState>,
    Param(identifier): Param,
) -> Result<Response, ApiError> {
    state
        .backends
        .declarative()
        .delete_declaration(v1::DeleteDeclarationRequest {
            identifier: identifier.clone(),
            by: caller.name.clone(),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?;
    tracing::info!(target: "audit", caller = %caller.name, %identifier, "declaration deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The devices a declaration is served to, each with what it reported: `?state=applied`
/// (active and valid on the version served now), `pending` (not reported on it yet) or
/// `failed` (reported invalid, with the reasons).
#[utoipa::path(get, path = "/v1/declarations/{identifier}/status", operation_id = "listDeclarationStatus", tag = "declarations",
    params(("identifier" = String, Path, description = "The declaration's Identifier", min_length = 1, max_length = 128, pattern = r"^[^\x00-\x1F\x7F/]+$"), StateQuery),
    responses((status = 200, description = "A page of devices, by ID", body = Page<DeclarationState>), Failures),
    security(("bearer" = ["read"])))]
pub async fn status(
    State(state): State<AppState>,
    Param(identifier): Param,
    Query(query): Query<StateQuery>,
) -> Result<Json<Page<DeclarationState>>, ApiError> {
    states(
        &state,
        "declaration-status",
        identifier,
        String::new(),
        query,
    )
    .await
}

/// The declarations served to a device, each with what it reported.
#[utoipa::path(get, path = "/v1/devices/{id}/declarations", operation_id = "listDeviceDeclarations", tag = "declarations",
    params(("id" = String, Path, description = "Enrollment ID", min_length = 1, max_length = 513, pattern = r"^[^\x00-\x1F\x7F]+$"), StateQuery),
    responses((status = 200, description = "A page of declarations, by identifier", body = Page<DeclarationState>), Failures),
    security(("bearer" = ["read"])))]
pub async fn device_declarations(
    State(state): State<AppState>,
    Param(id): Param,
    Query(query): Query<StateQuery>,
) -> Result<Json<Page<DeclarationState>>, ApiError> {
    states(&state, "device-declarations", String::new(), id, query).await
}

async fn states(
    state: &AppState,
    list: &str,
    identifier: String,
    enrollment_id: String,
    query: StateQuery,
) -> Result<Json<Page<DeclarationState>>, ApiError> {
    let after = cursor::decode(list, query.cursor.as_deref())?.unwrap_or_default();
    let answer = state
        .backends
        .declarative()
        .list_declaration_status(v1::ListDeclarationStatusRequest {
            identifier,
            enrollment_id,
            filter: filter(query.state).into(),
            after,
            limit: cursor::limit(query.limit),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    Ok(cursor::page(
        list,
        answer.states,
        self::state,
        &answer.next_after,
    ))
}

/// The latest value of each status item the device reported (its OS version, its
/// declarations' states are under `/declarations`), and when it last sent a full report.
#[utoipa::path(get, path = "/v1/devices/{id}/status-items", operation_id = "listDeviceStatusItems", tag = "declarations",
    params(("id" = String, Path, description = "Enrollment ID", min_length = 1, max_length = 513, pattern = r"^[^\x00-\x1F\x7F]+$")),
    responses((status = 200, description = "The items, by name", body = StatusItems), Failures),
    security(("bearer" = ["read"])))]
pub async fn status_items(
    State(state): State<AppState>,
    Param(id): Param,
) -> Result<Json<StatusItems>, ApiError> {
    let answer = state
        .backends
        .declarative()
        .list_status_items(v1::ListStatusItemsRequest { enrollment_id: id })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    Ok(Json(StatusItems {
        items: answer
            .items
            .into_iter()
            .map(|i| StatusItem {
                value: serde_json::from_str(&i.value_json).unwrap_or(Value::Null),
                item: i.item,
                reported_at: convert::time(i.reported_at_ms),
            })
            .collect(),
        full_report_at: convert::time(answer.full_report_at_ms),
    }))
}

/// Every change of the device's status items still kept (`declarative.status_history_days`, 30
/// by default), newest first; `?item=` keeps one item's.
#[utoipa::path(get, path = "/v1/devices/{id}/status-items/history", operation_id = "listDeviceStatusHistory", tag = "declarations",
    params(("id" = String, Path, description = "Enrollment ID", min_length = 1, max_length = 513, pattern = r"^[^\x00-\x1F\x7F]+$"), StatusHistoryQuery),
    responses((status = 200, description = "A page of changes, newest first", body = Page<StatusChange>), Failures),
    security(("bearer" = ["read"])))]
pub async fn status_history(
    State(state): State<AppState>,
    Param(id): Param,
    Query(query): Query<StatusHistoryQuery>,
) -> Result<Json<Page<StatusChange>>, ApiError> {
    let before_id = match cursor::decode("status-history", query.cursor.as_deref())? {
        Some(key) => key.parse().map_err(|_| {
            ApiError::Invalid("the cursor is not one of this list (status-history)".into())
        })?,
        None => 0,
    };
    let answer = state
        .backends
        .declarative()
        .list_status_history(v1::ListStatusHistoryRequest {
            enrollment_id: id,
            item: query.item.unwrap_or_default(),
            before_id,
            limit: cursor::limit(query.limit),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    let next = if answer.next_before_id > 0 {
        answer.next_before_id.to_string()
    } else {
        String::new()
    };
    Ok(cursor::page(
        "status-history",
        answer.changes,
        |c| StatusChange {
            value: serde_json::from_str(&c.value_json).unwrap_or(Value::Null),
            item: c.item,
            reported_at: convert::time(c.reported_at_ms),
        },
        &next,
    ))
}
