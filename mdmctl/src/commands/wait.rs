//! `--wait`: follow a command's deliveries (`GET /v1/commands/{uuid}`) until no device still
//! has it queued, or the deadline passes; a progress bar on a terminal when there are several
//! devices.

use crate::client::model::Command;
use crate::client::Api;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fmt;
use std::io::IsTerminal;
use std::time::Duration;
use tokio::time::Instant;

/// First pause between polls; it grows to [`MAX_POLL`] so a long wait does not hammer the
/// server while a quick answer is still seen quickly.
const FIRST_POLL: Duration = Duration::from_millis(200);
/// Longest pause between polls.
const MAX_POLL: Duration = Duration::from_secs(2);

/// Where the deliveries of a command stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Answered Acknowledged.
    pub acknowledged: i64,
    /// Answered Error or CommandFormatError.
    pub error: i64,
    /// Still queued after the device answered NotNow at least once.
    pub not_now: i64,
    /// Still queued, never answered.
    pub pending: i64,
    /// Withdrawn before the device answered.
    pub cancelled: i64,
    /// Expired before the device answered.
    pub expired: i64,
}

impl Tally {
    /// The tally of `command`: totals from `status_counts` (every target); NotNow from the
    /// deliveries listed, the only place it shows (at most the first 1000 targets).
    pub fn of(command: &Command) -> Tally {
        let count = |status: &str| command.status_counts.get(status).copied().unwrap_or(0);
        let queued = count("queued");
        let not_now = command
            .deliveries
            .iter()
            .filter(|d| d.status == "queued" && d.not_now_count > 0)
            .count();
        let not_now = i64::try_from(not_now).unwrap_or(i64::MAX).min(queued);
        Tally {
            acknowledged: count("acknowledged"),
            error: count("error") + count("command_format_error"),
            not_now,
            pending: queued - not_now,
            cancelled: count("cancelled"),
            expired: count("expired"),
        }
    }

    /// Every target.
    pub fn total(&self) -> i64 {
        self.acknowledged + self.error + self.not_now + self.pending + self.cancelled + self.expired
    }

    /// Targets still waiting for an answer.
    pub fn outstanding(&self) -> i64 {
        self.not_now + self.pending
    }

    /// Whether every target has a final status.
    pub fn done(&self) -> bool {
        self.outstanding() == 0
    }

    /// Whether every target acknowledged.
    pub fn all_acknowledged(&self) -> bool {
        self.acknowledged == self.total()
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Acknowledged {}, Error {}, NotNow {}, pending {}",
            self.acknowledged, self.error, self.not_now, self.pending
        )?;
        if self.cancelled > 0 {
            write!(f, ", cancelled {}", self.cancelled)?;
        }
        if self.expired > 0 {
            write!(f, ", expired {}", self.expired)?;
        }
        Ok(())
    }
}

/// Polls `uuid` until it is done or `timeout` passes; returns the last state read. A transient
/// failure (a service restarting) is retried until the deadline: a long wait should outlive a
/// rolling restart of the server.
pub async fn follow(api: &Api, uuid: &str, timeout: Duration) -> anyhow::Result<Command> {
    let deadline = Instant::now() + timeout;
    let mut pause = FIRST_POLL;
    let mut bar: Option<ProgressBar> = None;
    let mut last: Option<Command> = None;
    let mut retrying = false;
    loop {
        let read = api.command(uuid).await;
        let may_retry = last.is_some() || Instant::now() < deadline;
        match read {
            Ok(command) => {
                retrying = false;
                let tally = Tally::of(&command);
                if bar.is_none() && tally.total() > 1 && std::io::stderr().is_terminal() {
                    bar = Some(progress_bar(tally.total()));
                }
                if let Some(bar) = &bar {
                    let answered = tally.total() - tally.outstanding();
                    bar.set_position(u64::try_from(answered).unwrap_or(0));
                    bar.set_message(tally.to_string());
                }
                let done = finished(&command, &tally);
                last = Some(command);
                if done {
                    break;
                }
            }
            Err(error) if error.is_transient() && may_retry => {
                // Said once per outage, not at every poll.
                if !retrying {
                    let note = format!("{error}; retrying until the timeout");
                    match &bar {
                        Some(bar) => bar.println(note),
                        None => eprintln!("{note}"),
                    }
                }
                retrying = true;
            }
            Err(error) => {
                return Err(error).with_context(|| format!("following command {uuid}"));
            }
        }
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 3 / 2).min(MAX_POLL);
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match last {
        Some(command) => Ok(command),
        // Every read failed transiently until the deadline: read once more for the error.
        None => api
            .command(uuid)
            .await
            .with_context(|| format!("following command {uuid}")),
    }
}

/// Whether every delivery is final, by the counts and by the deliveries listed. command-svc
/// reads the two separately, so one answer can hold a delivery still queued next to counts
/// that already include its acknowledgement; such a mixed answer is read again rather than
/// printed as the outcome.
fn finished(command: &Command, tally: &Tally) -> bool {
    tally.done() && command.deliveries.iter().all(|d| d.status != "queued")
}

fn progress_bar(total: i64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(u64::try_from(total).unwrap_or(0)),
        ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} answered  {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::model::Delivery;

    fn delivery(status: &str, not_now: i64) -> Delivery {
        Delivery {
            status: status.into(),
            not_now_count: not_now,
            ..Delivery::default()
        }
    }

    #[test]
    fn a_tally_splits_queued_into_not_now_and_pending() {
        let command = Command {
            status_counts: [
                ("queued", 3),
                ("acknowledged", 4),
                ("command_format_error", 1),
            ]
            .into_iter()
            .map(|(s, n)| (s.to_owned(), n))
            .collect(),
            deliveries: vec![
                delivery("queued", 2),
                delivery("queued", 0),
                delivery("queued", 0),
                delivery("acknowledged", 1),
            ],
            ..Command::default()
        };
        let tally = Tally::of(&command);
        assert_eq!(
            (
                tally.acknowledged,
                tally.error,
                tally.not_now,
                tally.pending
            ),
            (4, 1, 1, 2)
        );
        assert_eq!(tally.total(), 8);
        assert!(!tally.done());
        assert_eq!(
            tally.to_string(),
            "Acknowledged 4, Error 1, NotNow 1, pending 2"
        );
    }

    #[test]
    fn a_mixed_answer_is_not_finished() {
        // Regression: counts said all acknowledged while a listed delivery was still queued.
        let command = Command {
            status_counts: [("acknowledged".to_owned(), 2)].into_iter().collect(),
            deliveries: vec![delivery("queued", 0), delivery("acknowledged", 0)],
            ..Command::default()
        };
        let tally = Tally::of(&command);
        assert!(tally.done() && !finished(&command, &tally));
    }

    #[test]
    fn done_when_nothing_is_queued() {
        let command = Command {
            status_counts: [("acknowledged".to_owned(), 2), ("expired".to_owned(), 1)]
                .into_iter()
                .collect(),
            ..Command::default()
        };
        let tally = Tally::of(&command);
        assert!(tally.done() && !tally.all_acknowledged());
        assert!(tally.to_string().ends_with("pending 0, expired 1"));
    }
}
