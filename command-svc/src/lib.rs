//! command-svc owns the command queue: administrators enqueue commands for one or many
//! enrollments; devices, through the edge, report a status and get their next command; results
//! and history are kept under a retention policy. Commands follow the MDM protocol's queue
//! semantics (docs/architecture.md §6). It owns its database; it asks enroll-svc only for a device's
//! UnlockToken when a ClearPasscode command is delivered.
//!
//! # Layout
//! - [`config`]: settings (`MDM_COMMAND_*`).
//! - [`queue`]: the command cycle and enqueue validation.
//! - [`store`]: the queue tables on SQLite or PostgreSQL.
//! - [`metrics`]: Prometheus counters and gauges.
//! - [`push`]: waking a command's targets through push-svc, reporting device activity.
//! - [`retention`]: the periodic sweep.
//! - [`schedule`]: the inventory schedule (every device asked again at an interval).
//! - [`inventory`]: the dispatcher of the inventory outbox to enroll-svc.
//! - [`grpc`]: the `mdm.v1.Commands` adapter (and `mdm.v1.Events` over its event outbox, written
//!   by the store in the transactions of the changes).
//! - [`error`]: the crate's error, mapped once to the shared error codes.
//!
//! Binaries and tests both start the service with [`run`].

pub mod config;
pub mod error;
pub mod grpc;
pub mod inventory;
pub mod metrics;
pub mod push;
pub mod queue;
pub mod retention;
pub mod schedule;
pub mod store;

pub use config::Config;
pub use error::Error;

use mdm_proto::v1::commands_server::CommandsServer;
use prometheus_client::registry::Registry;
use service_kit::db::Db;
use service_kit::observe;
use service_kit::upstream::{Upstream, UpstreamOptions};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// Opens the database, runs migrations, starts the retention sweep, and serves gRPC on
/// `listener` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let db = Db::connect(&config.database, &config.database_url()).await?;
    let store = store::QueueStore::open(db)
        .await?
        .with_events(config.events.outbox);
    let enroll = Upstream::new("enroll-svc", &config.enroll_url, UpstreamOptions::default())?;
    // A push to many devices may outlast any fixed deadline; `push.timeout_ms` bounds the wait.
    let push_upstream = Upstream::new(
        "push-svc",
        &config.push.url,
        UpstreamOptions {
            timeout: None,
            ..UpstreamOptions::default()
        },
    )?;
    let mut registry = Registry::default();
    let metrics = metrics::Metrics::register(&mut registry);
    if let Some(batches) = store.cycle_batches() {
        metrics::register_cycle_batches(&mut registry, batches);
    }
    let grpc_calls = service_kit::grpc::RequestCounter::register(&mut registry);
    let observability = observe::Observability::with_peers(
        registry,
        observe::database_ready(store.db().clone()),
        vec![
            ("enroll-svc", enroll.ready_check()),
            ("push-svc", push_upstream.ready_check()),
        ],
    );
    let push = push::PushSide::new(push_upstream, &config.push);
    let activity = tokio::spawn(
        push.clone()
            .flush_activity(Duration::from_millis(config.push.activity_flush_ms)),
    );
    let dispatcher =
        inventory::InventoryDispatcher::new(store.clone(), enroll.clone(), metrics.clone());
    let queue = queue::CommandQueue::new(store.clone(), enroll.clone())
        .with_metrics(metrics.clone())
        .with_push(push)
        .with_inventory(dispatcher.waker());
    let inventory = tokio::spawn(dispatcher.run());
    let sweeper = tokio::spawn(retention::run(store.clone(), config.retention.clone()));
    let gauges = tokio::spawn(retention::refresh_gauges(store.clone(), metrics));
    let mut tasks = vec![sweeper, activity, inventory, gauges];
    if let Some(schedule) =
        schedule::InventorySchedule::new(queue.clone(), enroll, &config.inventory_schedule)
    {
        tasks.push(tokio::spawn(schedule.run()));
    }

    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<CommandsServer<grpc::CommandsApi>>()
        .await;
    let router = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(
            grpc_calls.wrap(
                CommandsServer::new(grpc::CommandsApi::new(queue))
                    .max_decoding_message_size(mdm_proto::clients::MAX_MESSAGE_BYTES)
                    .max_encoding_message_size(mdm_proto::clients::MAX_MESSAGE_BYTES),
            ),
        )
        .add_service(
            grpc_calls.wrap(
                service_kit::events::Outbox::with_pull_query(
                    store.db().clone(),
                    store::PULL_EVENTS,
                )
                .server(),
            ),
        )
        .add_service(
            grpc_calls.wrap(
                service_kit::diagnostics::Diagnosis::new(
                    "command-svc",
                    store.db().clone(),
                    &store::SQLITE_MIGRATIONS,
                    &store::POSTGRES_MIGRATIONS,
                )
                .server(),
            ),
        );
    service_kit::grpc::ServiceProcess {
        name: "command-svc",
        listener,
        metrics_listener: TcpListener::bind(config.metrics_listen).await?,
        observability,
        db: store.db(),
        tasks,
    }
    .serve(router, shutdown)
    .await?;
    Ok(())
}
