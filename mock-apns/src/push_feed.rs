//! [`PushFeed`]: a simulated device's view of the mock APNs when the mock runs as its own
//! process. A background task long-polls the mock's feed ([`crate::feed`]) and counts the
//! pushes per token; a device waits on its own token's count, so ten thousand sleeping devices
//! cost nothing until their push arrives.

use crate::feed::{FeedPage, MAX_WAIT};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// Pause after a failed poll (the mock restarting, a refused connection) before the next.
const RETRY: Duration = Duration::from_millis(200);
/// The largest feed page read; a real one is far smaller (5,000 short entries).
const MAX_PAGE_BYTES: usize = 16 << 20;

#[derive(Default)]
struct Counts {
    /// Pushes seen so far per token (lower-case hex), each a channel devices wait on.
    tokens: Mutex<HashMap<String, watch::Sender<usize>>>,
    total: AtomicUsize,
    failed_polls: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Counts {
    fn tokens(&self) -> MutexGuard<'_, HashMap<String, watch::Sender<usize>>> {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn channel(&self, token: &str) -> watch::Receiver<usize> {
        self.tokens()
            .entry(token.to_ascii_lowercase())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    fn add(&self, page: &FeedPage) {
        let mut tokens = self.tokens();
        for push in &page.pushes {
            tokens
                .entry(push.token.clone())
                .or_insert_with(|| watch::channel(0).0)
                .send_modify(|count| *count += 1);
        }
        self.total.fetch_add(page.pushes.len(), Ordering::Relaxed);
    }
}

/// Follows a mock APNs's push feed until dropped.
pub struct PushFeed {
    url: String,
    counts: Arc<Counts>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for PushFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushFeed").field("url", &self.url).finish()
    }
}

impl PushFeed {
    /// Starts following the feed at `url` (`http://host:port`) on the current Tokio runtime,
    /// from the mock's first delivery: pushes sent before this call count too.
    pub fn follow(url: &str) -> PushFeed {
        let url = url.trim_end_matches('/').to_owned();
        let counts = Arc::new(Counts::default());
        let task = tokio::spawn(poll(url.clone(), Arc::clone(&counts)));
        PushFeed { url, counts, task }
    }

    /// The feed's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many pushes to `token_hex` the feed has reported.
    pub fn pushes_to(&self, token_hex: &str) -> usize {
        *self.counts.channel(token_hex).borrow()
    }

    /// How many pushes to any token the feed has reported.
    pub fn total(&self) -> usize {
        self.counts.total.load(Ordering::Relaxed)
    }

    /// Waits until more than `seen` pushes to `token_hex` have arrived, or `timeout`; answers
    /// the count then, `None` on timeout. What a device does while it sleeps.
    pub async fn wait_for_push(
        &self,
        token_hex: &str,
        seen: usize,
        timeout: Duration,
    ) -> Option<usize> {
        let mut channel = self.counts.channel(token_hex);
        let waited = tokio::time::timeout(timeout, channel.wait_for(|count| *count > seen)).await;
        match waited {
            Ok(Ok(count)) => Some(*count),
            _ => None,
        }
    }

    /// Polls that failed so far, and the last reason: a feed that cannot be reached shows here
    /// rather than as devices that merely were never pushed.
    pub fn failures(&self) -> (u64, Option<String>) {
        let last = self
            .counts
            .last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        (self.counts.failed_polls.load(Ordering::Relaxed), last)
    }
}

impl Drop for PushFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn poll(url: String, counts: Arc<Counts>) {
    let client = reqwest::Client::builder()
        .timeout(MAX_WAIT + Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let wait_ms = MAX_WAIT.as_millis() * 5 / 6;
    let mut after = 0usize;
    loop {
        let request = format!("{url}/pushes?after={after}&wait_ms={wait_ms}");
        match fetch(&client, &request).await {
            Ok(page) => {
                after = page.next;
                counts.add(&page);
            }
            Err(why) => {
                counts.failed_polls.fetch_add(1, Ordering::Relaxed);
                *counts
                    .last_error
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(why);
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<FeedPage, String> {
    let response = client.get(url).send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!(
            "feed answered {status}: {}",
            String::from_utf8_lossy(&body).trim()
        ));
    }
    if body.len() > MAX_PAGE_BYTES {
        return Err(format!("feed page of {} bytes", body.len()));
    }
    serde_json::from_slice(&body).map_err(|e| format!("feed page: {e}"))
}
