//! `/v1/admin-tokens`: the API's own credentials (`admin` scope). A token is shown once, when
//! made; only its SHA-256 is kept. The tokens of the configuration (the bootstrap tokens) are
//! listed first, with `config:` IDs, and are removed by editing the configuration, not here.
//!
//! A caller grants only scopes it holds itself: the `admin` scope manages tokens, it does not
//! make its holder able to erase devices.

use super::{created, segment, AppState, Failures};
use crate::auth::Caller;
use crate::convert;
use crate::cursor;
use crate::error::ApiError;
use crate::extract::{Body, Param, Query};
use crate::store::TokenRow;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use base64::Engine;
use mdm_api::admin_tokens::{AdminToken, AdminTokenRequest, CreatedAdminToken};
use mdm_api::{Cursor, Page, Scope};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// How long a token lives when the request does not say: 90 days.
const DEFAULT_TTL_MS: i64 = 90 * 24 * 3600 * 1000;

/// The ID prefix of the configuration's tokens.
const CONFIGURED: &str = "config:";

/// The prefix of every secret, so that secret scanners and people recognise one.
const SECRET_PREFIX: &str = "mdm_";

/// Makes an admin token with some of the caller's scopes; its secret is in this answer only.
#[utoipa::path(post, path = "/v1/admin-tokens", operation_id = "createAdminToken", tag = "admin",
    request_body = AdminTokenRequest,
    responses(
        (status = 201, description = "Made", body = CreatedAdminToken,
         headers(("Location" = String, description = "The token"))),
        Failures),
    security(("bearer" = ["admin"])))]
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    Body(body): Body<AdminTokenRequest>,
) -> Result<Response, ApiError> {
    let now = service_kit::now_ms();
    let scopes = check_request(&caller, &body, state.tokens().configured_names())?;
    let expires_at = match body.expiry {
        None => now + DEFAULT_TTL_MS,
        Some(expiry) => super::commands::expiry(Some(&expiry), now)?,
    };
    let secret = new_secret();
    let row = TokenRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: body.name,
        sha256: Sha256::digest(secret.as_bytes()).to_vec(),
        scopes: scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(","),
        created_by: caller.name.clone(),
        created_at: now,
        expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    state.store.create_token(&row).await?;
    tracing::info!(target: "audit", caller = %caller.name, token = %row.id, name = %row.name,
        scopes = %row.scopes, "admin token made");
    let location = format!("/v1/admin-tokens/{}", segment(&row.id));
    Ok(created(
        location,
        CreatedAdminToken {
            token: stored(row),
            secret,
        },
    ))
}

/// The scopes of a request (its name and the scopes' count and uniqueness are the document's to
/// check); refuses a name of the configuration and scopes the caller does not hold.
fn check_request<'a>(
    caller: &Caller,
    body: &AdminTokenRequest,
    mut configured: impl Iterator<Item = &'a str>,
) -> Result<BTreeSet<Scope>, ApiError> {
    if configured.any(|n| n == body.name) {
        return Err(ApiError::Conflict(format!(
            "{:?} is the name of a token in the configuration",
            body.name
        )));
    }
    let scopes: BTreeSet<Scope> = body.scopes.iter().copied().collect();
    for scope in &scopes {
        caller.require(*scope)?;
    }
    Ok(scopes)
}

/// 32 random bytes, base64url, after [`SECRET_PREFIX`].
fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Admin tokens: the configuration's first, then the others newest first, revoked and expired
/// ones included.
#[utoipa::path(get, path = "/v1/admin-tokens", operation_id = "listAdminTokens", tag = "admin",
    params(Cursor),
    responses((status = 200, description = "A page of tokens", body = Page<AdminToken>), Failures),
    security(("bearer" = ["admin"])))]
pub async fn list(
    State(state): State<AppState>,
    Query(page): Query<Cursor>,
) -> Result<Json<Page<AdminToken>>, ApiError> {
    let limit = cursor::limit(page.limit) as usize;
    let position = match cursor::decode("admin-tokens", page.cursor.as_deref())? {
        None => Position::Configured(0),
        Some(key) => parse_position(&key)?,
    };
    // The configuration's tokens first, in their order; then the others, newest first.
    let mut items: Vec<AdminToken> = Vec::with_capacity(limit);
    let mut after = None;
    if let Position::Configured(skip) = position {
        items.extend(
            state
                .tokens()
                .configured()
                .skip(skip)
                .take(limit)
                .map(configured),
        );
        if items.len() == limit {
            let next = format!("config:{}", skip + limit);
            return Ok(Json(Page::new(
                items,
                Some(cursor::encode("admin-tokens", &next)),
            )));
        }
    } else if let Position::Stored(at, id) = &position {
        after = Some((*at, id.as_str()));
    }
    let room = limit - items.len();
    let rows = state.store.tokens(after, room as i64).await?;
    let next = match rows.last() {
        Some(last) if rows.len() == room => Some(cursor::encode(
            "admin-tokens",
            &format!("stored:{}:{}", last.created_at, last.id),
        )),
        _ => None,
    };
    items.extend(rows.into_iter().map(stored));
    Ok(Json(Page::new(items, next)))
}

