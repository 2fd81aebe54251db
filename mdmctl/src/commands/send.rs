//! `mdmctl commands send`: build the command, check what can be checked without the server,
//! resolve the targets, confirm a destructive command, queue it, and with `--wait` follow it.

use super::confirm::confirm;
use super::spec::{self, CommandFlags};
use super::targets::Targets;
use super::wait::{self, Tally};
use super::{results, show_command};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::Api;
use crate::config::Env;
use crate::duration::parse_duration;
use crate::exit::{Failure, UsageError};
use crate::output;
use anyhow::Context;
use clap::Args;
use mdm_core::commands::is_destructive;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// `mdmctl commands send <REQUEST_TYPE> ...`
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The RequestType, as Apple spells it (case-insensitive for the typed ones):
    /// DeviceInformation, SecurityInfo, ProfileList, InstalledApplicationList, CertificateList,
    /// ProvisioningProfileList, InstallProfile, RemoveProfile, InstallProvisioningProfile,
    /// DeviceLock, EraseDevice, ClearPasscode, RestartDevice, ShutDownDevice; any other with
    /// --plist.
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

    /// A key that makes a retry of this exact send answer the first command instead of
    /// queueing it twice.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,

    /// Also queue for devices the server does not know yet (they get the command at their first
    /// enrollment). Without it, an unknown or checked-out device fails the send, named in the
    /// error, and nothing is queued.
    #[arg(long)]
    pub allow_unknown: bool,

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

    let body = enqueue_body(&devices, built.command, &args, reason);
    let queued = api
        .enqueue(&body)
        .await
        .with_context(|| format!("queueing {request_type}"))?;
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
    let line = format!(
        "queued {} {} for {} {plural}{again}",
        queued.request_type, queued.command_uuid, queued.targets
    );
    if !args.wait {
        return match global.output {
            OutputFormat::Json => output::json(&queued),
            OutputFormat::Table => output::line(&line),
        };
    }

    // Said before waiting, so the UUID is known even if the wait is interrupted.
    eprintln!(
        "{line}; waiting up to {}",
        humantime::format_duration(args.timeout)
    );
    let command = wait::follow(&api, &queued.command_uuid, args.timeout).await?;
    let tally = Tally::of(&command);
    match global.output {
        OutputFormat::Json => output::json(&command)?,
        OutputFormat::Table => {
            output::text(&results::deliveries(&command))?;
            output::line(&tally.to_string())?;
        }
    }
    outcome(&command.command_uuid, &tally, args.timeout)
}

/// The `POST /v1/commands` body; optional fields only when given.
fn enqueue_body(
    devices: &[String],
    command: Value,
    args: &SendArgs,
    reason: Option<&str>,
) -> Value {
    let mut body = Map::new();
    body.insert("devices".into(), json!(devices));
    body.insert("command".into(), command);
    if args.priority != 0 {
        body.insert("priority".into(), json!(args.priority));
    }
    if let Some(ttl) = args.ttl {
        // The API counts whole seconds; round up so that "500ms" does not become "expired".
        let secs = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
        body.insert("ttl_seconds".into(), json!(secs));
    }
    if let Some(key) = &args.idempotency_key {
        body.insert("idempotency_key".into(), json!(key));
    }
    if let Some(reason) = reason {
        body.insert("reason".into(), json!(reason));
    }
    if args.allow_unknown {
        body.insert("allow_unknown".into(), json!(true));
    }
    Value::Object(body)
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
            not_now: 1,
            ..Tally::default()
        };
        let error = outcome("u", &late, Duration::from_secs(300)).expect_err("timed out");
        assert!(
            error.to_string().starts_with("timed out after 5m: 1 of 2"),
            "{error}"
        );
        assert!(crate::exit::hint_of(&error).is_some_and(|h| h.contains("commands show u")));
    }
}
