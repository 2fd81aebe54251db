//! `/v1/blueprints`: commands a device gets when it finishes enrolling (its first TokenUpdate),
//! every new device or those of some enrollment tokens, then DeviceConfigured for a device that
//! waits in Setup Assistant. Making one needs the `commands` scope and every scope its commands
//! need; destructive commands are refused (a blueprint runs on devices nobody picked).

use super::commands::{command_dictionary, scopes_needed};
use super::{created, segment, AppState, Failures};
use crate::auth::Caller;
use crate::convert;
use crate::error::ApiError;
use crate::extract::{Body, Param, Query};
use crate::store::{BlueprintRow, RunRow};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use mdm_api::blueprints::{
    Blueprint, BlueprintPatch, BlueprintRequest, BlueprintRun, RunQuery, TokenIdText,
};
use mdm_api::Page;
use mdm_core::commands::{is_destructive, request_type_of};
use mdm_proto::v1;
use mdm_proto::ErrorCode;
use serde_json::Value;

/// Makes a blueprint.
#[utoipa::path(post, path = "/v1/blueprints", operation_id = "createBlueprint", tag = "blueprints",
    request_body = BlueprintRequest,
    responses(
        (status = 201, description = "Made", body = Blueprint,
         headers(("Location" = String, description = "The blueprint"))),
        Failures),
    security(("bearer" = ["commands"])))]
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    Body(body): Body<BlueprintRequest>,
) -> Result<Response, ApiError> {
    for (index, command) in body.commands.iter().enumerate() {
        let dictionary = command_dictionary(command)
            .map_err(|e| ApiError::Invalid(format!("commands[{index}]: {e}")))?;
        let request_type = request_type_of(&dictionary).unwrap_or_default();
        if is_destructive(request_type) {
            return Err(ApiError::Invalid(format!(
                "commands[{index}]: {request_type} is destructive; a blueprint runs on every device it applies to, unattended"
            )));
        }
        for scope in scopes_needed(request_type) {
            caller.require(scope)?;
        }
    }
    let sets = body.declaration_sets.unwrap_or_default();
    if body.commands.is_empty() && sets.is_empty() {
        return Err(ApiError::Invalid(
            "a blueprint needs commands or declaration sets".into(),
        ));
    }
    for name in &sets {
        state
            .backends
            .declarative()
            .get_set(v1::GetSetRequest { name: name.clone() })
            .await
            .map_err(|s| match ApiError::backend("enroll-svc", &s) {
                ApiError::Backend {
                    code: ErrorCode::NotFound,
                    message,
                    ..
                } => ApiError::Invalid(format!("declaration_sets: {message}")),
                other => other,
            })?;
    }
    let tokens: Vec<String> = body
        .enrollment_tokens
        .unwrap_or_default()
        .into_iter()
        .map(|TokenIdText(id)| id)
        .collect();
    let row = BlueprintRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: body.name,
        description: body.description.unwrap_or_default(),
        command_count: i64::try_from(body.commands.len()).unwrap_or(i64::MAX),
        commands: Value::from(
            body.commands
                .into_iter()
                .map(Value::Object)
                .collect::<Vec<_>>(),
        )
        .to_string(),
        applies_to_all: tokens.is_empty(),
        enrollment_token_ids: tokens.join(","),
        device_configured: body.device_configured.unwrap_or(true),
        enabled: body.enabled.unwrap_or(true),
        created_by: caller.name.clone(),
        created_at: service_kit::now_ms(),
        declaration_sets: Value::from(sets).to_string(),
    };
    state.store.create_blueprint(&row).await?;
    tracing::info!(target: "audit", caller = %caller.name, blueprint = %row.id, name = %row.name,
        commands = row.command_count, "blueprint made");
    let location = format!("/v1/blueprints/{}", segment(&row.id));
    Ok(created(location, document(row)))
}

/// Every blueprint, by name.
#[utoipa::path(get, path = "/v1/blueprints", operation_id = "listBlueprints", tag = "blueprints",
    responses((status = 200, description = "The blueprints (one page)", body = Page<Blueprint>), Failures),
    security(("bearer" = ["read"])))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Page<Blueprint>>, ApiError> {
    let items = state
        .store
        .blueprints()
        .await?
        .into_iter()
        .map(document)
        .collect();
    Ok(Json(Page::new(items, None)))
}

