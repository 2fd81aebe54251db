//! command-svc's Prometheus metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels of a device report.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReportLabels {
    /// Idle, Acknowledged, Error, CommandFormatError, NotNow (`unparsed` for a bad body).
    pub status: &'static str,
    /// `ok` or the shared error code.
    pub outcome: &'static str,
}

/// Labels of an enqueue.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EnqueueLabels {
    /// The command's RequestType.
    pub request_type: String,
}

/// The service's metrics, cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    /// Device reports by status and outcome.
    pub reports: Family<ReportLabels, Counter>,
    /// Commands queued, by request type.
    pub enqueued: Family<EnqueueLabels, Counter>,
    /// Deliveries waiting in queues (refreshed periodically).
    pub queue_depth: Gauge,
    /// Age in seconds of the oldest waiting delivery (0 when none).
    pub oldest_queued_age_seconds: Gauge,
    /// Inventory updates enroll-svc received from the outbox.
    pub inventory_sent: Counter,
    /// Attempts to send the inventory outbox that failed (retried).
    pub inventory_failures: Counter,
    /// Inventory updates waiting in the outbox.
    pub inventory_backlog: Gauge,
}

impl Metrics {
    /// Metrics registered in `registry`.
    pub fn register(registry: &mut Registry) -> Metrics {
        let m = Metrics::default();
        registry.register(
            "mdm_command_reports",
            "Command reports from devices, by status and outcome",
            m.reports.clone(),
        );
        registry.register(
            "mdm_commands_enqueued",
            "Commands queued, by request type",
            m.enqueued.clone(),
        );
        registry.register(
            "mdm_queue_depth",
            "Deliveries waiting in device queues",
            m.queue_depth.clone(),
        );
        registry.register(
            "mdm_queue_oldest_age_seconds",
            "Age of the oldest waiting delivery",
            m.oldest_queued_age_seconds.clone(),
        );
        registry.register(
            "mdm_inventory_outbox_sent",
            "Inventory updates enroll-svc received from the outbox",
            m.inventory_sent.clone(),
        );
        registry.register(
            "mdm_inventory_outbox_failures",
            "Failed attempts to send the inventory outbox (retried)",
            m.inventory_failures.clone(),
        );
        registry.register(
            "mdm_inventory_outbox_backlog",
            "Inventory updates waiting in the outbox",
            m.inventory_backlog.clone(),
        );
        m
    }
}

/// The batching of report cycles on PostgreSQL ([`crate::store::BatchCounters`]).
pub fn register_cycle_batches(registry: &mut Registry, batches: &crate::store::BatchCounters) {
    registry.register(
        "mdm_cycle_statements",
        "Statements that ran device report cycles (a batch of devices, or one alone)",
        batches.statements.clone(),
    );
    registry.register(
        "mdm_cycles_batched",
        "Report cycles that ran in one statement with other devices' cycles",
        batches.batched.clone(),
    );
}
