//! The periodic retention sweep: expired commands leave the queue, old results are purged.

use crate::config::Retention;
use crate::metrics::Metrics;
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

/// How often the queue gauges are refreshed.
const STATS_INTERVAL: Duration = Duration::from_secs(15);

/// Refreshes the queue depth and oldest-delivery gauges, until the task is dropped.
pub async fn refresh_gauges(store: QueueStore, metrics: Metrics) {
    let mut ticks = tokio::time::interval(STATS_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match store.queue_stats().await {
            Ok((depth, oldest)) => {
                metrics.queue_depth.set(depth);
                let age = oldest.map_or(0, |at| ((now_ms() - at) / 1000).max(0));
                metrics.oldest_queued_age_seconds.set(age);
            }
            Err(error) => tracing::warn!(%error, "queue statistics failed"),
        }
    }
}
