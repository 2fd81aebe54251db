//! `/v1/identity-renewals`: what became of each device identity announced as near expiry
//! (docs/identities.md) — queued, installed, renewed, or failed and why.

use super::{AppState, Failures};
use crate::convert;
use crate::error::ApiError;
use crate::extract::Query;
use crate::store::RenewalRow;
use axum::extract::State;
use axum::Json;
use mdm_api::identities::{IdentityRenewal, RenewalQuery};
use mdm_api::Page;

/// Identity renewals, newest first.
#[utoipa::path(get, path = "/v1/identity-renewals", operation_id = "listIdentityRenewals", tag = "devices",
    params(RenewalQuery),
    responses((status = 200, description = "The latest renewals", body = Page<IdentityRenewal>), Failures),
    security(("bearer" = ["read"])))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<RenewalQuery>,
) -> Result<Json<Page<IdentityRenewal>>, ApiError> {
    let limit = crate::cursor::limit(query.limit);
    let rows = state
        .store
        .renewals(
            query.device.as_deref(),
            query.status.map(|s| s.as_str()),
            i64::from(limit),
        )
        .await?;
    Ok(Json(Page::new(
        rows.into_iter().map(renewal).collect(),
        None,
    )))
}

fn renewal(row: RenewalRow) -> IdentityRenewal {
    IdentityRenewal {
        serial: row.serial,
        device: row.enrollment_id,
        not_after: convert::time(row.not_after),
        status: row.status,
        command_uuid: row.command_uuid,
        renewed_serial: row.renewed_serial,
        error: row.error,
        created_at: convert::time(row.created_at),
        updated_at: convert::time(row.updated_at),
    }
}
