//! Console sessions: an admin token, presented once at sign-in, becomes a random secret in an
//! HttpOnly, Secure, SameSite=Strict cookie; only the secret's SHA-256 is stored.
//!
//! - A session acts with its token's scopes **as they are at each request**: revoking the token,
//!   letting it expire or removing it from the configuration ends its sessions.
//! - It ends after [`LIFETIME_MS`] however active, after [`IDLE_MS`] without use, at sign-out, and
//!   never outlives its token.
//! - A request that changes state carries `X-CSRF-Token`, derived from the cookie's secret (so
//!   nothing more is stored): a page of another site can make the browser send the cookie (not
//!   with SameSite=Strict in today's browsers, but defence does not rest on one header), never
//!   read the token.

use crate::auth::{Caller, Tokens};
use crate::error::ApiError;
use crate::extract::{is_json, Body};
use crate::store::{AdminStore, SessionRow};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use http::{header, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The cookie's name.
pub const COOKIE: &str = "mdm_console";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session ends this long after sign-in, however active (a working day).
pub const LIFETIME_MS: i64 = 8 * 3600 * 1000;
/// A session ends after this long without a request.
pub const IDLE_MS: i64 = 30 * 60 * 1000;
/// The longest secret read from a cookie (ours are 43 characters).
const MAX_SECRET: usize = 128;
/// The longest admin token accepted at sign-in.
const MAX_TOKEN: usize = 1024;

/// Opens, resolves and ends sessions.
#[derive(Debug, Clone)]
pub struct Sessions {
    store: AdminStore,
    tokens: Tokens,
}

impl Sessions {
    /// Sessions kept in `store`, opened with `tokens`.
    pub fn new(store: AdminStore, tokens: Tokens) -> Sessions {
        Sessions { store, tokens }
    }

    /// The admin tokens.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// The caller of the live session whose cookie secret is `secret`, and the session.
    pub async fn resolve(&self, secret: &str) -> Result<(Caller, SessionRow), ApiError> {
        let id = digest(secret);
        let session = self
            .store
            .session(&id)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let now = service_kit::now_ms();
        if session.expires_at <= now || session.last_seen_at + IDLE_MS <= now {
            return Err(ApiError::Unauthorized);
        }
        let kind = session.kind().ok_or(ApiError::Unauthorized)?;
        let caller = self
            .tokens
            .current(kind, &session.token_ref)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        if let Err(error) = self.store.touch_session(&id, now).await {
            // A missed "last seen" only shortens the session's idle time.
            tracing::warn!(%error, "could not note a console session's use");
        }
        Ok((caller, session))
    }
}

/// The body of `POST /console/session`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// An admin token's secret.
    pub token: String,
}

/// What the console learns about its session.
#[derive(Debug, Serialize)]
pub struct SessionInfo {
    /// The token's name: the actor of what the session does.
    pub name: String,
    /// Its scopes now.
    pub scopes: Vec<mdm_api::Scope>,
    /// The value of `X-CSRF-Token` for requests that change state.
    pub csrf_token: String,
    /// When the session ends at the latest (RFC 3339).
    pub expires_at: Option<String>,
}

impl SessionInfo {
    fn new(caller: Caller, secret: &str, expires_at: i64) -> SessionInfo {
        SessionInfo {
            name: caller.name,
            scopes: caller.scopes,
            csrf_token: csrf_token(secret),
            expires_at: crate::convert::time(expires_at),
        }
    }
}

/// `POST /console/session`: signs in with an admin token.
pub async fn sign_in(
    State(sessions): State<Sessions>,
    headers: HeaderMap,
    Body(body): Body<SignIn>,
) -> Result<Response, ApiError> {
    // Another site could otherwise sign the browser in as the attacker (login CSRF): a form
    // cannot send JSON, and a browser names a cross-site request as such.
    refuse_cross_site(&headers)?;
    if !headers.get(header::CONTENT_TYPE).is_some_and(is_json) {
        return Err(ApiError::UnsupportedMediaType);
    }
    if body.token.is_empty() || body.token.len() > MAX_TOKEN {
        return Err(ApiError::Unauthorized);
    }
    let identified = sessions.tokens.identify(body.token.as_bytes()).await?;
    let now = service_kit::now_ms();
    let expires_at = identified
        .expires_at
        .map_or(now + LIFETIME_MS, |token_end| {
            token_end.min(now + LIFETIME_MS)
        });
    let secret = new_secret();
    let session = SessionRow::new(
        digest(&secret),
        identified.kind,
        &identified.reference,
        now,
        expires_at,
    );
    sessions
        .store
        .open_session(&session, &identified.caller.name, now - IDLE_MS)
        .await?;
    let cookie = format!(
        "{COOKIE}={secret}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
        (expires_at - now) / 1000
    );
    let info = SessionInfo::new(identified.caller, &secret, expires_at);
    Ok(with_cookie(StatusCode::CREATED, Json(info), &cookie))
}

