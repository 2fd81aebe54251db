//! `/v1/declaration-sets`: sets of declarations, assigned to devices. Every change that alters
//! what devices hold (a set's declarations, its devices, the set itself) sends exactly those
//! enrolled devices the `DeclarativeManagement` command, once per change.

use super::declarations::unsynced;
use super::{segment, AppState, Failures};
use crate::auth::Caller;
use crate::convert;
use crate::cursor;
use crate::ddm_sync;
use crate::error::ApiError;
use crate::extract::{Body, Param, Query};
use axum::extract::State;
use axum::Json;
use mdm_api::declarations::{
    AssignmentRequest, DeclarationSet, DeclarationSetChange, DeclarationSetRequest, Sync,
};
use mdm_api::{Cursor, Page};
use mdm_proto::v1;

const SERVICE: &str = "enroll-svc";

fn set(s: v1::DeclarationSet) -> DeclarationSet {
    DeclarationSet {
        name: s.name,
        declarations: s.declarations,
        devices: s.assigned,
        created_at: convert::time(s.created_at_ms),
        updated_at: convert::time(s.updated_at_ms),
        updated_by: s.updated_by,
    }
}

/// Sends the devices of `change` the sync command; answers the set as it now is with it.
async fn synced(
    state: &AppState,
    caller: &Caller,
    name: &str,
    change: v1::DeclarationChange,
) -> Result<DeclarationSetChange, ApiError> {
    let changed = !change.change_id.is_empty();
    let devices = change.sync_enrollment_ids;
    let sync = ddm_sync::sync(&state.backends, &change.change_id, devices, &caller.name)
        .await
        .map_err(|e| unsynced(e, &resync_path(name)))?;
    let set = change
        .set
        .map(set)
        .ok_or_else(|| ApiError::Internal("enroll-svc answered no set".into()))?;
    Ok(DeclarationSetChange { set, changed, sync })
}

fn resync_path(name: &str) -> String {
    format!("/v1/declaration-sets/{}/sync", segment(name))
}

/// Creates a set or replaces its declarations (each must exist). The enrolled devices it is
/// assigned to are sent `DeclarativeManagement` when its declarations changed.
#[utoipa::path(put, path = "/v1/declaration-sets/{name}", operation_id = "putDeclarationSet", tag = "declarations",
    params(("name" = String, Path, description = "The set's name", min_length = 1, max_length = 128, pattern = r"^[^\x00-\x1F\x7F/]+$")),
    request_body = DeclarationSetRequest,
    responses((status = 200, description = "Stored", body = DeclarationSetChange), Failures),
    security(("bearer" = ["commands"])))]
pub async fn put(
    caller: Caller,
    State(state): State<AppState>,
    Param(name): Param,
    Body(body): Body<DeclarationSetRequest>,
) -> Result<Json<DeclarationSetChange>, ApiError> {
    let change = state
        .backends
        .declarative()
        .put_set(v1::PutSetRequest {
            name: name.clone(),
            declarations: body.declarations,
            by: caller.name.clone(),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    tracing::info!(target: "audit", caller = %caller.name, set = %name,
        changed = !change.change_id.is_empty(), devices = change.sync_enrollment_ids.len(),
        "declaration set stored");
    Ok(Json(synced(&state, &caller, &name, change).await?))
}

/// Every set, by name.
#[utoipa::path(get, path = "/v1/declaration-sets", operation_id = "listDeclarationSets", tag = "declarations",
    params(Cursor),
    responses((status = 200, description = "A page of sets", body = Page<DeclarationSet>), Failures),
    security(("bearer" = ["read"])))]
pub async fn list(
    State(state): State<AppState>,
    Query(page): Query<Cursor>,
) -> Result<Json<Page<DeclarationSet>>, ApiError> {
    let after = cursor::decode("declaration-sets", page.cursor.as_deref())?.unwrap_or_default();
    let answer = state
        .backends
        .declarative()
        .list_sets(v1::ListSetsRequest {
            after,
            limit: cursor::limit(page.limit),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    Ok(cursor::page(
        "declaration-sets",
        answer.sets,
        set,
        &answer.next_after,
    ))
}

/// One set.
#[utoipa::path(get, path = "/v1/declaration-sets/{name}", operation_id = "getDeclarationSet", tag = "declarations",
    params(("name" = String, Path, description = "The set's name", min_length = 1, max_length = 128, pattern = r"^[^\x00-\x1F\x7F/]+$")),
    responses((status = 200, description = "The set", body = DeclarationSet), Failures),
    security(("bearer" = ["read"])))]
pub async fn get(
    State(state): State<AppState>,
    Param(name): Param,
) -> Result<Json<DeclarationSet>, ApiError> {
    let answer = state
        .backends
        .declarative()
        .get_set(v1::GetSetRequest { name })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    Ok(Json(set(answer)))
}

/// Deletes a set and its assignments: the enrolled devices it was assigned to are sent
/// `DeclarativeManagement` and remove its declarations (unless another set holds them).
#[utoipa::path(delete, path = "/v1/declaration-sets/{name}", operation_id = "deleteDeclarationSet", tag = "declarations",
    params(("name" = String, Path, description = "The set's name", min_length = 1, max_length = 128, pattern = r"^[^\x00-\x1F\x7F/]+$")),
    responses((status = 200, description = "Deleted; the devices told to sync", body = Sync), Failures),
    security(("bearer" = ["commands"])))]
