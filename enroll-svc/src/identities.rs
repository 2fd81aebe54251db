//! The identity-expiry sweep: every `identities.sweep_secs`, the enrolled devices whose identity
//! certificate expires within `identities.expiry_notice_days` are announced once each
//! (`enrollment.identity_expiring`). Every replica may sweep: the mark and the event commit
//! together, so none is announced twice.

use crate::config::IdentitiesConfig;
use crate::store::EnrollmentStore;
use std::time::Duration;

const DAY_MS: i64 = 86_400_000;

/// Sweeps until the task is dropped; nothing when the notice period is 0.
pub async fn run(store: EnrollmentStore, config: IdentitiesConfig) {
    if config.expiry_notice_days == 0 {
        return;
    }
    let notice_ms = i64::from(config.expiry_notice_days) * DAY_MS;
    let mut ticks = tokio::time::interval(Duration::from_secs(config.sweep_secs));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = service_kit::now_ms();
        match store.notice_expiring_identities(now + notice_ms, now).await {
            Ok(0) => {}
            Ok(noticed) => tracing::warn!(
                noticed,
                days = config.expiry_notice_days,
                "device identities expire soon: renew them (re-enroll) before they lapse"
            ),
            Err(error) => {
                tracing::warn!(%error, "identity expiry sweep failed; retrying at the next one")
            }
        }
    }
}
