//! The administrator REST API on its own HTTPS listener: bearer tokens with scopes, JSON in and
//! out, translated to the services' gRPC calls. It is off unless `[admin]` is configured.
//!
//! # Layout
//! - [`config`]: the `[admin]` settings and token scopes.
//! - [`routes`]: the route table ([`routes::ROUTES`]) and the router.
//! - [`auth`]: bearer-token check (hashed, constant time) and scope checks.
//! - [`app`]: the pingora app: route, authenticate, dispatch, answer.
//! - [`commands`], [`devices`], [`push`], [`enrollment`]: the handlers, one file per noun.
//! - [`query`]: query-string parameters of the list endpoints.
//! - [`render`]: gRPC answers as JSON.
//! - [`error`]: why a request failed, mapped once to status and error code.
//!
//! `proxy/openapi.json` documents the API; `tests/openapi_sync.rs` keeps it in step with
//! [`routes::ROUTES`].

pub mod app;
pub mod auth;
pub mod commands;
pub mod config;
pub mod devices;
pub mod enrollment;
pub mod error;
pub mod push;
pub mod query;
pub mod render;
pub mod routes;

pub use app::AdminApp;
pub use config::{AdminListener, AdminToken, Scope};

use crate::tls::TlsSetupError;
use pingora::listeners::tls::TlsSettings;

/// The admin listener's TLS: a server certificate, no client certificate (callers present
/// bearer tokens).
pub fn admin_tls(config: &AdminListener) -> Result<TlsSettings, TlsSetupError> {
    let cert_file = config.cert_file.display().to_string();
    let key_file = config.key_file.display().to_string();
    let mut tls = TlsSettings::intermediate(&cert_file, &key_file)
        .map_err(|e| TlsSetupError::Pingora(e.to_string()))?;
    // `intermediate` loads the key and the chain but does not check that they belong together.
    tls.check_private_key()
        .map_err(|source| TlsSetupError::OpenSsl {
            what: format!("admin key {key_file} does not match {cert_file}"),
            source,
        })?;
    tls.enable_h2();
    Ok(tls)
}
