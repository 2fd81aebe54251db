//! `mdmctl commands send`: build the command, check what can be checked without the server,
//! resolve the targets, confirm a destructive command, queue it, and with `--wait` follow it.

use super::confirm::confirm;
use super::show_command;
use super::snapshot::Snapshot;
use super::spec::{self, CommandFlags};
use super::targets::Targets;
use super::wait::{self, Tally};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::Api;
use crate::config::Env;
use crate::duration::{parse_duration, parse_timestamp, ttl};
use crate::exit::{Failure, UsageError};
use crate::output;
use anyhow::Context;
use clap::Args;
use mdm_api::commands::{EnqueueRequest, Enqueued, ExpiresAt, Expiry};
use mdm_core::commands::is_destructive;
use serde_json::{Map, Value};
use std::time::Duration;

/// Devices whose results `--wait` prints at most (the tally counts every one).
const WAIT_LISTED: usize = 1000;

/// `mdmctl commands send <REQUEST_TYPE> ...`
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The RequestType, as Apple spells it (case-insensitive): any of Apple's schema, listed
    /// at the end of --help with where each runs and its keys.
    pub request_type: String,

    /// Which devices.
    #[command(flatten)]
    pub targets: Targets,

    /// The command's own settings.
    #[command(flatten)]
    pub command: CommandFlags,

    /// Why; recorded with the command. Required for destructive commands (EraseDevice,
    /// DeviceLock, ClearPasscode, ...).
    #[arg(long)]
    pub reason: Option<String>,

    /// Priority: higher is served first; equal priorities in queue order.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub priority: i32,

    /// Never serve the command after this long, e.g. 1h or 7d.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub ttl: Option<Duration>,

    /// Never serve the command after this time (RFC 3339, e.g. 2026-12-01T00:00:00Z).
    #[arg(long, value_name = "TIME", value_parser = parse_time, conflicts_with = "ttl")]
    pub expires_at: Option<String>,

    /// Do not wake the devices now: they get the command at their next check-in or push.
    #[arg(long)]
    pub no_push: bool,

    /// A key that makes a retry of this exact send answer the first command instead of
    /// queueing it twice.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,

    /// Also queue for devices the server does not know yet (they get the command at their first
    /// enrollment). Without it, an unknown or checked-out device fails the send, named in the
    /// error, and nothing is queued.
    #[arg(long)]
    pub allow_unknown: bool,

    /// Also queue for devices that cannot run the command by Apple's schema (their platform, OS
    /// version, supervision or channel, as last reported); they are named in a warning. Without
    /// it, such a device fails the send, named with the reason, and nothing is queued.
    #[arg(long)]
    pub allow_unsupported: bool,

    /// Send a destructive command without asking for confirmation (required when stdin is not
    /// a terminal).
    #[arg(short, long)]
    pub yes: bool,

    /// Follow the results until every device answered or --timeout passed, then print each
    /// device's result. Exit code 1 unless every device acknowledged.
    #[arg(long)]
    pub wait: bool,

    /// How long --wait follows the results.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration,
          requires = "wait")]
    pub timeout: Duration,
}

