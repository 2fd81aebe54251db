//! Who is calling: a bearer token from the configuration (compared in constant time against
//! every configured digest, without stopping at the first match) or one made through the API
//! (looked up by the SHA-256 of the secret; expired and revoked ones refused at once), or the web
//! console's session cookie, which acts with its token's scopes as they are now
//! ([`crate::console::session`]). The middleware puts the [`Caller`] on the request. The scope an operation needs is declared once,
//! in its OpenAPI security requirement, and checked from there before the request is read
//! ([`crate::conformance`]); handlers check only what depends on the body (a destructive
//! command).

use crate::config::{parse_sha256, ConfigToken};
use crate::console::session::{self, Sessions};
use crate::error::ApiError;
use crate::store::{AdminStore, TokenKind, TokenRow};
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::request::Parts;
use mdm_api::Scope;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::{ConditionallySelectable, ConstantTimeEq};

/// Who is calling, once the token is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name: the actor in command history and the audit log.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
}

impl Caller {
    /// Refuses with 403 unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                caller: self.name.clone(),
                missing: scope,
            })
        }
    }
}

/// The configured tokens and the store of the others.
#[derive(Debug, Clone)]
pub struct Tokens {
    configured: Arc<Vec<([u8; 32], Caller)>>,
    store: AdminStore,
}

impl Tokens {
    /// The validated configuration's tokens, and `store` for tokens made through the API.
    pub fn new(configured: &[ConfigToken], store: AdminStore) -> Tokens {
        let configured = configured
            .iter()
            .filter_map(|token| {
                Some((
                    parse_sha256(&token.sha256)?,
                    Caller {
                        name: token.name.clone(),
                        scopes: token.scopes.clone(),
                    },
                ))
            })
            .collect();
        Tokens {
            configured: Arc::new(configured),
            store,
        }
    }

    /// The configured tokens' names, which tokens made through the API may not take.
    pub fn configured_names(&self) -> impl Iterator<Item = &str> {
        self.configured
            .iter()
            .map(|(_, caller)| caller.name.as_str())
    }

    /// The configured tokens, as the token list shows them.
    pub fn configured(&self) -> impl Iterator<Item = &Caller> {
        self.configured.iter().map(|(_, caller)| caller)
    }

    /// Verifies an `Authorization` header value.
    pub async fn authenticate(&self, authorization: Option<&[u8]>) -> Result<Caller, ApiError> {
        let secret = authorization
            .and_then(bearer_token)
            .ok_or(ApiError::Unauthorized)?;
        Ok(self.identify(secret).await?.caller)
    }

    /// The live token whose secret is `secret`, and which one it is.
    pub async fn identify(&self, secret: &[u8]) -> Result<Identified, ApiError> {
        let presented: [u8; 32] = Sha256::digest(secret).into();
        if let Some(caller) = self.configured_match(&presented) {
            return Ok(Identified {
                kind: TokenKind::Configured,
                reference: caller.name.clone(),
                expires_at: None,
                caller,
            });
        }
        let Some(row) = self.store.token_by_secret(&presented).await? else {
            return Err(ApiError::Unauthorized);
        };
        let now = service_kit::now_ms();
        let caller = live_caller(&row, now).ok_or(ApiError::Unauthorized)?;
        if let Err(error) = self.store.touch(&row.id, now).await {
            // A missed "last used" is not worth refusing the request for.
            tracing::warn!(%error, token = %row.id, "could not note a token's use");
        }
        Ok(Identified {
            kind: TokenKind::Api,
            reference: row.id,
            expires_at: Some(row.expires_at),
            caller,
        })
    }

    /// The caller of the token a console session was opened with, as it is now: `None` once the
    /// token is revoked, expired or gone from the configuration.
    pub async fn current(
        &self,
        kind: TokenKind,
        reference: &str,
    ) -> Result<Option<Caller>, ApiError> {
        match kind {
            TokenKind::Configured => Ok(self
                .configured()
                .find(|caller| caller.name == reference)
                .cloned()),
            TokenKind::Api => {
                let row = self.store.token(reference).await?;
                Ok(row.and_then(|row| live_caller(&row, service_kit::now_ms())))
            }
        }
    }

    /// The configured token with this digest, chosen without a data-dependent branch.
    fn configured_match(&self, presented: &[u8; 32]) -> Option<Caller> {
        let mut found = subtle::Choice::from(0);
        let mut index = 0u64;
        for (i, (digest, _)) in self.configured.iter().enumerate() {
            let hit = presented.ct_eq(digest);
            index.conditional_assign(&(i as u64), hit);
            found |= hit;
        }
        if !bool::from(found) {
            return None;
        }
        let index = usize::try_from(index).ok()?;
        self.configured.get(index).map(|(_, caller)| caller.clone())
    }
}

/// The caller of a token made through the API, unless it is revoked or expired at `now`.
fn live_caller(row: &TokenRow, now: i64) -> Option<Caller> {
    if row.revoked_at.is_some() || row.expires_at <= now {
        return None;
    }
    Some(Caller {
        name: row.name.clone(),
        scopes: row.scopes.split(',').filter_map(Scope::from_name).collect(),
    })
}

/// A verified token: who it is and where it comes from.
#[derive(Debug, Clone)]
pub struct Identified {
    /// Its name and scopes.
    pub caller: Caller,
    /// Configured or made through the API.
    pub kind: TokenKind,
    /// The configured token's name, or the API token's ID.
    pub reference: String,
    /// When it stops working, for a token made through the API.
    pub expires_at: Option<i64>,
}

/// The token of `Bearer <token>` (scheme case-insensitive, RFC 7235); `None` for any other form.
pub(crate) fn bearer_token(header: &[u8]) -> Option<&[u8]> {
    let header = header.trim_ascii();
    let (scheme, rest) = header.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") || !rest.first()?.is_ascii_whitespace() {
        return None;
    }
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// The middleware: verifies the bearer token, or else the console's session cookie (and, for a
/// request that changes state, its CSRF header), and puts the [`Caller`] on the request. A bearer
/// token wins over a cookie: an API client is never steered by a browser's session.
pub async fn authenticate(
    State(sessions): State<Sessions>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let headers = request.headers();
    let caller = if let Some(header) = headers.get(http::header::AUTHORIZATION) {
        let header = header.as_bytes().to_vec();
        sessions.tokens().authenticate(Some(&header)).await?
    } else if let Some(secret) = session::cookie_secret(headers) {
        let secret = secret.to_owned();
        if !request.method().is_safe() {
            session::check_csrf(request.headers(), &secret)?;
        }
        sessions.resolve(&secret).await?.0
    } else {
        return Err(ApiError::Unauthorized);
    };
    request.extensions_mut().insert(caller.clone());
    let mut response = next.run(request).await;
    // For the access log: who was answered.
    response.extensions_mut().insert(caller);
    Ok(response)
}

/// The verified caller, for handlers that record who acted.
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(ApiError::Unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn only_a_bearer_token_is_read() {
        assert_eq!(bearer_token(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(bearer_token(b"bearer   abc "), Some(&b"abc"[..]));
        for header in [
            &b""[..],
            b"Bearer",
            b"Bearer ",
            b"Basic abc",
            b"Bearerabc",
            b"abc",
        ] {
            assert_eq!(bearer_token(header), None, "{header:?}");
        }
    }
}
