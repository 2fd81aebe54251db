//! `/v1/events`: the events admin-svc received from the services, oldest first, kept for the
//! configured retention: what webhooks were sent, for an integrator that polls instead, or that
//! checks what it missed.

use super::{AppState, Failures};
use crate::cursor;
use crate::error::ApiError;
use crate::events::body;
use crate::extract::{Param, Query};
use crate::store::{EventFilter, EventRow};
use axum::extract::State;
use axum::Json;
use mdm_api::webhooks::{Event, EventQuery};
use mdm_api::Page;

/// Events, oldest first.
#[utoipa::path(get, path = "/v1/events", operation_id = "listEvents", tag = "webhooks",
    params(EventQuery),
    responses((status = 200, description = "A page of events", body = Page<Event>), Failures),
    security(("bearer" = ["read"])))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<EventQuery>,
) -> Result<Json<Page<Event>>, ApiError> {
    let limit = cursor::limit(query.limit);
    let after = match cursor::decode("events", query.cursor.as_deref())? {
        None => 0,
        Some(key) => key
            .parse::<i64>()
            .map_err(|_| ApiError::Invalid("the cursor is not one of this list (events)".into()))?,
    };
    let filter = EventFilter {
        enrollment_id: query.device.as_deref(),
        kind: query.kind.as_deref(),
        after,
    };
    let rows = state.store.events(&filter, i64::from(limit)).await?;
    let next = match rows.last() {
        Some(last) if rows.len() == limit as usize => last.seq.to_string(),
        _ => String::new(),
    };
    Ok(cursor::page("events", rows, document, &next))
}

/// One event, by its ID.
#[utoipa::path(get, path = "/v1/events/{id}", operation_id = "getEvent", tag = "webhooks",
    params(("id" = String, Path, description = "The event's ID", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F]+$")),
    responses((status = 200, description = "The event", body = Event), Failures),
    security(("bearer" = ["read"])))]
pub async fn get(State(state): State<AppState>, Param(id): Param) -> Result<Json<Event>, ApiError> {
    let row = state
        .store
        .event(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no event {id:?}")))?;
    Ok(Json(document(row)))
}

/// The event as a webhook of format `mdm` receives it.
fn document(row: EventRow) -> Event {
    let data = body::data(&row);
    Event {
        id: row.id,
        kind: row.kind,
        occurred_at: crate::convert::time(row.occurred_at),
        source: row.source,
        enrollment_id: row.enrollment_id,
        data,
    }
}