/// Runs `mdmctl commands send`.
pub async fn run(args: SendArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let built = spec::build(&args.request_type, &args.command)?;
    let request_type = built.request_type.as_str();
    let destructive = is_destructive(request_type);
    let reason = args
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    // The server refuses these too, but only after the confirmation was asked for.
    if destructive && reason.is_none() {
        return Err(UsageError::new(format!(
            "{request_type} is destructive and needs --reason \"...\" (it is recorded with the command)"
        ))
        .into());
    }
    let api = Api::connect(global, env)?;
    let devices = args.targets.resolve(&api).await?;
    if request_type == "ClearPasscode" && devices.len() != 1 {
        return Err(UsageError::new(format!(
            "ClearPasscode goes to exactly one device, not {}",
            devices.len()
        ))
        .into());
    }
    if destructive {
        confirm(request_type, &devices, args.yes)?;
    }

    let body = enqueue_body(devices, built.command, &args, reason);
    let queued = api
        .enqueue(&body)
        .await
        .with_context(|| format!("queueing {request_type}"))?;
    let line = queued_line(&queued.value);
    if let Some(note) = push_note(&queued.value) {
        eprintln!("{note}");
    }
    for warning in &queued.value.warnings {
        eprintln!("warning: queued although it cannot run there: {warning}");
    }
    if !args.wait {
        return match global.output {
            OutputFormat::Json => output::json(&queued.json),
            OutputFormat::Table => output::line(&line),
        };
    }

    // Said before waiting, so the UUID is known even if the wait is interrupted.
    eprintln!(
        "{line}; waiting up to {}",
        humantime::format_duration(args.timeout)
    );
    let uuid = &queued.value.command_uuid;
    wait::follow(&api, uuid, args.timeout).await?;
    let snapshot = Snapshot::read(&api, uuid, None, WAIT_LISTED)
        .await
        .with_context(|| format!("reading the results of command {uuid}"))?;
    match global.output {
        OutputFormat::Json => output::json(&snapshot.json())?,
        OutputFormat::Table => output::text(&snapshot.results())?,
    }
    outcome(uuid, &snapshot.tally, args.timeout)
}

/// `queued <type> <uuid> for N devices`, and whether an earlier send already did.
fn queued_line(queued: &Enqueued) -> String {
    let again = if queued.duplicate {
        " (already queued earlier with this idempotency key)"
    } else {
        ""
    };
    let plural = if queued.targets == 1 {
        "device"
    } else {
        "devices"
    };
    format!(
        "queued {} {} for {} {plural}{again}",
        queued.request_type, queued.command_uuid, queued.targets
    )
}

/// A note when the wake-up push did not reach every device (the command stays queued for
/// their next check-in either way).
fn push_note(queued: &Enqueued) -> Option<String> {
    let push = &queued.push;
    if let Some(error) = &push.error {
        return Some(format!("note: the devices were not pushed: {error}"));
    }
    if !push.attempted || push.not_delivered == 0 {
        return None;
    }
    let outcomes: Vec<String> = push
        .outcomes
        .iter()
        .filter(|(outcome, _)| outcome.as_str() != "delivered")
        .map(|(outcome, n)| format!("{outcome} {n}"))
        .collect();
    Some(format!(
        "note: {} of {} devices were not pushed ({}); they get the command at their next check-in",
        push.not_delivered,
        push.delivered + push.not_delivered,
        outcomes.join(", ")
    ))
}

/// The `POST /v1/commands` body.
fn enqueue_body(
    devices: Vec<String>,
    command: Map<String, Value>,
    args: &SendArgs,
    reason: Option<&str>,
) -> EnqueueRequest {
    let expiry = match (&args.expires_at, args.ttl) {
        (Some(at), _) => Some(Expiry::At(ExpiresAt {
            expires_at: at.clone(),
        })),
        (None, Some(lifetime)) => Some(ttl(lifetime)),
        (None, None) => None,
    };
    EnqueueRequest {
        devices,
        command,
        priority: args.priority,
        expiry,
        idempotency_key: args.idempotency_key.clone(),
        reason: reason.map(str::to_owned),
        push: args.no_push.then_some(false),
        allow_unknown: args.allow_unknown.then_some(true),
        allow_unsupported: args.allow_unsupported.then_some(true),
    }
}

/// An RFC 3339 time, as given.
fn parse_time(text: &str) -> Result<String, String> {
    match parse_timestamp(text.trim()) {
        Some(_) => Ok(text.trim().to_owned()),
        None => Err(format!(
            "{text:?} is not an RFC 3339 time; write e.g. 2026-12-01T00:00:00Z"
        )),
    }
}

