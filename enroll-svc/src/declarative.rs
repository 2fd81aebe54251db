//! Declarative Device Management (docs/declarative.md): enroll-svc keeps the declarations, the
//! sets that group them and the enrollments each set is assigned to, answers the
//! `DeclarativeManagement` check-ins devices sync with, and stores the status they report.
//!
//! Declarations live here rather than in command-svc or a service of their own because every
//! part of the protocol is a check-in on the channel enroll-svc already verifies and answers,
//! a device's status items are device facts like its inventory, and assigning sets to
//! enrollments needs the enrollments, which only enroll-svc holds. enroll-svc never queues
//! commands: each change answers the enrollments whose manifest it changed, and the caller
//! (admin-svc) sends them the `DeclarativeManagement` command.
//!
//! # Layout
//! - [`store`]: declarations, and what every change answers (the devices to sync).
//! - [`sets`]: sets of declarations and their assignments to enrollments.
//! - [`served`]: what a channel is served, read with the check of its certificate's binding.
//! - [`status`]: what devices report (declaration states, status items with their history).
//! - [`sync`]: the answer to each `DeclarativeManagement` check-in endpoint.
//! - [`assets`]: assets whose data the server keeps, sealed, and serves to the devices that hold
//!   them (the edge's asset proxy).
//! - [`grpc`]: the `mdm.v1.Declarative` adapter.

pub mod assets;
pub mod grpc;
pub mod served;
pub mod sets;
pub mod status;
pub mod store;
pub mod sync;

pub use store::{Change, DeclarationRow, DeclarativeStore, SetRow};

use crate::config::DeclarativeConfig;
use std::time::Duration;

/// How often status history past its retention is dropped.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Drops status history older than `declarative.status_history_days`, hourly, until the task is
/// dropped. Every replica may prune: deleting twice deletes nothing more.
pub async fn prune_history(store: DeclarativeStore, config: DeclarativeConfig) {
    let keep_ms = i64::from(config.status_history_days) * 86_400_000;
    let mut ticks = tokio::time::interval(PRUNE_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match store.prune_history(service_kit::now_ms() - keep_ms).await {
            Ok(0) => {}
            Ok(dropped) => tracing::info!(dropped, "status history past its retention dropped"),
            Err(error) => {
                tracing::warn!(%error, "pruning status history failed; retrying in an hour")
            }
        }
    }
}
