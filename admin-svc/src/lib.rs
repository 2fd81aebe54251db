//! admin-svc: the administrator's side of the MDM server. It serves the admin REST API and the
//! web console over HTTPS (axum), keeps the admin tokens made through the API and their audit log in its own
//! database, and calls enroll-svc, command-svc and push-svc over gRPC for everything else.
//! The OpenAPI document is generated from the handlers and the shared `mdm-api` types.
//!
//! - [`config`]: settings (`MDM_ADMIN_*`).
//! - [`routes`]: the API, one module per resource.
//! - [`console`]: the web console served at `/`, and its sessions.
//! - [`auth`]: bearer tokens and scopes.
//! - [`conformance`]: every request checked against the OpenAPI document.
//! - [`extract`]: request extractors that refuse with problem documents.
//! - [`error`]: [`ApiError`](error::ApiError), the problem documents.
//! - [`cursor`]: opaque page cursors.
//! - [`convert`]: gRPC messages to API documents.
//! - [`backends`]: the services' gRPC clients.
//! - [`ddm_sync`]: the `DeclarativeManagement` command to the devices a declarative change altered.
//! - [`store`]: admin tokens, admin-svc's audit log, events, webhooks and blueprints.
//! - [`events`]: the event dispatcher: the services' events to webhooks, blueprint runs.
//! - [`server`]: the TLS listener.
//! - [`metrics`]: Prometheus metrics and the access log.
//! - [`migration`]: `/migration`, NanoMDM's endpoint for importing devices from another server.

pub mod auth;
pub mod backends;
pub mod config;
pub mod conformance;
pub mod console;
pub mod convert;
pub mod cursor;
pub mod ddm_sync;
pub mod error;
pub mod events;
pub mod extract;
pub mod metrics;
pub mod migration;
pub mod routes;
pub mod server;
pub mod store;

pub use config::Config;

use prometheus_client::registry::Registry;
use service_kit::db::Db;
use service_kit::observe;
use std::future::Future;
use tokio::net::TcpListener;

/// Why admin-svc could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database could not be opened.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Its migrations failed.
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A service URL is not usable.
    #[error("service URL: {0}")]
    Url(#[from] service_kit::upstream::UpstreamError),
    /// The certificate or key is not usable.
    #[error(transparent)]
    Tls(#[from] server::TlsError),
    /// The API's own OpenAPI document does not compile (a bug).
    #[error("the OpenAPI document: {0}")]
    Document(String),
    /// A listener could not be bound or read.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
}

/// Opens the database, runs migrations, and serves the API on `listener` until `shutdown`
/// resolves.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let tls = server::tls_config(&config.cert_file, &config.key_file)?;
    let db = Db::connect(&config.database, &config.database_url()).await?;
    let store = store::AdminStore::open(db).await?;
    let backends = backends::Backends::new(&config.services)?;
    let mut registry = Registry::default();
    let metrics = metrics::Metrics::register(&mut registry);
    let event_metrics = events::metrics::EventMetrics::register(&mut registry);
    let observability = observe::Observability::with_peers(
        registry,
        observe::database_ready(store.db().clone()),
        backends.peers(),
    );
    let secrets = match config.sealing_key() {
        Some(key) => Some(
            service_kit::secrets::SecretBox::from_base64(key)
                .map_err(|e| Error::Document(format!("secret_key: {e}")))?,
        ),
        None => None,
    };
    let dispatcher = events::Dispatcher::new(
        store.clone(),
        backends.clone(),
        config.events.clone(),
        secrets.clone(),
        event_metrics,
    )
    .spawn();
    let tokens = auth::Tokens::new(&config.tokens, store.clone());
    let state = routes::AppState {
        sessions: console::session::Sessions::new(store.clone(), tokens),
        backends,
        store: store.clone(),
        secrets,
    };
    let (router, _) =
        routes::api(state, config.max_body_bytes, metrics).map_err(Error::Document)?;
    let metrics_listener = TcpListener::bind(config.metrics_listen).await?;
    tracing::info!(addr = %metrics_listener.local_addr()?, "admin-svc metrics listening");
    tracing::info!(addr = %listener.local_addr()?, engine = store.db().engine(), "admin-svc listening");
    // The metrics listener lives exactly as long as the API.
    tokio::select! {
        () = server::serve(listener, tls, router, shutdown) => {}
        () = observability.serve(metrics_listener, std::future::pending()) => {}
    }
    for task in dispatcher {
        task.abort();
    }
    store.db().close().await;
    tracing::info!("admin-svc stopped");
    Ok(())
}

/// The OpenAPI document of the API, as served at `GET /v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::document()
}
