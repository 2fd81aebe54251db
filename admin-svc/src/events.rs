//! The event dispatcher (docs/events.md): what the services commit to their outboxes reaches
//! webhooks, at least once, in order per enrollment, signed.
//!
//! One replica of admin-svc holds the dispatcher's lease ([`lease`]) and runs two loops:
//! - [`ingest`]: pulls each service's oldest events, stores them with the deliveries they make
//!   (and the blueprint runs they start) in one transaction, then acknowledges them; a crash
//!   between the two only pulls them again, and their UUIDs keep them stored once. Blueprint runs
//!   are advanced there too ([`blueprints`]), and identity renewals queued ([`renewals`]).
//! - [`send`]: posts the due deliveries — per endpoint, only the oldest pending event of each
//!   enrollment, so an enrollment's events arrive in order — retries with backoff, pauses an
//!   endpoint that fails, and gives up after `max_attempts` (dead letters, replayable).
//!
//! - [`body`]: our JSON body and the MicroMDM-compatible one.
//! - [`filter`]: which events a webhook wants.
//! - [`signature`]: the `Mdm-Signature` header.
//! - [`metrics`]: lag, deliveries, dead letters.

pub mod blueprints;
pub mod body;
pub mod filter;
mod ingest;
pub mod lease;
pub mod metrics;
mod queue;
pub mod renewals;
mod send;
pub mod signature;

use crate::backends::Backends;
use crate::config::EventsConfig;
use crate::store::AdminStore;
use service_kit::secrets::SecretBox;
use std::sync::Arc;
use tokio::sync::Notify;

/// The sealing context of a webhook's secret: a sealed value only opens in its own row.
pub fn secret_context(webhook_id: &str) -> String {
    format!("webhook-secret:{webhook_id}")
}

/// Everything the dispatcher's loops share.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    store: AdminStore,
    backends: Backends,
    config: EventsConfig,
    secrets: Option<SecretBox>,
    metrics: metrics::EventMetrics,
    lease: lease::Lease,
    /// Ingest wakes the sender when it stored deliveries.
    stored: Arc<Notify>,
}

impl Dispatcher {
    /// The dispatcher of `store`'s events and webhooks.
    pub fn new(
        store: AdminStore,
        backends: Backends,
        config: EventsConfig,
        secrets: Option<SecretBox>,
        metrics: metrics::EventMetrics,
    ) -> Dispatcher {
        Dispatcher {
            lease: lease::Lease::new(store.clone()),
            store,
            backends,
            config,
            secrets,
            metrics,
            stored: Arc::new(Notify::new()),
        }
    }

    /// Starts the lease keeper and the two loops; they run until the returned tasks are
    /// aborted.
    pub fn spawn(self) -> Vec<tokio::task::JoinHandle<()>> {
        let sender = send::Sender::new(self.clone());
        vec![
            tokio::spawn(self.lease.clone().keep()),
            tokio::spawn(ingest::run(self.clone())),
            tokio::spawn(sender.run()),
        ]
    }
}
