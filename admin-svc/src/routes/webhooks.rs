//! `/v1/webhooks`: endpoints the services' events are posted to (`webhooks` scope), their
//! deliveries, dead letters and replay. A webhook receives every event its patterns name,
//! command results included, so registering one is its own scope. Its secret is sealed with
//! admin-svc's `secret_key` and shown once, when made or replaced.

use super::{created, segment, AppState, Failures};
use crate::auth::Caller;
use crate::convert;
use crate::cursor;
use crate::error::ApiError;
use crate::events::{filter, secret_context};
use crate::extract::{Body, Param, Query};
use crate::store::{DeliveryRow, WebhookRow};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use mdm_api::webhooks::{
    CreatedWebhook, DeliveryQuery, DeliveryState, EventPattern, ReplayRequest, Replayed, Webhook,
    WebhookDelivery, WebhookFormat, WebhookPatch, WebhookRequest,
};
use mdm_api::Page;

/// Registers a webhook; its secret (given, or made) is in this answer only.
#[utoipa::path(post, path = "/v1/webhooks", operation_id = "createWebhook", tag = "webhooks",
    request_body = WebhookRequest,
    responses(
        (status = 201, description = "Registered", body = CreatedWebhook,
         headers(("Location" = String, description = "The webhook"))),
        Failures),
    security(("bearer" = ["webhooks"])))]
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    Body(body): Body<WebhookRequest>,
) -> Result<Response, ApiError> {
    let secrets = sealing(&state)?;
    let url = checked_url(&body.url)?;
    let events = patterns(body.events)?;
    let secret = body.secret.unwrap_or_else(new_secret);
    let id = uuid::Uuid::now_v7().to_string();
    let now = service_kit::now_ms();
    let row = WebhookRow {
        sealed_secret: secrets.seal(secret.as_bytes(), &secret_context(&id)),
        id,
        url,
        description: body.description.unwrap_or_default(),
        event_types: events.join(","),
        format: body
            .format
            .unwrap_or(WebhookFormat::Mdm)
            .as_str()
            .to_owned(),
        enabled: body.enabled.unwrap_or(true),
        created_by: caller.name.clone(),
        created_at: now,
        consecutive_failures: 0,
        retry_at: 0,
        last_success_at: None,
        last_failure_at: None,
        last_error: None,
    };
    state.store.create_webhook(&row).await?;
    tracing::info!(target: "audit", caller = %caller.name, webhook = %row.id, url = %row.url,
        events = %row.event_types, "webhook registered");
    let location = format!("/v1/webhooks/{}", segment(&row.id));
    let webhook = document(&state, row).await?;
    Ok(created(location, CreatedWebhook { webhook, secret }))
}

/// Every webhook.
#[utoipa::path(get, path = "/v1/webhooks", operation_id = "listWebhooks", tag = "webhooks",
    responses((status = 200, description = "The webhooks (one page)", body = Page<Webhook>), Failures),
    security(("bearer" = ["webhooks"])))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Page<Webhook>>, ApiError> {
    let mut items = Vec::new();
    for row in state.store.webhooks().await? {
        items.push(document(&state, row).await?);
    }
    Ok(Json(Page::new(items, None)))
}

/// One webhook, with how far behind it is.
#[utoipa::path(get, path = "/v1/webhooks/{id}", operation_id = "getWebhook", tag = "webhooks",
    params(("id" = String, Path, description = "The webhook's ID", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F]+$")),
    responses((status = 200, description = "The webhook", body = Webhook), Failures),
    security(("bearer" = ["webhooks"])))]
pub async fn get(
    State(state): State<AppState>,
    Param(id): Param,
) -> Result<Json<Webhook>, ApiError> {
    let row = found(&state, &id).await?;
    Ok(Json(document(&state, row).await?))
}

/// Changes a webhook: its URL, events, format, description, or pauses and resumes it.
#[utoipa::path(patch, path = "/v1/webhooks/{id}", operation_id = "updateWebhook", tag = "webhooks",
    params(("id" = String, Path, description = "The webhook's ID", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F]+$")),
    request_body = WebhookPatch,
    responses((status = 200, description = "The webhook, changed", body = Webhook), Failures),
    security(("bearer" = ["webhooks"])))]
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    Param(id): Param,
    Body(patch): Body<WebhookPatch>,
) -> Result<Json<Webhook>, ApiError> {
    let mut row = found(&state, &id).await?;
    if let Some(url) = &patch.url {
        row.url = checked_url(url)?;
    }
    if patch.events.is_some() {
        row.event_types = patterns(patch.events)?.join(",");
    }
    if let Some(format) = patch.format {
        row.format = format.as_str().to_owned();
    }
    if let Some(description) = patch.description {
        row.description = description;
    }
    if let Some(enabled) = patch.enabled {
        row.enabled = enabled;
    }
    save(&state, &row, &caller).await?;
    Ok(Json(document(&state, row).await?))
}