/// Success only when every device acknowledged: a script that waited can trust exit code 0.
fn outcome(uuid: &str, tally: &Tally, timeout: Duration) -> anyhow::Result<()> {
    if !tally.done() {
        return Err(Failure {
            message: format!(
                "timed out after {}: {} of {} devices have not answered",
                humantime::format_duration(timeout),
                tally.outstanding(),
                tally.total()
            ),
            hint: Some(format!(
                "the command stays queued; follow it with `mdmctl {}`",
                show_command(uuid)
            )),
        }
        .into());
    }
    if !tally.all_acknowledged() {
        return Err(Failure {
            message: format!(
                "{} of {} devices did not acknowledge",
                tally.total() - tally.acknowledged,
                tally.total()
            ),
            hint: Some("the results above say why for each device".into()),
        }
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_full_acknowledgement_succeeds() {
        let ok = Tally {
            acknowledged: 2,
            ..Tally::default()
        };
        assert!(outcome("u", &ok, Duration::from_secs(1)).is_ok());
        let failed = Tally {
            acknowledged: 1,
            error: 1,
            ..Tally::default()
        };
        let error = outcome("u", &failed, Duration::from_secs(1)).expect_err("an error");
        assert!(error
            .to_string()
            .contains("1 of 2 devices did not acknowledge"));
        let late = Tally {
            acknowledged: 1,
            queued: 1,
            not_now: Some(1),
            ..Tally::default()
        };
        let error = outcome("u", &late, Duration::from_secs(300)).expect_err("timed out");
        assert!(
            error.to_string().starts_with("timed out after 5m: 1 of 2"),
            "{error}"
        );
        assert!(crate::exit::hint_of(&error).is_some_and(|h| h.contains("commands show u")));
    }

    fn send_args(extra: &[&str]) -> SendArgs {
        use crate::cli::{Cli, Noun};
        use clap::Parser;
        let argv = ["mdmctl", "commands", "send", "ProfileList", "--device", "U"];
        let cli = Cli::try_parse_from(argv.iter().chain(extra)).expect("parses");
        match cli.noun {
            Noun::Commands(super::super::CommandsArgs {
                verb: super::super::CommandsVerb::Send(args),
            }) => *args,
            other => panic!("not commands send: {other:?}"),
        }
    }

    #[test]
    fn the_body_carries_only_what_was_given() {
        let body = |extra: &[&str]| {
            let args = send_args(extra);
            let body = enqueue_body(vec!["U".into()], Map::new(), &args, None);
            serde_json::to_value(body).expect("json")
        };
        let plain = body(&[]);
        assert_eq!(plain["expiry"], Value::Null);
        assert_eq!(plain["push"], Value::Null);
        assert_eq!(plain["allow_unknown"], Value::Null);
        assert_eq!(
            body(&["--ttl", "1500ms"])["expiry"],
            serde_json::json!({"ttl_seconds": 2})
        );
        assert_eq!(
            body(&["--expires-at", "2030-01-01T00:00:00Z"])["expiry"],
            serde_json::json!({"expires_at": "2030-01-01T00:00:00Z"})
        );
        let flags = body(&["--no-push", "--allow-unknown", "--priority", "-5"]);
        assert_eq!(
            (&flags["push"], &flags["allow_unknown"], &flags["priority"]),
            (
                &Value::Bool(false),
                &Value::Bool(true),
                &serde_json::json!(-5)
            )
        );
        assert!(parse_time("next week").is_err());
    }

    #[test]
    fn a_push_that_missed_devices_is_noted() {
        let mut queued: Enqueued = serde_json::from_value(serde_json::json!({
            "command_uuid": "C1", "request_type": "ProfileList", "targets": 3,
            "duplicate": false,
            "push": {"attempted": true, "delivered": 3, "not_delivered": 0, "outcomes": {}},
        }))
        .expect("Enqueued");
        assert_eq!(push_note(&queued), None);
        assert_eq!(queued_line(&queued), "queued ProfileList C1 for 3 devices");
        queued.push.delivered = 1;
        queued.push.not_delivered = 2;
        queued.push.outcomes = [("delivered".to_owned(), 1), ("no_target".to_owned(), 2)]
            .into_iter()
            .collect();
        let note = push_note(&queued).expect("a note");
        assert!(
            note.contains("2 of 3 devices were not pushed (no_target 2)"),
            "{note}"
        );
    }
}
