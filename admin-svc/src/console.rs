//! The web console: a page and its scripts served at `/` ([`assets`]), signed in with an admin
//! token that becomes a cookie session ([`session`]). The page is a client of the same `/v1` API
//! as any other, so it can do exactly what its token's scopes allow and nothing the API does
//! not check; a bearer token still works beside the cookie.
//!
//! - [`assets`]: the compiled-in files and their security headers.
//! - [`session`]: sign-in, sign-out, the cookie and its CSRF token.
//! - [`qr`]: QR codes of enrollment URLs.

pub mod assets;
pub mod qr;
pub mod session;

use axum::middleware;
use axum::routing::get;
use axum::Router;
use session::Sessions;

/// The console's routes (the API's are beside them under `/v1`).
pub fn routes(sessions: Sessions) -> Router {
    let signed_in = Router::new()
        .route("/console/qr.svg", get(qr::qr))
        .route_layer(middleware::from_fn_with_state(
            sessions.clone(),
            crate::auth::authenticate,
        ));
    Router::new()
        .route("/", get(assets::index))
        .route(
            "/console/session",
            get(session::current)
                .post(session::sign_in)
                .delete(session::sign_out),
        )
        .route("/console/{*path}", get(assets::asset))
        .with_state(sessions)
        .merge(signed_in)
}
