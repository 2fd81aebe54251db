//! `/migration`: NanoMDM's migration endpoint, so that a fleet enrolled in NanoMDM or MicroMDM
//! (through their migration tools, which read the old server's storage) moves here without
//! re-enrolling. The body is one device's Authenticate or TokenUpdate plist as the old server
//! stored it; the caller authenticates as NanoMDM's tools do, with HTTP Basic (any user name,
//! the token as the password), or with a bearer token. The token needs the `migrate` scope.
//! enroll-svc makes the enrollment and its push target; the device binds its certificate at its
//! first request (docs/migration.md).

use crate::error::ApiError;
use crate::routes::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::put;
use axum::{Json, Router};
use base64::Engine;
use mdm_api::Scope;
use mdm_proto::v1::ImportCheckinRequest;
use serde_json::{json, Value};

/// The route, on admin-svc's listener beside the API.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/migration", put(import).post(import))
        .with_state(state)
}

/// Imports one message; answers the enrollment and the message type.
async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let secret = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| credential(value.as_bytes()))
        .ok_or(ApiError::Unauthorized)?;
    let caller = state.tokens().identify(&secret).await?.caller;
    caller.require(Scope::Migrate)?;
    let answer = state
        .backends
        .enroll()
        .import_checkin(ImportCheckinRequest {
            message: body.to_vec(),
            imported_by: caller.name.clone(),
        })
        .await
        .map_err(|s| ApiError::backend("enroll-svc", &s))?
        .into_inner();
    tracing::info!(target: "audit", caller = %caller.name, enrollment = %answer.enrollment_id,
        message_type = %answer.message_type, "device imported");
    Ok(Json(json!({
        "enrollment_id": answer.enrollment_id,
        "message_type": answer.message_type,
    })))
}

/// The token in `Authorization: Basic base64(user:token)` (NanoMDM's tools) or
/// `Authorization: Bearer token`.
fn credential(header: &[u8]) -> Option<Vec<u8>> {
    if let Some(token) = crate::auth::bearer_token(header) {
        return Some(token.to_vec());
    }
    let header = header.trim_ascii();
    let (scheme, rest) = header.split_at_checked(5)?;
    if !scheme.eq_ignore_ascii_case(b"basic") || !rest.first()?.is_ascii_whitespace() {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim_ascii())
        .ok()?;
    let colon = decoded.iter().position(|b| *b == b':')?;
    let password = decoded[colon + 1..].to_vec();
    (!password.is_empty()).then_some(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_takes_the_password_and_bearer_the_token() {
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("nanomdm:s3cret")
        );
        assert_eq!(
            credential(basic.as_bytes()).as_deref(),
            Some(&b"s3cret"[..])
        );
        assert_eq!(credential(b"Bearer tok").as_deref(), Some(&b"tok"[..]));
        let empty = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("nanomdm:")
        );
        for bad in [empty.as_str(), "Basic !!!", "Digest x", "Bearer ", "Basic"] {
            assert_eq!(credential(bad.as_bytes()), None, "{bad}");
        }
    }
}