/// Replaces a webhook's secret; the new one is in this answer only, and signs every delivery
/// from now on.
#[utoipa::path(post, path = "/v1/webhooks/{id}/secret", operation_id = "rotateWebhookSecret", tag = "webhooks",
    params(("id" = String, Path, description = "The webhook's ID", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F]+$")),
    responses((status = 200, description = "The webhook and its new secret", body = CreatedWebhook), Failures),
    security(("bearer" = ["webhooks"])))]
pub async fn rotate_secret(
    caller: Caller,
    State(state): State<AppState>,
    Param(id): Param,
) -> Result<Json<CreatedWebhook>, ApiError> {
    let secrets = sealing(&state)?;
    let mut row = found(&state, &id).await?;
    let secret = new_secret();
    row.sealed_secret = secrets.seal(secret.as_bytes(), &secret_context(&row.id));
    save(&state, &row, &caller).await?;
    let webhook = document(&state, row).await?;
    Ok(Json(CreatedWebhook { webhook, secret }))
}

/// Removes a webhook and its deliveries.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", operation_id = "deleteWebhook", tag = "webhooks",
    params(("id" = String, Path, description = "The webhook's ID", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F]+$")),
    responses((status = 204, description = "Removed"), Failures),
    security(("bearer" = ["webhooks"])))]
pub async fn delete(
    caller: Caller,
    State(state): State<AppState>,
    Param(id): Param,
) -> Result<Response, ApiError> {
    if !state
        .store
        .delete_webhook(&id, &caller.name, service_kit::now_ms())
        .await?
    {
        return Err(not_found(&id));
    }
    tracing::info!(target: "audit", caller = %caller.name, webhook = %id, "webhook removed");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A webhook's deliveries, newest first: what is waiting, what got through, what was given up
/// on (dead letters).
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", operation_id = "listWebhookDeliveries", tag = "webhooks",
    params(("id" = String, Path, description = "The webhook's ID", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F]+$"),
        DeliveryQuery),
    responses((status = 200, description = "A page of deliveries", body = Page<WebhookDelivery>), Failures),
    security(("bearer" = ["webhooks"])))]
pub async fn deliveries(
    State(state): State<AppState>,
    Param(id): Param,
    Query(query): Query<DeliveryQuery>,
) -> Result<Json<Page<WebhookDelivery>>, ApiError> {
    found(&state, &id).await?;
    let limit = cursor::limit(query.limit);
    let before = match cursor::decode("webhook-deliveries", query.cursor.as_deref())? {
        None => None,
        Some(key) => Some(
            key.parse::<i64>()
                .map_err(|_| ApiError::Invalid("the cursor is not one of this list".into()))?,
        ),
    };
    let rows = state
        .store
        .deliveries(
            &id,
            query.status.map(DeliveryState::as_str),
            before,
            i64::from(limit),
        )
        .await?;
    let next = match rows.last() {
        Some(last) if rows.len() == limit as usize => last.id.to_string(),
        _ => String::new(),
    };
    Ok(cursor::page("webhook-deliveries", rows, delivery, &next))
}

/// Sends dead deliveries again (all of a webhook's, or those named), from the first attempt.
#[utoipa::path(post, path = "/v1/webhooks/{id}/replay", operation_id = "replayWebhookDeliveries", tag = "webhooks",
    params(("id" = String, Path, description = "The webhook's ID", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F]+$")),
    request_body = ReplayRequest,
    responses((status = 200, description = "How many were put back in line", body = Replayed), Failures),
    security(("bearer" = ["webhooks"])))]
pub async fn replay(
    caller: Caller,
    State(state): State<AppState>,
    Param(id): Param,
    Body(body): Body<ReplayRequest>,
) -> Result<Json<Replayed>, ApiError> {
    found(&state, &id).await?;
    let replayed = state
        .store
        .replay(
            &id,
            body.deliveries.as_deref(),
            &caller.name,
            service_kit::now_ms(),
        )
        .await?;
    tracing::info!(target: "audit", caller = %caller.name, webhook = %id, replayed, "dead deliveries replayed");
    Ok(Json(Replayed { replayed }))
}

/// The sealing key, or why webhooks cannot be registered.
fn sealing(state: &AppState) -> Result<&service_kit::secrets::SecretBox, ApiError> {
    state.secrets.as_ref().ok_or_else(|| {
        ApiError::Conflict(
            "admin-svc has no secret_key to seal webhook secrets with: set MDM_ADMIN_SECRET_KEY"
                .into(),
        )
    })
}

