//! What the mock saw and what it was told to do: deliveries, refusals, injected faults,
//! latency and GOAWAY settings, and waiting for a push.

use super::feed::{FeedPage, FeedPush};
use std::collections::HashMap;
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

#[derive(Default)]
struct State {
    deliveries: Vec<Delivery>,
    refusals: Vec<Refusal>,
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
    pub(crate) fn new(record: bool) -> Recorder {
        Recorder {
            record,
            state: Mutex::new(State::default()),
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
            self.state().deliveries.push(delivery);
            self.changes.send_modify(|count| *count += 1);
        }
        format!("00000000-0000-4000-8000-{n:012x}")
    }

    pub(crate) fn refused(&self, refusal: Refusal) {
        self.state().refusals.push(refusal);
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
        self.state().deliveries.clone()
    }

    pub(crate) fn refusals(&self) -> Vec<Refusal> {
        self.state().refusals.clone()
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
                let total = state.deliveries.len();
                if total > after || tokio::time::Instant::now() >= deadline {
                    let pushes: Vec<FeedPush> = state
                        .deliveries
                        .iter()
                        .enumerate()
                        .skip(after)
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