/// One blueprint.
#[utoipa::path(get, path = "/v1/blueprints/{id}", operation_id = "getBlueprint", tag = "blueprints",
    params(("id" = String, Path, description = "The blueprint's ID", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F]+$")),
    responses((status = 200, description = "The blueprint", body = Blueprint), Failures),
    security(("bearer" = ["read"])))]
pub async fn get(
    State(state): State<AppState>,
    Param(id): Param,
) -> Result<Json<Blueprint>, ApiError> {
    Ok(Json(document(found(&state, &id).await?)))
}

/// Enables or disables a blueprint for devices enrolling from now on.
#[utoipa::path(patch, path = "/v1/blueprints/{id}", operation_id = "updateBlueprint", tag = "blueprints",
    params(("id" = String, Path, description = "The blueprint's ID", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F]+$")),
    request_body = BlueprintPatch,
    responses((status = 200, description = "The blueprint, changed", body = Blueprint), Failures),
    security(("bearer" = ["commands"])))]
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    Param(id): Param,
    Body(patch): Body<BlueprintPatch>,
) -> Result<Json<Blueprint>, ApiError> {
    if !state
        .store
        .set_blueprint_enabled(&id, patch.enabled, &caller.name, service_kit::now_ms())
        .await?
    {
        return Err(not_found(&id));
    }
    Ok(Json(document(found(&state, &id).await?)))
}

/// Removes a blueprint; its runs in progress stop (commands already queued stay queued).
#[utoipa::path(delete, path = "/v1/blueprints/{id}", operation_id = "deleteBlueprint", tag = "blueprints",
    params(("id" = String, Path, description = "The blueprint's ID", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F]+$")),
    responses((status = 204, description = "Removed"), Failures),
    security(("bearer" = ["commands"])))]
pub async fn delete(
    caller: Caller,
    State(state): State<AppState>,
    Param(id): Param,
) -> Result<Response, ApiError> {
    if !state
        .store
        .delete_blueprint(&id, &caller.name, service_kit::now_ms())
        .await?
    {
        return Err(not_found(&id));
    }
    tracing::info!(target: "audit", caller = %caller.name, blueprint = %id, "blueprint removed");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A blueprint's runs, newest first: which devices got it, and how far each is.
#[utoipa::path(get, path = "/v1/blueprints/{id}/runs", operation_id = "listBlueprintRuns", tag = "blueprints",
    params(("id" = String, Path, description = "The blueprint's ID", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F]+$"),
        RunQuery),
    responses((status = 200, description = "The latest runs", body = Page<BlueprintRun>), Failures),
    security(("bearer" = ["read"])))]
pub async fn runs(
    State(state): State<AppState>,
    Param(id): Param,
    Query(query): Query<RunQuery>,
) -> Result<Json<Page<BlueprintRun>>, ApiError> {
    found(&state, &id).await?;
    let limit = crate::cursor::limit(query.limit);
    let rows = state
        .store
        .runs(Some(&id), query.device.as_deref(), i64::from(limit))
        .await?;
    Ok(Json(Page::new(rows.into_iter().map(run).collect(), None)))
}

async fn found(state: &AppState, id: &str) -> Result<BlueprintRow, ApiError> {
    state
        .store
        .blueprint(id)
        .await?
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no blueprint {id:?}"))
}

fn document(row: BlueprintRow) -> Blueprint {
    let commands = match serde_json::from_str(&row.commands) {
        Ok(Value::Array(commands)) => commands,
        _ => Vec::new(),
    };
    Blueprint {
        id: row.id,
        name: row.name,
        description: row.description,
        commands,
        declaration_sets: serde_json::from_str(&row.declaration_sets).unwrap_or_default(),
        enrollment_tokens: row
            .enrollment_token_ids
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        device_configured: row.device_configured,
        enabled: row.enabled,
        created_by: row.created_by,
        created_at: convert::time(row.created_at),
    }
}

fn run(row: RunRow) -> BlueprintRun {
    BlueprintRun {
        id: row.id,
        blueprint_id: row.blueprint_id,
        device: row.enrollment_id,
        generation: row.generation,
        awaiting_configuration: row.awaiting_configuration,
        status: row.status,
        queued: row.queued,
        answered: row.answered,
        total: row.total,
        error: row.error,
        created_at: convert::time(row.created_at),
        updated_at: convert::time(row.updated_at),
    }
}
