//! What the mock saw and what it was told to do: deliveries, refusals, injected faults,
//! latency and GOAWAY settings, and waiting for a push.

use super::feed::{FeedPage, FeedPush};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// One accepted push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The device token from the path, lower-case hex.
    pub token: String,
    /// The `apns-topic` header (checked against the client certificate's UID).
    pub topic: String,
    /// The PushMagic from the body.
    pub push_magic: String,
    /// The `apns-push-type` header.
    pub push_type: String,
    /// The `apns-expiration` header (Unix seconds).
    pub expiration: i64,
    /// The `apns-priority` header, if sent.
    pub priority: Option<String>,
    /// The request path.
    pub path: String,
    /// The body, byte for byte.
    pub body: Vec<u8>,
    /// Every request header, lower-case names, in order.
    pub headers: Vec<(String, String)>,
    /// When it arrived.
    pub at: SystemTime,
}

/// One request answered with an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status sent.
    pub status: u16,
    /// The APNs reason sent.
    pub reason: String,
    /// The request path.
    pub path: String,
    /// Whether the error was injected (a valid request) rather than a protocol violation.
    pub injected: bool,
}

/// An error the mock answers instead of 200.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// HTTP status (410, 400, 403, 429, 500, ...).
    pub status: u16,
    /// The `reason` of the JSON body.
    pub reason: String,
}

impl Fault {
    /// A fault with `status` and `reason`.
    pub fn new(status: u16, reason: &str) -> Fault {
        Fault {
            status,
            reason: reason.to_owned(),
        }
    }
}

/// The most recent deliveries and refusals kept: a long-running mock (the compose `sim`
/// profile, a benchmark with a feed) must not grow without bound. The feed numbers deliveries
/// from the first ever, so a client that fell behind the window skips what it missed.
pub const DEFAULT_KEEP: usize = 50_000;

#[derive(Default)]
struct State {
    /// The last `keep` deliveries; the first has number `forgotten`.
    deliveries: VecDeque<Delivery>,
    forgotten: usize,
    refusals: VecDeque<Refusal>,
    keep: usize,
    faults: HashMap<String, Fault>,
    fault_all: Option<Fault>,
}

/// Shared between the handle and the server tasks.
pub(crate) struct Recorder {
    record: bool,
    state: Mutex<State>,
    delivered: AtomicU64,
    connections: AtomicU64,
    goaways: AtomicU64,
    latency_us: AtomicU64,
    goaway_every: AtomicU64,
    /// Bumped on every delivery, so waiters wake without polling.
    changes: tokio::sync::watch::Sender<u64>,
}

