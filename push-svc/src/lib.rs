//! push-svc owns push (docs/architecture.md §7): the MDM push certificate, the push target of each
//! enrollment (token, PushMagic, topic) and delivery to APNs over HTTP/2. enroll-svc registers a
//! target at TokenUpdate and removes it at CheckOut; command-svc pushes a command's targets when
//! it is queued and reports which devices connected; administrators upload certificates and
//! push through the edge's admin API. It owns its database; no other service reads it.
//!
//! # Layout
//! - [`config`]: settings (`MDM_PUSH_*`).
//! - [`certificate`]: reading an uploaded certificate (PEM or PKCS#12) and its topic.
//! - [`upload`]: installing a certificate (one topic for life), describing the current one.
//! - [`current`]: the current certificate on every replica, refreshed from the database.
//! - [`apns`]: the APNs client: connections, the exact wire format, retries.
//! - [`outcome`]: what became of a push, from APNs's status and reason.
//! - [`coalesce`]: concurrent pushes to one target become at most two.
//! - [`deliver`]: the Push operation: bulk lookup, concurrent sends, bulk recording.
//! - [`sweep`]: pushing silent devices, marking the silent-too-long inactive.
//! - [`store`]: certificates and targets on SQLite or PostgreSQL.
//! - [`metrics`]: Prometheus metrics (certificate expiry, outcomes, sweep).
//! - [`grpc`]: the `mdm.v1.Push` adapter.
//! - [`diagnosis`]: its part of `mdm.v1.Diagnostics` (a handshake with APNs per topic).
//! - [`error`]: the crate's error, mapped once to the shared error codes.
//!
//! Binaries, tests and the benchmark (`examples/push_bench.rs`) start the service with [`run`].

pub mod apns;
pub mod certificate;
pub mod coalesce;
pub mod config;
pub mod current;
pub mod deliver;
pub mod diagnosis;
pub mod error;
pub mod grpc;
pub mod metrics;
pub mod outcome;
pub mod store;
pub mod sweep;
pub mod upload;

pub use config::Config;
pub use error::Error;

use mdm_proto::v1::push_server::PushServer;
use prometheus_client::registry::Registry;
use service_kit::db::Db;
use service_kit::observe;
use service_kit::secrets::SecretBox;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Opens the database, runs migrations, starts the inactivity sweep, and serves gRPC on
/// `listener` (and metrics on `metrics_listen`) until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let secrets = SecretBox::from_base64(&config.secret_key)?;
    let settings = apns::ApnsSettings::from_config(&config.apns)?;
    let db = Db::connect(&config.database, &config.database_url()).await?;
    let store = store::PushStore::open(db).await?;

    let mut registry = Registry::default();
    let metrics = metrics::Metrics::register(&mut registry);
    let grpc_calls = service_kit::grpc::RequestCounter::register(&mut registry);
    let observability =
        observe::Observability::new(registry, observe::database_ready(store.db().clone()));
    let cache = Arc::new(current::CertificateCache::new(
        store.clone(),
        secrets.clone(),
        settings.clone(),
        Duration::from_millis(config.certificate.refresh_ms),
        metrics.clone(),
    ));
    let certificates = upload::Certificates::new(
        store.clone(),
        secrets,
        config.certificate.expiry_warning_days,
    );
    let pusher = Arc::new(deliver::Pusher::new(
        store.clone(),
        Arc::clone(&cache),
        metrics.clone(),
        settings.max_in_flight,
    ));
    let sweeper = tokio::spawn(sweep::run(
        store.clone(),
        Arc::clone(&pusher),
        certificates.clone(),
        metrics.clone(),
        config.sweep.clone(),
    ));

    let diagnosis = service_kit::diagnostics::Diagnosis::new(
        "push-svc",
        store.db().clone(),
        &store::SQLITE_MIGRATIONS,
        &store::POSTGRES_MIGRATIONS,
    )
    .with_probe(diagnosis::probe(Arc::clone(&cache)));
    let api = grpc::PushApi::new(store.clone(), pusher, certificates, cache, metrics);
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<PushServer<grpc::PushApi>>().await;
    let router = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(
            grpc_calls.wrap(
                PushServer::new(api)
                    .max_decoding_message_size(mdm_proto::clients::MAX_MESSAGE_BYTES)
                    .max_encoding_message_size(mdm_proto::clients::MAX_MESSAGE_BYTES),
            ),
        )
        .add_service(grpc_calls.wrap(service_kit::events::Outbox::new(store.db().clone()).server()))
        .add_service(grpc_calls.wrap(diagnosis.server()));
    service_kit::grpc::ServiceProcess {
        name: "push-svc",
        listener,
        metrics_listener: TcpListener::bind(config.metrics_listen).await?,
        observability,
        db: store.db(),
        tasks: vec![sweeper],
    }
    .serve(router, shutdown)
    .await?;
    Ok(())
}
