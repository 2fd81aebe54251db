//! Load: every device of a fleet runs one session (Idle, then each queued command and its
//! answer, until the server has nothing more), paced closed-loop (a fixed number of sessions in
//! flight, each starting as another ends: the most the stack can do) or at a fixed rate
//! (sessions start on a schedule whether or not earlier ones have finished: latency at a given
//! load, without the coordinated omission of a closed loop).
//!
//! A share of sessions opens a new TLS connection, as a device does after a push; the rest
//! reuse the device's open connection, as one does between commands of a wake-up.
//!
//! Besides each request's latency (per message type, in the shared [`Stats`]), a `session`
//! series is recorded: in rate mode from the session's scheduled start, so time spent waiting
//! for a free slot counts.

use super::device::{Handled, SimDevice};
use super::stats::Stats;
use crate::admin::AdminApi;
use rand::Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The name of the whole-session series in [`Stats`].
pub const SESSION: &str = "session";

/// How sessions are started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// `concurrency` sessions in flight; the next starts when one ends.
    Closed {
        /// Sessions in flight.
        concurrency: usize,
    },
    /// Sessions start `per_second` apart, at most `max_in_flight` at once (beyond that the
    /// start waits, and the wait shows in the `session` latency).
    Rate {
        /// Sessions started per second.
        per_second: f64,
        /// The bound on sessions in flight.
        max_in_flight: usize,
    },
}

/// A load to apply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadPlan {
    /// The pacing.
    pub pace: Pace,
    /// Share (0..=1) of sessions that open a new TLS connection first.
    pub new_connection_share: f64,
}

/// What a load run did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LoadOutcome {
    /// Sessions run.
    pub sessions: usize,
    /// Sessions that failed (a request refused or not answered).
    pub failed_sessions: usize,
    /// Commands answered Acknowledged.
    pub acknowledged: usize,
    /// Commands answered NotNow.
    pub not_now: usize,
    /// Commands answered Error.
    pub errors: usize,
    /// Sessions that opened a new connection.
    pub new_connections: usize,
    /// From the first session's start to the last one's end.
    pub seconds: f64,
    /// The first failures' reasons (at most [`KEPT_FAILURES`]).
    pub failures: Vec<String>,
}

/// How many failure reasons an outcome keeps.
pub const KEPT_FAILURES: usize = 5;

impl LoadOutcome {
    /// Commands answered (any status) per second.
    pub fn commands_per_second(&self) -> f64 {
        (self.acknowledged + self.not_now + self.errors) as f64 / self.seconds.max(f64::EPSILON)
    }

    /// Adds a later run's figures to these (seconds add up: the runs are back to back).
    pub fn absorb(&mut self, later: LoadOutcome) {
        self.sessions += later.sessions;
        self.failed_sessions += later.failed_sessions;
        self.acknowledged += later.acknowledged;
        self.not_now += later.not_now;
        self.errors += later.errors;
        self.new_connections += later.new_connections;
        self.seconds += later.seconds;
        let room = KEPT_FAILURES.saturating_sub(self.failures.len());
        self.failures.extend(later.failures.into_iter().take(room));
    }

    fn add(&mut self, session: Result<(Vec<Handled>, bool), String>) {
        self.sessions += 1;
        match session {
            Ok((handled, reconnected)) => {
                self.new_connections += usize::from(reconnected);
                for h in handled {
                    match h.status {
                        "Acknowledged" => self.acknowledged += 1,
                        "NotNow" => self.not_now += 1,
                        _ => self.errors += 1,
                    }
                }
            }
            Err(why) => {
                self.failed_sessions += 1;
                if self.failures.len() < KEPT_FAILURES {
                    self.failures.push(why);
                }
            }
        }
    }
}

