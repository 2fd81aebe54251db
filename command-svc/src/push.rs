//! command-svc's two uses of push-svc: waking a command's targets once it is queued, and
//! telling push-svc which devices connected.
//!
//! **Waking.** After an enqueue commits, its targets are pushed (unless the request says
//! `no_push`). A failed push never fails the enqueue: the command is queued either way and the
//! device gets it at its next check-in or push. The outcome is reported beside the enqueue.
//!
//! **Activity ("last seen").** push-svc's inactivity sweep needs to know when each device last
//! connected. command-svc sees every command-channel request, which is what a device makes after
//! every push (Idle, then its answers), so it is the cheapest place to learn it: a report adds
//! the enrollment ID to an in-memory set (one hash insert on the hot path), and a background task
//! sends the set to push-svc every `push.activity_flush_ms` in one `RecordActivity` call. The
//! alternatives cost more: the proxy would need the same batching in the edge, and push-svc
//! polling enroll-svc would miss command-channel traffic (enroll-svc only sees check-ins). A
//! report lost in a crash or a push-svc outage costs at most one unneeded wake-up push later.

use crate::config::PushLink;
use mdm_proto::clients;
use mdm_proto::v1::{PushOutcome, PushRequest, PushSummary, RecordActivityRequest};
use service_kit::upstream::Upstream;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Enrollment IDs held between flushes at most; beyond it new IDs wait for the next flush.
const MAX_PENDING_ACTIVITY: usize = 200_000;

/// IDs per `RecordActivity` call.
const ACTIVITY_BATCH: usize = 10_000;

/// Wakes targets and reports activity.
#[derive(Debug, Clone)]
pub struct PushSide {
    push: Upstream,
    timeout: Duration,
    activity: Arc<Mutex<HashSet<String>>>,
}

impl PushSide {
    /// Over push-svc's replicas; a wake-up waits at most `settings.timeout_ms`.
    pub fn new(push: Upstream, settings: &PushLink) -> PushSide {
        PushSide {
            push,
            timeout: Duration::from_millis(settings.timeout_ms),
            activity: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// Pushes `targets` and waits for the outcome at most `push.timeout_ms`; never fails: a
    /// failure is described in the summary.
    pub async fn wake(&self, targets: &[String]) -> PushSummary {
        let request = PushRequest {
            enrollment_ids: targets.to_vec(),
            reason: "command".into(),
        };
        let mut client = clients::push(self.push.channel());
        // Detached, so that a push to many devices that outlasts the wait (or the caller
        // giving up) still reaches every device: dropping the call would cancel it mid-way.
        let mut pushing = tokio::spawn(async move { client.push(request).await });
        let results = match tokio::time::timeout(self.timeout, &mut pushing).await {
            Ok(Ok(Ok(response))) => response.into_inner().results,
            Ok(Ok(Err(status))) => return failed(format!("push-svc: {}", status.message())),
            Ok(Err(join)) => return failed(format!("push task failed: {join}")),
            Err(_) => {
                return PushSummary {
                    attempted: true,
                    error: format!(
                        "the push is still running after {:?}; each device's push state shows its outcome",
                        self.timeout
                    ),
                    ..PushSummary::default()
                }
            }
        };
        let mut outcomes: BTreeMap<String, u32> = BTreeMap::new();
        let mut delivered = 0u32;
        for result in &results {
            let outcome = PushOutcome::try_from(result.outcome).unwrap_or(PushOutcome::Unspecified);
            delivered += u32::from(outcome == PushOutcome::Delivered);
            let name = outcome
                .as_str_name()
                .trim_start_matches("PUSH_OUTCOME_")
                .to_ascii_lowercase();
            *outcomes.entry(name).or_default() += 1;
        }
        let total = u32::try_from(results.len()).unwrap_or(u32::MAX);
        PushSummary {
            attempted: true,
            delivered,
            not_delivered: total.saturating_sub(delivered),
            outcomes: outcomes.into_iter().collect(),
            error: String::new(),
        }
    }

    /// Notes that `enrollment_id` connected (cheap: sent later, in a batch).
    pub fn seen(&self, enrollment_id: &str) {
        let mut pending = self
            .activity
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if pending.len() < MAX_PENDING_ACTIVITY {
            pending.insert(enrollment_id.to_owned());
        }
    }

    /// Sends the noted activity every `every`, until the task is dropped.
    pub async fn flush_activity(self, every: Duration) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let ids: Vec<String> = {
                let mut pending = self
                    .activity
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                pending.drain().collect()
            };
            let seen_at_ms = service_kit::now_ms();
            for batch in ids.chunks(ACTIVITY_BATCH) {
                let request = RecordActivityRequest {
                    enrollment_ids: batch.to_vec(),
                    seen_at_ms,
                };
                if let Err(status) = clients::push(self.push.channel())
                    .record_activity(request)
                    .await
                {
                    // Dropped, not retried: a missed report costs one extra wake-up push later.
                    tracing::warn!(error = %status.message(), devices = batch.len(),
                        "device activity could not be reported to push-svc");
                }
            }
        }
    }
}

/// The summary of a push that did not happen.
fn failed(error: String) -> PushSummary {
    tracing::warn!(%error, "push after enqueue failed; the command stays queued");
    PushSummary {
        attempted: true,
        error,
        ..PushSummary::default()
    }
}

/// The summary when the enqueue asked not to push.
pub fn not_attempted() -> PushSummary {
    PushSummary::default()
}
