//! Coalescing concurrent pushes to one target.
//!
//! Many commands queued for one device in a burst should not become a burst of identical
//! pushes: one wake-up fetches every queued command. But a push must never be *skipped* for a
//! caller whose command was queued after a push already left, or the device could wake, find
//! the queue as it was, and sleep through the new command. So per target at most one push is
//! in flight, and every request that arrives while it is in flight is served by the **next**
//! push, which leaves after all of them arrived (hence after their commands were committed).
//! N concurrent requests for one device cost at most two pushes.
//!
//! Each request takes a ticket (a generation number). The push that takes its turn covers every
//! ticket issued before it was sent; a request whose ticket is already covered when its turn
//! comes returns that push's result without sending.

use crate::outcome::PushResult;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

/// Shards of the target map, so that thousands of concurrent pushes do not queue on one lock.
const SHARDS: usize = 16;

/// Per-target push serialization with coalescing.
#[derive(Debug)]
pub struct Coalescer {
    shards: Vec<Mutex<HashMap<String, Arc<Entry>>>>,
}

#[derive(Debug, Default)]
struct Entry {
    /// Tickets issued, and requests currently using the entry.
    tickets: Mutex<(u64, usize)>,
    /// Held while this target's push is in flight; holds the last push's coverage and result.
    turn: tokio::sync::Mutex<Option<(u64, PushResult)>>,
}

/// A result and whether this request's call sent it (record it once, not per requester).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// The push's result.
    pub result: PushResult,
    /// True for the request whose `send` ran.
    pub sent_here: bool,
}

impl Default for Coalescer {
    fn default() -> Self {
        Coalescer {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Coalescer {
    fn shard(&self, key: &str) -> &Mutex<HashMap<String, Arc<Entry>>> {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        &self.shards[(hasher.finish() as usize) % SHARDS]
    }

    /// Pushes `key` with `send`, unless a push that left after this call covers it.
    pub async fn push<F, Fut>(&self, key: &str, send: F) -> Served
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = PushResult>,
    {
        let shard = self.shard(key);
        let (entry, ticket) = {
            let mut map = lock(shard);
            let entry = Arc::clone(map.entry(key.to_owned()).or_default());
            let mut tickets = lock(&entry.tickets);
            tickets.0 += 1;
            tickets.1 += 1;
            let ticket = tickets.0;
            drop(tickets);
            (entry, ticket)
        };
        // Leaves the entry even if this future is dropped mid-way (a cancelled RPC).
        let _leave = Leave {
            shard,
            key,
            entry: &entry,
        };
        let mut turn = entry.turn.lock().await;
        if let Some((covered, result)) = turn.as_ref() {
            if *covered >= ticket {
                return Served {
                    result: result.clone(),
                    sent_here: false,
                };
            }
        }
        let covering = lock(&entry.tickets).0;
        let result = send().await;
        *turn = Some((covering, result.clone()));
        Served {
            result,
            sent_here: true,
        }
    }

    /// Targets with a request in progress (for tests: the map does not grow).
    pub fn in_progress(&self) -> usize {
        self.shards.iter().map(|shard| lock(shard).len()).sum()
    }
}

struct Leave<'a> {
    shard: &'a Mutex<HashMap<String, Arc<Entry>>>,
    key: &'a str,
    entry: &'a Arc<Entry>,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        let mut map = lock(self.shard);
        let mut tickets = lock(&self.entry.tickets);
        tickets.1 -= 1;
        if tickets.1 == 0 {
            if let Some(current) = map.get(self.key) {
                if Arc::ptr_eq(current, self.entry) {
                    map.remove(self.key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Outcome;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_cost_at_most_two_pushes() {
        let coalescer = Arc::new(Coalescer::default());
        let sent = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let coalescer = Arc::clone(&coalescer);
            let sent = Arc::clone(&sent);
            tasks.push(tokio::spawn(async move {
                coalescer
                    .push("D1", || async move {
                        sent.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        PushResult::local(Outcome::Delivered, "")
                    })
                    .await
            }));
        }
        let mut here = 0;
        for task in tasks {
            let served = task.await.expect("task");
            assert_eq!(served.result.outcome, Outcome::Delivered);
            here += usize::from(served.sent_here);
        }
        let sent = sent.load(Ordering::SeqCst);
        assert!((1..=2).contains(&sent), "{sent} pushes for 50 requests");
        assert_eq!(here, sent);
        assert_eq!(coalescer.in_progress(), 0, "entries are removed");
    }

    #[tokio::test]
    async fn a_request_after_a_push_left_gets_its_own_push() {
        let coalescer = Coalescer::default();
        let first = coalescer
            .push("D1", || async { PushResult::local(Outcome::Delivered, "") })
            .await;
        let second = coalescer
            .push("D1", || async { PushResult::local(Outcome::Failed, "x") })
            .await;
        assert!(first.sent_here && second.sent_here);
        assert_eq!(second.result.outcome, Outcome::Failed);
    }
}