async fn found(state: &AppState, id: &str) -> Result<WebhookRow, ApiError> {
    state.store.webhook(id).await?.ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no webhook {id:?}"))
}

async fn save(state: &AppState, row: &WebhookRow, caller: &Caller) -> Result<(), ApiError> {
    if !state
        .store
        .update_webhook(row, &caller.name, service_kit::now_ms())
        .await?
    {
        return Err(not_found(&row.id));
    }
    tracing::info!(target: "audit", caller = %caller.name, webhook = %row.id, "webhook changed");
    Ok(())
}

/// The URL as registered: http(s) with a host, no credentials in it (they would be logged
/// and shown), no fragment.
fn checked_url(text: &str) -> Result<String, ApiError> {
    let invalid = |why: &str| ApiError::Invalid(format!("url: {why}"));
    let url: http::Uri = text.parse().map_err(|_| invalid("not a URL"))?;
    if !matches!(url.scheme_str(), Some("http" | "https")) {
        return Err(invalid("only http and https are delivered to"));
    }
    let Some(authority) = url.authority() else {
        return Err(invalid("no host"));
    };
    if authority.as_str().contains('@') {
        return Err(invalid(
            "credentials in the URL would be shown and logged; the receiver verifies Mdm-Signature",
        ));
    }
    if authority.host().is_empty() {
        return Err(invalid("no host"));
    }
    Ok(text.to_owned())
}

/// The patterns of a request, checked; every event when absent.
fn patterns(events: Option<Vec<EventPattern>>) -> Result<Vec<String>, ApiError> {
    let Some(events) = events else {
        return Ok(vec!["*".into()]);
    };
    let mut patterns: Vec<String> = Vec::with_capacity(events.len());
    for EventPattern(pattern) in events {
        if !filter::is_valid_pattern(&pattern) {
            return Err(ApiError::Invalid(format!(
                "events: {pattern:?} is not `*`, `<family>.*` or an event type"
            )));
        }
        if !patterns.contains(&pattern) {
            patterns.push(pattern);
        }
    }
    Ok(patterns)
}

/// 32 random bytes, base64url: a secret nobody chose.
fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

async fn document(state: &AppState, row: WebhookRow) -> Result<Webhook, ApiError> {
    let counts = state.store.delivery_counts(&row.id).await?;
    Ok(Webhook {
        format: WebhookFormat::from_name(&row.format).unwrap_or(WebhookFormat::Mdm),
        events: row.event_types.split(',').map(str::to_owned).collect(),
        created_at: convert::time(row.created_at),
        pending: counts.pending,
        dead: counts.dead,
        oldest_pending_at: counts.oldest_pending_at.and_then(convert::time),
        retry_at: (row.retry_at > service_kit::now_ms())
            .then(|| convert::time(row.retry_at))
            .flatten(),
        last_success_at: row.last_success_at.and_then(convert::time),
        last_failure_at: row.last_failure_at.and_then(convert::time),
        id: row.id,
        url: row.url,
        description: row.description,
        enabled: row.enabled,
        created_by: row.created_by,
        consecutive_failures: row.consecutive_failures,
        last_error: row.last_error,
    })
}

fn delivery(row: DeliveryRow) -> WebhookDelivery {
    let status = DeliveryState::from_name(&row.status).unwrap_or(DeliveryState::Pending);
    WebhookDelivery {
        id: row.id,
        event_id: row.event_id,
        event_type: row.event_type,
        device: row.enrollment_id,
        next_attempt_at: (status == DeliveryState::Pending)
            .then(|| convert::time(row.next_attempt_at))
            .flatten(),
        status,
        attempts: row.attempts,
        last_attempt_at: row.last_attempt_at.and_then(convert::time),
        response_status: row.response_status,
        last_error: row.last_error,
        completed_at: row.completed_at.and_then(convert::time),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_urls_with_a_host_are_registered() {
        assert!(checked_url("https://hooks.example.com/mdm").is_ok());
        assert!(checked_url("http://127.0.0.1:8080/x?y=1").is_ok());
        for bad in [
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "https:///path",
            "not a url",
            "file:///etc/passwd",
        ] {
            assert!(checked_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn patterns_default_to_everything_and_are_checked() {
        assert_eq!(patterns(None).expect("ok"), ["*"]);
        let twice = Some(vec![
            EventPattern("command.*".into()),
            EventPattern("command.*".into()),
        ]);
        assert_eq!(patterns(twice).expect("ok"), ["command.*"]);
        assert!(patterns(Some(vec![EventPattern("nope".into())])).is_err());
    }
}
