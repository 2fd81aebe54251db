//! The dispatcher's metrics: events received per service, how far behind ingest is, and what
//! became of deliveries.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// Labels of received events.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    /// enroll-svc, command-svc or push-svc.
    pub source: &'static str,
}

/// Labels of delivery attempts.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AttemptLabels {
    /// delivered | failed | dead
    pub outcome: &'static str,
}

/// Labels of identity renewals.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RenewalLabels {
    /// queued | renewed | failed
    pub outcome: &'static str,
}

/// The dispatcher's metrics, cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct EventMetrics {
    /// Events stored, by service.
    pub received: Family<SourceLabels, Counter>,
    /// Seconds between the oldest event of the last pull occurring and its pull.
    pub ingest_lag_seconds: Gauge<f64, AtomicU64>,
    /// Delivery attempts by outcome.
    pub attempts: Family<AttemptLabels, Counter>,
    /// Deliveries waiting.
    pub pending: Gauge,
    /// Deliveries given up on (until replayed or purged).
    pub dead: Gauge,
    /// Age of the oldest waiting delivery's event, in seconds.
    pub oldest_pending_seconds: Gauge<f64, AtomicU64>,
    /// Identity renewals by what became of them.
    pub renewals: Family<RenewalLabels, Counter>,
}

impl EventMetrics {
    /// Metrics registered in `registry`.
    pub fn register(registry: &mut Registry) -> EventMetrics {
        let m = EventMetrics::default();
        registry.register(
            "mdm_events_received",
            "Events stored by admin-svc, by emitting service",
            m.received.clone(),
        );
        registry.register(
            "mdm_events_ingest_lag_seconds",
            "How old the oldest event of the last pull was when pulled",
            m.ingest_lag_seconds.clone(),
        );
        registry.register(
            "mdm_webhook_attempts",
            "Webhook delivery attempts by outcome",
            m.attempts.clone(),
        );
        registry.register(
            "mdm_webhook_pending",
            "Webhook deliveries waiting",
            m.pending.clone(),
        );
        registry.register(
            "mdm_webhook_dead",
            "Webhook deliveries given up on (replayable)",
            m.dead.clone(),
        );
        registry.register(
            "mdm_webhook_oldest_pending_seconds",
            "Age of the oldest waiting webhook delivery",
            m.oldest_pending_seconds.clone(),
        );
        registry.register(
            "mdm_identity_renewals",
            "Device identity renewals: renewal profiles queued, renewals completed (the device uses its new certificate), renewals failed",
            m.renewals.clone(),
        );
        m
    }

    /// Counts `n` renewals with `outcome`.
    pub fn count_renewals(&self, outcome: &'static str, n: usize) {
        if n > 0 {
            self.renewals
                .get_or_create(&RenewalLabels { outcome })
                .inc_by(n as u64);
        }
    }
}