/// `GET /console/session`: who the session is, for a page loaded again.
pub async fn current(
    State(sessions): State<Sessions>,
    headers: HeaderMap,
) -> Result<Json<SessionInfo>, ApiError> {
    let secret = cookie_secret(&headers).ok_or(ApiError::Unauthorized)?;
    let (caller, session) = sessions.resolve(secret).await?;
    Ok(Json(SessionInfo::new(caller, secret, session.expires_at)))
}

/// `DELETE /console/session`: signs out; the cookie is cleared.
pub async fn sign_out(
    State(sessions): State<Sessions>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let secret = cookie_secret(&headers).ok_or(ApiError::Unauthorized)?;
    check_csrf(&headers, secret)?;
    let (caller, _) = sessions.resolve(secret).await?;
    sessions
        .store
        .end_session(&digest(secret), &caller.name, service_kit::now_ms())
        .await?;
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    Ok(with_cookie(StatusCode::NO_CONTENT, (), &cookie))
}

fn with_cookie(status: StatusCode, body: impl IntoResponse, cookie: &str) -> Response {
    let mut response = (status, body).into_response();
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The session secret in the request's cookies, if one is there and has a plausible shape.
pub fn cookie_secret(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty() && value.len() <= MAX_SECRET)
}

/// Refuses a request the browser says another site made (`Sec-Fetch-Site`).
fn refuse_cross_site(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get("sec-fetch-site").map(HeaderValue::as_bytes) {
        None | Some(b"same-origin" | b"none") => Ok(()),
        Some(_) => Err(ApiError::CsrfRejected),
    }
}

/// Refuses unless the request carries the CSRF token of the session `secret` opens.
pub fn check_csrf(headers: &HeaderMap, secret: &str) -> Result<(), ApiError> {
    refuse_cross_site(headers)?;
    let presented = headers
        .get(CSRF_HEADER)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if bool::from(presented.ct_eq(csrf_token(secret).as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::CsrfRejected)
    }
}

/// The CSRF token of a session: a hash of its secret under its own label, so neither the token
/// nor the stored digest gives the other.
fn csrf_token(secret: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"mdm-console-csrf\0");
    hash.update(secret.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash.finalize())
}

/// The stored ID of a session: the SHA-256 of its secret.
fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// 32 random bytes, base64url.
fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                header::COOKIE,
                HeaderValue::from_str(value).expect("header"),
            );
        }
        headers
    }

    #[test]
    fn the_secret_is_found_among_other_cookies() {
        let headers = cookies(&["a=1; mdm_console=abc; b=2"]);
        assert_eq!(cookie_secret(&headers), Some("abc"));
        let headers = cookies(&["a=1", "mdm_console=xyz"]);
        assert_eq!(cookie_secret(&headers), Some("xyz"));
        for absent in ["", "mdm_console=", "mdm_consolex=abc", "x_mdm_console=abc"] {
            assert_eq!(cookie_secret(&cookies(&[absent])), None, "{absent}");
        }
        let long = format!("mdm_console={}", "a".repeat(MAX_SECRET + 1));
        assert_eq!(cookie_secret(&cookies(&[&long])), None);
    }

    #[test]
    fn only_the_sessions_own_csrf_token_passes() {
        let secret = new_secret();
        let mut headers = HeaderMap::new();
        assert!(check_csrf(&headers, &secret).is_err(), "absent");
        headers.insert(CSRF_HEADER, HeaderValue::from_static("nope"));
        assert!(check_csrf(&headers, &secret).is_err(), "wrong");
        let other = csrf_token(&new_secret());
        headers.insert(CSRF_HEADER, HeaderValue::from_str(&other).expect("header"));
        assert!(check_csrf(&headers, &secret).is_err(), "another session's");
        let own = csrf_token(&secret);
        headers.insert(CSRF_HEADER, HeaderValue::from_str(&own).expect("header"));
        assert!(check_csrf(&headers, &secret).is_ok());
        assert_ne!(
            own.as_bytes(),
            &digest(&secret)[..],
            "the token is not the stored ID"
        );
    }
}
