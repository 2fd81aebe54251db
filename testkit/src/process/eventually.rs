//! "Assert eventually": poll a condition until it holds or a deadline passes.

use std::future::Future;
use std::time::Duration;

use anyhow::bail;
use tokio::time::Instant;

use super::POLL_INTERVAL;

/// Call `f` every ~20 ms until it returns `Some(value)`, and return that value; fail after
/// `deadline` with an error naming `what`. `f` is always called at least once. For a `bool`
/// condition return `cond.then_some(())`.
pub async fn eventually<T, F, Fut>(deadline: Duration, what: &str, mut f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let end = Instant::now() + deadline;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        if let Some(value) = f().await {
            return Ok(value);
        }
        if Instant::now() >= end {
            bail!("timed out after {deadline:?} ({attempts} attempts) waiting for {what}");
        }
        tokio::time::sleep(POLL_INTERVAL.min(end.saturating_duration_since(Instant::now()))).await;
    }
}