/// Where a page of tokens starts.
enum Position {
    /// At this index of the configuration's tokens.
    Configured(usize),
    /// After this stored token (`created_at`, `id`).
    Stored(i64, String),
}

fn parse_position(key: &str) -> Result<Position, ApiError> {
    let bad = || ApiError::Invalid("the cursor is not one of this list (admin-tokens)".into());
    if let Some(index) = key.strip_prefix("config:") {
        return index.parse().map(Position::Configured).map_err(|_| bad());
    }
    let (at, id) = key
        .strip_prefix("stored:")
        .and_then(|rest| rest.split_once(':'))
        .ok_or_else(bad)?;
    Ok(Position::Stored(
        at.parse().map_err(|_| bad())?,
        id.to_owned(),
    ))
}

/// One admin token.
#[utoipa::path(get, path = "/v1/admin-tokens/{id}", operation_id = "getAdminToken", tag = "admin",
    params(("id" = String, Path, description = "The token's ID", min_length = 1, max_length = 513, pattern = r"^[^\x00-\x1F\x7F]+$")),
    responses((status = 200, description = "The token", body = AdminToken), Failures),
    security(("bearer" = ["admin"])))]
pub async fn get(
    State(state): State<AppState>,
    Param(id): Param,
) -> Result<Json<AdminToken>, ApiError> {
    if let Some(name) = id.strip_prefix(CONFIGURED) {
        return state
            .tokens()
            .configured()
            .find(|c| c.name == name)
            .map(|c| Json(configured(c)))
            .ok_or_else(|| not_found(&id));
    }
    let row = state
        .store
        .token(&id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(stored(row)))
}

/// Revokes an admin token: it is refused from the next request on.
#[utoipa::path(post, path = "/v1/admin-tokens/{id}/revoke", operation_id = "revokeAdminToken", tag = "admin",
    params(("id" = String, Path, description = "The token's ID", min_length = 1, max_length = 513, pattern = r"^[^\x00-\x1F\x7F]+$")),
    responses((status = 200, description = "The token, revoked", body = AdminToken), Failures),
    security(("bearer" = ["admin"])))]
pub async fn revoke(
    caller: Caller,
    State(state): State<AppState>,
    Param(id): Param,
) -> Result<Json<AdminToken>, ApiError> {
    if id.starts_with(CONFIGURED) {
        return Err(ApiError::Conflict(
            "a token of the configuration is removed from the configuration".into(),
        ));
    }
    let row = state
        .store
        .revoke_token(&id, &caller.name, service_kit::now_ms())
        .await?
        .ok_or_else(|| not_found(&id))?;
    tracing::info!(target: "audit", caller = %caller.name, token = %row.id, name = %row.name,
        "admin token revoked");
    Ok(Json(stored(row)))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no admin token {:?}", mdm_proto::bounded(id, 64)))
}

/// A token of the configuration.
fn configured(caller: &Caller) -> AdminToken {
    AdminToken {
        id: format!("{CONFIGURED}{}", caller.name),
        name: caller.name.clone(),
        scopes: caller.scopes.clone(),
        created_by: "configuration".into(),
        created_at: None,
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
    }
}

/// A token made through the API.
fn stored(row: TokenRow) -> AdminToken {
    AdminToken {
        scopes: row.scopes.split(',').filter_map(Scope::from_name).collect(),
        id: row.id,
        name: row.name,
        created_by: row.created_by,
        created_at: convert::time(row.created_at),
        expires_at: convert::time(row.expires_at),
        last_used_at: row.last_used_at.and_then(convert::time),
        revoked_at: row.revoked_at.and_then(convert::time),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin(scopes: &[Scope]) -> Caller {
        Caller {
            name: "root".into(),
            scopes: scopes.to_vec(),
        }
    }

    fn request(name: &str, scopes: &[Scope]) -> AdminTokenRequest {
        AdminTokenRequest {
            name: name.into(),
            scopes: scopes.to_vec(),
            expiry: None,
        }
    }

    #[test]
    fn a_caller_grants_only_what_it_holds() {
        let caller = admin(&[Scope::Admin, Scope::Read]);
        let none = std::iter::empty();
        assert!(check_request(&caller, &request("ci", &[Scope::Read]), none).is_ok());
        let error = check_request(
            &caller,
            &request("ci", &[Scope::Destructive]),
            std::iter::empty(),
        )
        .expect_err("escalation");
        assert_eq!(error.status(), http::StatusCode::FORBIDDEN);
    }

    #[test]
    fn a_configured_name_is_taken() {
        let caller = admin(&Scope::ALL);
        let clash = check_request(
            &caller,
            &request("ops", &[Scope::Read]),
            ["ops"].into_iter(),
        )
        .expect_err("a configured name");
        assert_eq!(clash.status(), http::StatusCode::CONFLICT);
    }

    #[test]
    fn secrets_are_long_random_and_recognisable() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with(SECRET_PREFIX) && a.len() == SECRET_PREFIX.len() + 43);
    }
}
