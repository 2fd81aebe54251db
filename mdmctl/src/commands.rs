//! `mdmctl commands send|show|list|cancel`: the command queue.
//!
//! - [`send`]: queue a command (with [`spec`] building it, [`targets`] naming the devices,
//!   [`confirm`] guarding destructive ones, and [`wait`] following the results).
//! - [`results`]: commands, results and histories as text.
//!
//! `show`, `list` and `cancel` are one call each and live here.

pub mod confirm;
pub mod results;
pub mod send;
pub mod spec;
pub mod targets;
pub mod wait;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::Api;
use crate::config::Env;
use crate::output;
use anyhow::Context;
use clap::{Args, Subcommand};
use std::time::SystemTime;
use wait::Tally;

/// `mdmctl commands ...`
#[derive(Debug, Args)]
pub struct CommandsArgs {
    /// What to do.
    #[command(subcommand)]
    pub verb: CommandsVerb,
}

/// The verbs of `mdmctl commands`.
#[derive(Debug, Subcommand)]
pub enum CommandsVerb {
    /// Queue a command for one device, a list of devices, or every enrolled device.
    Send(Box<send::SendArgs>),
    /// Show a command: who queued it and why, and each device's status and result.
    Show {
        /// The CommandUUID (printed by `commands send`).
        uuid: String,
    },
    /// List a device's commands, newest first.
    List {
        /// The device's enrollment ID.
        #[arg(long, value_name = "ID")]
        device: String,
        /// How many commands to list.
        #[arg(long, value_name = "N", default_value_t = 50,
              value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
    /// Withdraw a command from every queue it still waits in (answered deliveries stay).
    Cancel {
        /// The CommandUUID.
        uuid: String,
    },
}

/// Runs `mdmctl commands ...`.
pub async fn run(args: CommandsArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    match args.verb {
        CommandsVerb::Send(send) => send::run(*send, global, env).await,
        CommandsVerb::Show { uuid } => show(&uuid, global, env).await,
        CommandsVerb::List { device, limit } => list(&device, limit, global, env).await,
        CommandsVerb::Cancel { uuid } => cancel(&uuid, global, env).await,
    }
}

/// The command line that shows a command, for hints.
pub fn show_command(uuid: &str) -> String {
    format!("commands show {uuid}")
}

async fn show(uuid: &str, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let api = Api::connect(global, env)?;
    let command = api
        .command(uuid)
        .await
        .with_context(|| format!("reading command {uuid}"))?;
    if global.output == OutputFormat::Json {
        return output::json(&command);
    }
    let tally = Tally::of(&command);
    let mut text = results::header(&command).to_string();
    text.push('\n');
    text.push_str(&results::deliveries(&command));
    let listed = command.deliveries.len();
    if i64::try_from(listed).is_ok_and(|listed| listed < tally.total()) {
        text.push_str(&format!(
            "(the first {listed} of {} devices; -o json has the same)\n",
            tally.total()
        ));
    }
    text.push_str(&format!("{tally}\n"));
    output::text(&text)
}

async fn list(device: &str, limit: u32, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let api = Api::connect(global, env)?;
    let history = api
        .device_commands(device, Some(limit))
        .await
        .with_context(|| format!("listing the commands of {device}"))?;
    match global.output {
        OutputFormat::Json => output::json(&history),
        OutputFormat::Table => {
            if history.deliveries.is_empty() {
                eprintln!("{device} has no commands");
            }
            output::text(&results::history(&history.deliveries, SystemTime::now()).to_string())
        }
    }
}

async fn cancel(uuid: &str, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let api = Api::connect(global, env)?;
    let answer = api
        .cancel(uuid)
        .await
        .with_context(|| format!("cancelling command {uuid}"))?;
    match global.output {
        OutputFormat::Json => output::json(&answer),
        OutputFormat::Table if answer.cancelled == 0 => output::line(&format!(
            "cancelled {uuid}: nothing was waiting (every device had answered)"
        )),
        OutputFormat::Table => output::line(&format!(
            "cancelled {uuid}: withdrawn from {} queue{}",
            answer.cancelled,
            if answer.cancelled == 1 { "" } else { "s" }
        )),
    }
}
