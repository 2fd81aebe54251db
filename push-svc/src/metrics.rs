//! push-svc's Prometheus metrics: push outcomes, the certificate's expiry, the sweep.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels of a push result.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// The outcome name (delivered, unregistered, ...).
    pub outcome: &'static str,
}

/// Labels of the certificate gauges.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TopicLabels {
    /// The push topic.
    pub topic: String,
}

/// The service's metrics, cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    /// Push results by outcome (one per enrollment per push, coalesced pushes once).
    pub results: Family<OutcomeLabels, Counter>,
    /// When the current certificate expires (Unix seconds), by topic. Alert on
    /// `mdm_push_certificate_expiry_timestamp_seconds - time() < 30 * 86400`.
    pub certificate_expiry: Family<TopicLabels, Gauge>,
    /// Days until the current certificate expires (negative once expired).
    pub certificate_days_left: Gauge,
    /// Devices the sweep pushed because they had been silent.
    pub sweep_pushed: Counter,
    /// Devices the sweep marked inactive.
    pub sweep_inactive: Counter,
    /// Push targets refused because their Topic is not the installed certificate's.
    pub topic_mismatch: Counter,
    /// Push targets registered while no certificate was installed (they cannot be woken yet).
    pub without_certificate: Counter,
}

impl Metrics {
    /// Metrics registered in `registry`.
    pub fn register(registry: &mut Registry) -> Metrics {
        let m = Metrics::default();
        registry.register(
            "mdm_push_results",
            "Push results, by outcome",
            m.results.clone(),
        );
        registry.register(
            "mdm_push_topic_mismatch",
            "TokenUpdates refused because their Topic is not the push certificate's topic",
            m.topic_mismatch.clone(),
        );
        registry.register(
            "mdm_push_targets_without_certificate",
            "Push targets registered while no push certificate was installed",
            m.without_certificate.clone(),
        );
        registry.register(
            "mdm_push_certificate_expiry_timestamp_seconds",
            "When the current MDM push certificate expires (Unix seconds), by topic",
            m.certificate_expiry.clone(),
        );
        registry.register(
            "mdm_push_certificate_days_left",
            "Days until the current MDM push certificate expires",
            m.certificate_days_left.clone(),
        );
        registry.register(
            "mdm_push_sweep_pushed",
            "Silent devices pushed by the inactivity sweep",
            m.sweep_pushed.clone(),
        );
        registry.register(
            "mdm_push_sweep_inactive",
            "Devices the inactivity sweep marked inactive",
            m.sweep_inactive.clone(),
        );
        m
    }

    /// Publishes the current certificate's expiry.
    pub fn certificate(&self, topic: &str, not_after_ms: i64, now_ms: i64) {
        self.certificate_expiry
            .get_or_create(&TopicLabels {
                topic: topic.to_owned(),
            })
            .set(not_after_ms / 1000);
        self.certificate_days_left
            .set((not_after_ms - now_ms).div_euclid(86_400_000));
    }
}