/// Runs one session on every device of `devices`, paced by `plan`; answers the devices (for
/// later rounds) and what happened. Requests are recorded in `stats`.
pub async fn run_sessions(
    devices: Vec<SimDevice>,
    plan: &LoadPlan,
    stats: &Stats,
) -> (Vec<SimDevice>, LoadOutcome) {
    let (limit, interval) = match plan.pace {
        Pace::Closed { concurrency } => (concurrency.max(1), None),
        Pace::Rate {
            per_second,
            max_in_flight,
        } => (
            max_in_flight.max(1),
            Some(Duration::from_secs_f64(1.0 / per_second.max(0.001))),
        ),
    };
    let slots = Arc::new(Semaphore::new(limit));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (index, mut device) in devices.into_iter().enumerate() {
        let scheduled = match interval {
            Some(every) => {
                let at = started + every.mul_f64(index as f64);
                tokio::time::sleep_until(at.into()).await;
                at
            }
            None => Instant::now(),
        };
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            break;
        };
        let reconnect = rand::thread_rng().gen_bool(plan.new_connection_share.clamp(0.0, 1.0));
        let stats = stats.clone();
        tasks.spawn(async move {
            let _slot = slot;
            let result = session(&mut device, reconnect).await;
            stats.record(SESSION, scheduled.elapsed(), result.is_ok());
            (device, result.map(|handled| (handled, reconnect)))
        });
    }
    let mut outcome = LoadOutcome::default();
    let mut done = Vec::with_capacity(tasks.len());
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((device, result)) => {
                outcome.add(result);
                done.push(device);
            }
            Err(panicked) => outcome.add(Err(format!("session task: {panicked}"))),
        }
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    (done, outcome)
}

/// The command cycle benchmark: `rounds` times, queue `commands` copies of `command` (the admin
/// API's JSON form) to every device through `admin`, then run one session per device under
/// `plan`. Every request from then on is recorded in `stats`; `progress` sees each round.
pub async fn command_rounds(
    devices: Vec<SimDevice>,
    admin: &AdminApi,
    command: &serde_json::Value,
    (commands, rounds): (usize, usize),
    plan: &LoadPlan,
    stats: &Stats,
    mut progress: impl FnMut(usize, &LoadOutcome),
) -> anyhow::Result<(Vec<SimDevice>, LoadOutcome)> {
    let ids: Vec<String> = devices.iter().map(SimDevice::enrollment_id).collect();
    let mut devices: Vec<SimDevice> = devices
        .into_iter()
        .map(|d| d.with_stats(stats.clone()))
        .collect();
    let mut total = LoadOutcome::default();
    for round in 1..=rounds {
        for _ in 0..commands {
            admin.enqueue(&ids, command.clone()).await?;
        }
        let (back, outcome) = run_sessions(devices, plan, stats).await;
        devices = back;
        progress(round, &outcome);
        total.absorb(outcome);
    }
    Ok((devices, total))
}

async fn session(device: &mut SimDevice, reconnect: bool) -> Result<Vec<Handled>, String> {
    let id = device.enrollment_id();
    let describe = |e: &dyn std::fmt::Display| format!("{id}: {e}");
    if reconnect {
        device.reconnect().map_err(|e| describe(&e))?;
    }
    device.session().await.map_err(|e| describe(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_count_statuses_and_keep_a_few_failures() {
        let handled = |status| Handled {
            command_uuid: "U".into(),
            request_type: "SecurityInfo".into(),
            status,
        };
        let mut outcome = LoadOutcome::default();
        outcome.add(Ok((vec![handled("Acknowledged"), handled("NotNow")], true)));
        outcome.add(Ok((vec![handled("Error")], false)));
        for n in 0..10 {
            outcome.add(Err(format!("failure {n}")));
        }
        outcome.seconds = 2.0;
        assert_eq!(
            (
                outcome.sessions,
                outcome.failed_sessions,
                outcome.new_connections
            ),
            (12, 10, 1)
        );
        assert_eq!(
            (outcome.acknowledged, outcome.not_now, outcome.errors),
            (1, 1, 1)
        );
        assert_eq!(outcome.failures.len(), KEPT_FAILURES);
        assert_eq!(outcome.commands_per_second(), 1.5);
    }
}