impl Recorder {
    /// Records deliveries when `record`, keeping the last `keep` of them and of refusals.
    pub(crate) fn new(record: bool, keep: usize) -> Recorder {
        Recorder {
            record,
            state: Mutex::new(State {
                keep: keep.max(1),
                ..State::default()
            }),
            delivered: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            goaways: AtomicU64::new(0),
            latency_us: AtomicU64::new(0),
            goaway_every: AtomicU64::new(0),
            changes: tokio::sync::watch::channel(0).0,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records an accepted push; answers its `apns-id` (a UUID-shaped counter: a random UUID
    /// per push would cost the benchmark a system call each).
    pub(crate) fn delivered(&self, delivery: Delivery) -> String {
        let n = self.delivered.fetch_add(1, Ordering::Relaxed) + 1;
        if self.record {
            let mut state = self.state();
            if state.deliveries.len() >= state.keep {
                state.deliveries.pop_front();
                state.forgotten += 1;
            }
            state.deliveries.push_back(delivery);
            drop(state);
            self.changes.send_modify(|count| *count += 1);
        }
        format!("00000000-0000-4000-8000-{n:012x}")
    }

    pub(crate) fn refused(&self, refusal: Refusal) {
        let mut state = self.state();
        if state.refusals.len() >= state.keep {
            state.refusals.pop_front();
        }
        state.refusals.push_back(refusal);
    }

    pub(crate) fn fault_for(&self, token: &str) -> Option<Fault> {
        let state = self.state();
        state
            .faults
            .get(token)
            .or(state.fault_all.as_ref())
            .cloned()
    }

    pub(crate) fn inject(&self, token_hex: &str, fault: Fault) {
        self.state()
            .faults
            .insert(token_hex.to_ascii_lowercase(), fault);
    }

    pub(crate) fn inject_all(&self, fault: Option<Fault>) {
        self.state().fault_all = fault;
    }

    pub(crate) fn deliveries(&self) -> Vec<Delivery> {
        self.state().deliveries.iter().cloned().collect()
    }

    pub(crate) fn refusals(&self) -> Vec<Refusal> {
        self.state().refusals.iter().cloned().collect()
    }

    pub(crate) fn delivered_count(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    pub(crate) fn connection_opened(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn connection_count(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    pub(crate) fn goaway_sent(&self) {
        self.goaways.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn goaway_count(&self) -> u64 {
        self.goaways.load(Ordering::Relaxed)
    }

    pub(crate) fn set_latency(&self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency_us.store(us, Ordering::Relaxed);
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_micros(self.latency_us.load(Ordering::Relaxed))
    }

    pub(crate) fn set_goaway_every(&self, n: u64) {
        self.goaway_every.store(n, Ordering::Relaxed);
    }

    pub(crate) fn goaway_every(&self) -> u64 {
        self.goaway_every.load(Ordering::Relaxed)
    }

    /// Whether deliveries are kept (the feed needs them).
    pub(crate) fn records(&self) -> bool {
        self.record
    }

    /// Deliveries `after..` (at most `limit`), waiting up to `wait` for the first one.
    pub(crate) async fn page(&self, after: usize, limit: usize, wait: Duration) -> FeedPage {
        let mut changes = self.changes.subscribe();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            changes.mark_unchanged();
            {
                let state = self.state();
                let total = state.forgotten + state.deliveries.len();
                if total > after || tokio::time::Instant::now() >= deadline {
                    let pushes: Vec<FeedPush> = state
                        .deliveries
                        .iter()
                        .enumerate()
                        .map(|(i, d)| (state.forgotten + i, d))
                        .skip_while(|(seq, _)| *seq < after)
                        .take(limit)
                        .map(|(seq, d)| FeedPush {
                            seq,
                            token: d.token.clone(),
                            topic: d.topic.clone(),
                            push_magic: d.push_magic.clone(),
                        })
                        .collect();
                    let next = pushes.last().map_or(total, |p| p.seq + 1);
                    return FeedPage { next, pushes };
                }
            }
            let _ = tokio::time::timeout_at(deadline, changes.changed()).await;
        }
    }

    /// The first delivery to `token_hex`, waiting up to `timeout` for it.
    pub(crate) async fn wait_for(&self, token_hex: &str, timeout: Duration) -> Option<Delivery> {
        let token = token_hex.to_ascii_lowercase();
        let mut changes = self.changes.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            changes.mark_unchanged();
            let found = self
                .state()
                .deliveries
                .iter()
                .find(|d| d.token == token)
                .cloned();
            if found.is_some() {
                return found;
            }
            if tokio::time::timeout_at(deadline, changes.changed())
                .await
                .is_err()
            {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(token: &str) -> Delivery {
        Delivery {
            token: token.into(),
            topic: "t".into(),
            push_magic: "m".into(),
            push_type: "mdm".into(),
            expiration: 0,
            priority: None,
            path: String::new(),
            body: Vec::new(),
            headers: Vec::new(),
            at: SystemTime::UNIX_EPOCH,
        }
    }

    #[tokio::test]
    async fn the_record_is_a_bounded_window_numbered_from_the_first_push() {
        let recorder = Recorder::new(true, 3);
        for i in 0..5 {
            recorder.delivered(delivery(&format!("{i:02x}")));
        }
        let kept: Vec<String> = recorder.deliveries().into_iter().map(|d| d.token).collect();
        assert_eq!(kept, ["02", "03", "04"]);
        // A feed client behind the window gets what is left, with the global numbers.
        let page = recorder.page(0, 10, Duration::ZERO).await;
        let seqs: Vec<usize> = page.pushes.iter().map(|p| p.seq).collect();
        assert_eq!((seqs, page.next), (vec![2, 3, 4], 5));
        let page = recorder.page(4, 10, Duration::ZERO).await;
        assert_eq!(page.pushes.len(), 1);
        assert_eq!(recorder.delivered_count(), 5, "counts are of every push");
    }
}
