//! The identity-expiry sweep: every `identities.sweep_secs`, the enrolled devices whose identity
//! certificate expires within `identities.expiry_notice_days` are announced once each
//! (`enrollment.identity_expiring`); admin-svc renews them on that event (docs/identities.md).
//! Every replica may sweep: the mark and the event commit together, so none is announced twice.

use crate::config::IdentitiesConfig;
use crate::metrics::Metrics;
use crate::store::EnrollmentStore;
use std::time::Duration;

/// Sweeps until the task is dropped; nothing when the notice period is 0.
pub async fn run(store: EnrollmentStore, config: IdentitiesConfig, metrics: Metrics) {
    let notice_secs = config.notice_secs();
    if notice_secs == 0 {
        return;
    }
    let notice_ms = i64::try_from(notice_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let mut ticks = tokio::time::interval(Duration::from_secs(config.sweep_secs));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = service_kit::now_ms();
        match store
            .notice_expiring_identities(now.saturating_add(notice_ms), now)
            .await
        {
            Ok(0) => {}
            Ok(noticed) => {
                metrics.identities_expiring.inc_by(noticed);
                tracing::warn!(
                    noticed,
                    notice_secs,
                    "device identities expire soon: renewal profiles are sent to them"
                )
            }
            Err(error) => {
                tracing::warn!(%error, "identity expiry sweep failed; retrying at the next one")
            }
        }
    }
}
