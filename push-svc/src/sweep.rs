//! The inactivity sweep (Apple's "Detecting Inactive Devices"): push devices that have been
//! silent for `sweep.push_after_secs` so that a device still listening connects and proves it,
//! and mark inactive those silent past `sweep.inactive_after_secs` (a week by default).
//!
//! "Silent" is counted from `last_seen_at`, which command-svc reports in batches for every
//! device that uses the command channel (see `RecordActivity`) and a TokenUpdate refreshes.
//! Every replica may sweep: each statement is idempotent, and the worst a race does is send
//! one extra wake-up push, which is harmless.

use crate::config::SweepConfig;
use crate::deliver::Pusher;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::store::PushStore;
use crate::upload::Certificates;
use std::time::Duration;

/// How long before the push certificate expires its `push.certificate_expiring` event is
/// emitted (once per certificate): 30 days, the time a renewal through Apple takes to plan.
const EXPIRY_NOTICE_MS: i64 = 30 * 86_400_000;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Targets marked inactive.
    pub marked_inactive: u64,
    /// Targets pushed.
    pub pushed: u64,
}

/// The sweep's parts.
#[derive(Debug)]
pub struct Sweeper<'a> {
    /// Targets.
    pub store: &'a PushStore,
    /// Sends the wake-up pushes.
    pub pusher: &'a Pusher,
    /// Metrics.
    pub metrics: &'a Metrics,
    /// Thresholds.
    pub policy: &'a SweepConfig,
}

impl Sweeper<'_> {
    /// One sweep as of `now` (Unix ms).
    pub async fn sweep_once(&self, now: i64) -> Result<SweepReport, Error> {
        let secs = |s: u64| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX);
        let marked_inactive = self
            .store
            .mark_silent_inactive(
                now.saturating_sub(secs(self.policy.inactive_after_secs)),
                now,
            )
            .await?;
        let due = self
            .store
            .due_for_wake(
                now.saturating_sub(secs(self.policy.push_after_secs)),
                i64::from(self.policy.batch),
            )
            .await?;
        if !due.is_empty() {
            self.pusher.push_at(&due, "sweep", now).await?;
        }
        let pushed = due.len() as u64;
        self.metrics.sweep_inactive.inc_by(marked_inactive);
        self.metrics.sweep_pushed.inc_by(pushed);
        Ok(SweepReport {
            marked_inactive,
            pushed,
        })
    }
}

/// Sweeps now and every `interval_secs` until dropped; also repeats the certificate expiry
/// warning in the log, so that it is seen well before the certificate lapses.
pub async fn run(
    store: PushStore,
    pusher: std::sync::Arc<Pusher>,
    certificates: Certificates,
    metrics: Metrics,
    policy: SweepConfig,
) {
    let mut ticks = tokio::time::interval(Duration::from_secs(policy.interval_secs));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let sweeper = Sweeper {
            store: &store,
            pusher: &pusher,
            metrics: &metrics,
            policy: &policy,
        };
        match sweeper.sweep_once(service_kit::now_ms()).await {
            Ok(report) if report != SweepReport::default() => {
                tracing::info!(?report, "inactivity sweep")
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "inactivity sweep failed; retrying at the next interval")
            }
        }
        let now = service_kit::now_ms();
        let threshold = now.saturating_add(EXPIRY_NOTICE_MS);
        if let Err(error) = store.notify_expiring(threshold, now).await {
            tracing::warn!(%error, "certificate expiry event not written; retrying at the next interval");
        }
        for info in certificates.all().await.unwrap_or_default() {
            metrics.certificate(&info.topic, info.not_after_ms, service_kit::now_ms());
            if !info.warning.is_empty() {
                tracing::warn!(topic = %info.topic, days_left = info.days_left, "{}", info.warning);
            }
        }
    }
}
