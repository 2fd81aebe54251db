//! The dispatcher's lease: one replica of admin-svc delivers events at a time, so an
//! enrollment's events are posted in order and no two replicas race on a delivery. The holder
//! renews it every second for five; another replica takes over within five seconds of the
//! holder stopping. A holder that cannot renew stops acting as one before its lease lapses.

use crate::store::AdminStore;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The lease's row.
const NAME: &str = "event-dispatcher";
/// How long a claim holds.
const HOLD_MS: i64 = 5_000;
/// How often the holder renews.
const RENEW_EVERY: Duration = Duration::from_secs(1);
/// A holder stops acting this long before its claim lapses (renewal lag, clock drift).
const MARGIN_MS: i64 = 1_500;

/// This replica's view of the lease.
#[derive(Debug, Clone)]
pub struct Lease {
    store: AdminStore,
    holder: String,
    /// Until when this replica may act (Unix ms; 0: not the holder).
    valid_until: Arc<AtomicI64>,
}

impl Lease {
    /// A lease keeper for this replica (a random holder name).
    pub fn new(store: AdminStore) -> Lease {
        Lease {
            store,
            holder: uuid::Uuid::new_v4().to_string(),
            valid_until: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Whether this replica holds the lease now.
    pub fn held(&self) -> bool {
        service_kit::now_ms() < self.valid_until.load(Ordering::Acquire)
    }

    /// Claims or renews the lease every second until the task is dropped.
    pub async fn keep(self) {
        let mut ticks = tokio::time::interval(RENEW_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = service_kit::now_ms();
            match self
                .store
                .claim_lease(NAME, &self.holder, now, now + HOLD_MS)
                .await
            {
                Ok(true) => self
                    .valid_until
                    .store(now + HOLD_MS - MARGIN_MS, Ordering::Release),
                Ok(false) => self.valid_until.store(0, Ordering::Release),
                Err(error) => {
                    // The claim may still hold; acting stops when its margin runs out.
                    tracing::warn!(%error, "the event dispatcher's lease was not renewed");
                }
            }
        }
    }
}
