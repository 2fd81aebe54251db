//! `--wait`: follow a command's `status_counts` (`GET /v1/commands/{uuid}`) until no device
//! still has it queued, or the deadline passes; a progress bar on a terminal when there are
//! several devices. [`Tally`] is where the deliveries stand, here and in `commands show`.

use crate::client::Api;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mdm_api::commands::{Command, DeliveryStatus};
use std::fmt;
use std::io::IsTerminal;
use std::time::Duration;
use tokio::time::Instant;

/// First pause between polls; it grows to [`MAX_POLL`] so a long wait does not hammer the
/// server while a quick answer is still seen quickly.
const FIRST_POLL: Duration = Duration::from_millis(200);
/// Longest pause between polls.
const MAX_POLL: Duration = Duration::from_secs(2);

/// Where the deliveries of a command stand, from its `status_counts` (every target).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Answered Acknowledged.
    pub acknowledged: u64,
    /// Answered Error or CommandFormatError.
    pub error: u64,
    /// Still queued.
    pub queued: u64,
    /// Of those queued, the ones whose device answered NotNow at least once: the counts do not
    /// say, so this is counted from listed deliveries, when they were read.
    pub not_now: Option<u64>,
    /// Withdrawn before the device answered.
    pub cancelled: u64,
    /// Expired before the device answered.
    pub expired: u64,
    /// Queued before the device re-enrolled, never sent.
    pub superseded: u64,
}

impl Tally {
    /// The tally of `command`'s counts; `not_now` as counted among its queued deliveries.
    pub fn of(command: &Command, not_now: Option<u64>) -> Tally {
        let mut tally = Tally::default();
        for status in DeliveryStatus::ALL {
            let n = command
                .status_counts
                .get(status.as_str())
                .copied()
                .map_or(0, u64::from);
            // Every status by name: one added to the API must be placed here.
            let bucket = match status {
                DeliveryStatus::Queued => &mut tally.queued,
                DeliveryStatus::Acknowledged => &mut tally.acknowledged,
                DeliveryStatus::Error | DeliveryStatus::CommandFormatError => &mut tally.error,
                DeliveryStatus::Cancelled => &mut tally.cancelled,
                DeliveryStatus::Expired => &mut tally.expired,
                DeliveryStatus::Superseded => &mut tally.superseded,
            };
            *bucket += n;
        }
        tally.not_now = not_now.map(|n| n.min(tally.queued));
        tally
    }

    /// Every target.
    pub fn total(&self) -> u64 {
        self.acknowledged
            + self.error
            + self.queued
            + self.cancelled
            + self.expired
            + self.superseded
    }

    /// Targets still waiting for an answer.
    pub fn outstanding(&self) -> u64 {
        self.queued
    }

    /// Whether every target has a final status.
    pub fn done(&self) -> bool {
        self.queued == 0
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
            "Acknowledged {}, Error {}",
            self.acknowledged, self.error
        )?;
        match self.not_now {
            Some(not_now) => write!(f, ", NotNow {not_now}, pending {}", self.queued - not_now)?,
            None => write!(f, ", queued {}", self.queued)?,
        }
        for (name, n) in [
            ("cancelled", self.cancelled),
            ("expired", self.expired),
            ("superseded", self.superseded),
        ] {
            if n > 0 {
                write!(f, ", {name} {n}")?;
            }
        }
        Ok(())
    }
}

/// Polls `uuid` until no delivery is queued or `timeout` passes. A transient failure (a service
/// restarting) is retried until the deadline: a long wait should outlive a rolling restart of
/// the server. What the command came to is read afterwards, with its deliveries.
pub async fn follow(api: &Api, uuid: &str, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let mut pause = FIRST_POLL;
    let mut bar: Option<ProgressBar> = None;
    let mut retrying = false;
    loop {
        match api.command(uuid).await {
            Ok(command) => {
                retrying = false;
                let tally = Tally::of(&command.value, None);
                if bar.is_none() && tally.total() > 1 && std::io::stderr().is_terminal() {
                    bar = Some(progress_bar(tally.total()));
                }
                if let Some(bar) = &bar {
                    bar.set_position(tally.total() - tally.outstanding());
                    bar.set_message(tally.to_string());
                }
                if tally.done() {
                    break;
                }
            }
            Err(error) if error.is_transient() && Instant::now() < deadline => {
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
    Ok(())
}

fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
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
    use serde_json::json;

    fn command(counts: serde_json::Value) -> Command {
        serde_json::from_value(json!({
            "command_uuid": "C1", "request_type": "ProfileList", "priority": 0,
            "status_counts": counts,
        }))
        .expect("a Command")
    }

    #[test]
    fn a_tally_splits_queued_into_not_now_and_pending() {
        let command = command(json!({"queued": 3, "acknowledged": 4, "command_format_error": 1}));
        let tally = Tally::of(&command, Some(1));
        assert_eq!(
            (tally.acknowledged, tally.error, tally.queued, tally.not_now),
            (4, 1, 3, Some(1))
        );
        assert_eq!(tally.total(), 8);
        assert!(!tally.done());
        assert_eq!(
            tally.to_string(),
            "Acknowledged 4, Error 1, NotNow 1, pending 2"
        );
        assert_eq!(
            Tally::of(&command, None).to_string(),
            "Acknowledged 4, Error 1, queued 3"
        );
        assert_eq!(
            Tally::of(&command, Some(9)).not_now,
            Some(3),
            "never over queued"
        );
    }

    #[test]
    fn done_when_nothing_is_queued() {
        let tally = Tally::of(
            &command(json!({"acknowledged": 2, "expired": 1, "superseded": 1})),
            Some(0),
        );
        assert!(tally.done() && !tally.all_acknowledged());
        assert_eq!(tally.total(), 4);
        assert!(tally
            .to_string()
            .ends_with("pending 0, expired 1, superseded 1"));
    }
}
