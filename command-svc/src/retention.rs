//! The periodic retention sweep: expired commands leave the queue, old results are purged.

use crate::config::Retention;
use crate::store::QueueStore;
use service_kit::now_ms;
use std::time::Duration;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Sweeps once now and then every `sweep_interval_secs`, until the task is dropped.
pub async fn run(store: QueueStore, policy: Retention) {
    let mut ticks = tokio::time::interval(Duration::from_secs(policy.sweep_interval_secs));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = now_ms();
        let results_cutoff = now - i64::from(policy.results_days) * DAY_MS;
        let audit_cutoff = now - i64::from(policy.audit_days) * DAY_MS;
        match store.sweep(now, results_cutoff, audit_cutoff).await {
            Ok(report) if report != Default::default() => {
                tracing::info!(?report, "retention sweep")
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "retention sweep failed; retrying at the next interval")
            }
        }
    }
}
