//! enroll-svc's Prometheus metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Labels of a handled check-in.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckinLabels {
    /// Authenticate, TokenUpdate, ... (`unparsed` when the body was not a check-in).
    pub message_type: &'static str,
    /// `ok` or the shared error code (`not_managed`, `authentication_failed`, ...).
    pub outcome: &'static str,
}

/// The service's counters, cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    /// Check-ins by message type and outcome.
    pub checkins: Family<CheckinLabels, Counter>,
    /// Authenticates refused because the certificate did not prove it belongs to the device
    /// (each one is also in the audit log).
    pub rebind_refused: Counter,
    /// Device identities announced as near expiry (their renewal starts).
    pub identities_expiring: Counter,
}

impl Metrics {
    /// Counters registered in `registry`.
    pub fn register(registry: &mut Registry) -> Metrics {
        let metrics = Metrics::default();
        registry.register(
            "mdm_checkins",
            "Check-in messages handled, by message type and outcome",
            metrics.checkins.clone(),
        );
        registry.register(
            "mdm_enroll_rebind_refused",
            "Authenticate messages refused because the certificate did not prove it belongs to the enrolled device",
            metrics.rebind_refused.clone(),
        );
        registry.register(
            "mdm_identities_expiring",
            "Device identity certificates announced as near expiry (enrollment.identity_expiring), each once",
            metrics.identities_expiring.clone(),
        );
        metrics
    }
}
