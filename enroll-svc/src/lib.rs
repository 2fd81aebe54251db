//! enroll-svc owns enrollments: it handles the check-in messages a device sends (Authenticate,
//! TokenUpdate, CheckOut, UserAuthenticate, Set/GetBootstrapToken), binds each device's identity
//! certificate to its enrollment, stores device facts, and keeps UnlockTokens and BootstrapTokens
//! sealed at rest. It is reached only over gRPC from the edge, which has already verified who is
//! calling; it owns its database and no other service reads it.
//!
//! # Layout
//! - [`config`]: settings (`MDM_ENROLL_*`).
//! - [`checkin`]: what each check-in message does.
//! - [`admissions`]: Authenticate, CheckOut and revocation announced to every edge (its cache).
//! - [`push_targets`]: push targets kept in step with push-svc (TokenUpdate, CheckOut).
//! - [`metrics`]: Prometheus counters.
//! - [`store`]: the enrollment table on SQLite or PostgreSQL.
//! - [`declarative`]: Declarative Device Management: declarations, sets, assignments, the
//!   `DeclarativeManagement` check-ins and status reports (`mdm.v1.Declarative`).
//! - [`provisioning`]: the device-identity CA, SCEP, enrollment tokens, OTA and direct profiles,
//!   issued certificates and revocation (`mdm.v1.Provisioning`).
//! - [`grpc`]: the `mdm.v1.Enrollment` adapter (and `mdm.v1.Events` over its event outbox).
//! - [`identities`]: the sweep that announces identities near expiry.
//! - [`diagnosis`]: its part of `mdm.v1.Diagnostics` (the enrollment profile's settings).
//! - [`error`]: the crate's error, mapped once to the shared error codes.
//!
//! Binaries and tests both start the service with [`run`].

pub mod admissions;
pub mod checkin;
pub mod config;
pub mod declarative;
pub mod diagnosis;
pub mod error;
pub mod grpc;
pub mod identities;
pub mod metrics;
pub mod provisioning;
pub mod push_targets;
pub mod store;

pub use config::Config;
pub use error::Error;

use mdm_proto::v1::declarative_server::DeclarativeServer;
use mdm_proto::v1::enrollment_server::EnrollmentServer;
use mdm_proto::v1::provisioning_server::ProvisioningServer;
use prometheus_client::registry::Registry;
use service_kit::db::Db;
use service_kit::observe;
use service_kit::secrets::SecretBox;
use service_kit::upstream::{Upstream, UpstreamOptions};
use std::future::Future;
use tokio::net::TcpListener;

/// Opens the database, runs migrations, and serves gRPC on `listener` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let secrets = SecretBox::from_base64(&config.secret_key)?;
    let db = Db::connect(&config.database, &config.database_url()).await?;
    let store = store::EnrollmentStore::open(db).await?;
    let provisioning =
        provisioning::Provisioning::start(&config, store.db().clone(), &secrets).await?;
    let push = Upstream::new("push-svc", &config.push_url, UpstreamOptions::default())?;
    let mut registry = Registry::default();
    let metrics = metrics::Metrics::register(&mut registry);
    let grpc_calls = service_kit::grpc::RequestCounter::register(&mut registry);
    let observability = observe::Observability::with_peers(
        registry,
        observe::database_ready(store.db().clone()),
        vec![("push-svc", push.ready_check())],
    );
    let admissions = admissions::Admissions::start(store.db().clone());
    let checkins = checkin::CheckinService::new(store.clone(), secrets.clone())
        .with_metrics(metrics.clone())
        .with_push(push_targets::PushTargets::new(push))
        .with_admissions(admissions.clone());
    let api =
        grpc::EnrollmentApi::new(checkins, store.clone(), secrets.clone(), admissions.clone())
            .with_revocation(provisioning.clone());

    let diagnosis = service_kit::diagnostics::Diagnosis::new(
        "enroll-svc",
        store.db().clone(),
        &store::SQLITE_MIGRATIONS,
        &store::POSTGRES_MIGRATIONS,
    )
    .with_probe(diagnosis::probe(provisioning.clone()));

    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<EnrollmentServer<grpc::EnrollmentApi>>()
        .await;
    health
        .set_serving::<ProvisioningServer<provisioning::grpc::ProvisioningApi>>()
        .await;
    health
        .set_serving::<DeclarativeServer<declarative::grpc::DeclarativeApi>>()
        .await;
    let declarations = declarative::DeclarativeStore::new(store.db().clone());
    let router = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(
            grpc_calls.wrap(
                EnrollmentServer::new(api)
                    .max_decoding_message_size(mdm_proto::clients::MAX_MESSAGE_BYTES)
                    .max_encoding_message_size(mdm_proto::clients::MAX_MESSAGE_BYTES),
            ),
        )
        .add_service(
            grpc_calls.wrap(
                ProvisioningServer::new(provisioning::grpc::ProvisioningApi::new(
                    provisioning,
                    admissions,
                ))
                .max_decoding_message_size(mdm_proto::clients::MAX_MESSAGE_BYTES)
                .max_encoding_message_size(mdm_proto::clients::MAX_MESSAGE_BYTES),
            ),
        )
        .add_service(
            grpc_calls.wrap(
                DeclarativeServer::new(declarative::grpc::DeclarativeApi::new(
                    declarations.clone(),
                    secrets.clone(),
                    config.enrollment.as_ref().map(|e| e.assets_url()),
                ))
                .max_decoding_message_size(mdm_proto::clients::MAX_MESSAGE_BYTES)
                .max_encoding_message_size(mdm_proto::clients::MAX_MESSAGE_BYTES),
            ),
        )
        .add_service(grpc_calls.wrap(service_kit::events::Outbox::new(store.db().clone()).server()))
        .add_service(grpc_calls.wrap(diagnosis.server()));
    service_kit::grpc::ServiceProcess {
        name: "enroll-svc",
        listener,
        metrics_listener: TcpListener::bind(config.metrics_listen).await?,
        observability,
        db: store.db(),
        tasks: vec![
            tokio::spawn(identities::run(
                store.clone(),
                config.identities.clone(),
                metrics.clone(),
            )),
            tokio::spawn(declarative::prune_history(
                declarations,
                config.declarative.clone(),
            )),
        ],
    }
    .serve(router, shutdown)
    .await?;
    Ok(())
}