pub async fn delete(
    caller: Caller,
    State(state): State<AppState>,
    Param(name): Param,
) -> Result<Json<Sync>, ApiError> {
    let change = state
        .backends
        .declarative()
        .delete_set(v1::DeleteSetRequest {
            name: name.clone(),
            by: caller.name.clone(),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    tracing::info!(target: "audit", caller = %caller.name, set = %name,
        devices = change.sync_enrollment_ids.len(), "declaration set deleted");
    // Nothing is left to resync from: a failure here leaves the devices until their next sync.
    let sync = ddm_sync::sync(
        &state.backends,
        &change.change_id,
        change.sync_enrollment_ids,
        &caller.name,
    )
    .await?;
    Ok(Json(sync))
}

/// Assigns the set to devices and takes it back from others (each must be known to the
/// server). The devices whose assignment changed, if enrolled, are sent `DeclarativeManagement`.
#[utoipa::path(post, path = "/v1/declaration-sets/{name}/devices", operation_id = "assignDeclarationSet", tag = "declarations",
    params(("name" = String, Path, description = "The set's name", min_length = 1, max_length = 128, pattern = r"^[^\x00-\x1F\x7F/]+$")),
    request_body = AssignmentRequest,
    responses((status = 200, description = "Assigned", body = DeclarationSetChange), Failures),
    security(("bearer" = ["commands"])))]
pub async fn assign(
    caller: Caller,
    State(state): State<AppState>,
    Param(name): Param,
    Body(body): Body<AssignmentRequest>,
) -> Result<Json<DeclarationSetChange>, ApiError> {
    let change = state
        .backends
        .declarative()
        .assign_set(v1::AssignSetRequest {
            name: name.clone(),
            assign: body.assign,
            unassign: body.unassign,
            by: caller.name.clone(),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    tracing::info!(target: "audit", caller = %caller.name, set = %name,
        devices = change.sync_enrollment_ids.len(), "declaration set assignments changed");
    Ok(Json(synced(&state, &caller, &name, change).await?))
}

/// The devices the set is assigned to, by ID.
#[utoipa::path(get, path = "/v1/declaration-sets/{name}/devices", operation_id = "listDeclarationSetDevices", tag = "declarations",
    params(("name" = String, Path, description = "The set's name", min_length = 1, max_length = 128, pattern = r"^[^\x00-\x1F\x7F/]+$"), Cursor),
    responses((status = 200, description = "A page of enrollment IDs", body = Page<String>), Failures),
    security(("bearer" = ["read"])))]
pub async fn devices(
    State(state): State<AppState>,
    Param(name): Param,
    Query(page): Query<Cursor>,
) -> Result<Json<Page<String>>, ApiError> {
    let after =
        cursor::decode("declaration-set-devices", page.cursor.as_deref())?.unwrap_or_default();
    let answer = state
        .backends
        .declarative()
        .list_set_assignments(v1::ListSetAssignmentsRequest {
            name,
            after,
            limit: cursor::limit(page.limit),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    Ok(cursor::page(
        "declaration-set-devices",
        answer.enrollment_ids,
        |id| id,
        &answer.next_after,
    ))
}

/// Sends every device the set is assigned to `DeclarativeManagement` again: the remedy when a
/// change was saved but its devices could not be told (the change's answer says so).
#[utoipa::path(post, path = "/v1/declaration-sets/{name}/sync", operation_id = "syncDeclarationSet", tag = "declarations",
    params(("name" = String, Path, description = "The set's name", min_length = 1, max_length = 128, pattern = r"^[^\x00-\x1F\x7F/]+$")),
    responses((status = 200, description = "The devices told to sync", body = Sync), Failures),
    security(("bearer" = ["commands"])))]
pub async fn sync(
    caller: Caller,
    State(state): State<AppState>,
    Param(name): Param,
) -> Result<Json<Sync>, ApiError> {
    let mut devices = Vec::new();
    let mut after = String::new();
    // Bounded: the pages of one set's assignments, at most the fan-out limit in all.
    for _ in 0..=(mdm_api::MAX_DEVICES / mdm_api::page::MAX_LIMIT as usize) {
        let page = state
            .backends
            .declarative()
            .list_set_assignments(v1::ListSetAssignmentsRequest {
                name: name.clone(),
                after: after.clone(),
                limit: mdm_api::page::MAX_LIMIT,
            })
            .await
            .map_err(|s| ApiError::backend(SERVICE, &s))?
            .into_inner();
        devices.extend(page.enrollment_ids);
        if page.next_after.is_empty() {
            break;
        }
        after = page.next_after;
    }
    // A fresh key: an explicit resync is sent even when an earlier one was.
    let key = uuid::Uuid::now_v7().to_string();
    tracing::info!(target: "audit", caller = %caller.name, set = %name, devices = devices.len(),
        "declaration set resynced");
    Ok(Json(
        ddm_sync::sync(&state.backends, &key, devices, &caller.name).await?,
    ))
}
