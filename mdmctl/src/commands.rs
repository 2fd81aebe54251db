//! `mdmctl commands send|show|list|cancel`: the command queue.
//!
//! - [`send`]: queue a command (with [`spec`] building it, [`targets`] naming the devices,
//!   [`confirm`] guarding destructive ones, and [`wait`] following it).
//! - [`show`]: a command and its deliveries ([`snapshot`]); [`list`]: commands, or a device's
//!   history; [`cancel`]: withdraw one.
//! - [`results`]: commands, results and histories as text.

pub mod cancel;
pub mod confirm;
pub mod describe;
pub mod list;
pub mod results;
pub mod send;
pub mod show;
pub mod snapshot;
pub mod spec;
pub mod targets;
pub mod wait;

use crate::cli::GlobalArgs;
use crate::config::Env;
use clap::{Args, Subcommand};

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
    #[command(after_long_help = spec::request_types_help())]
    Send(Box<send::SendArgs>),
    /// Show a command: who queued it and why, and each device's status and result. With
    /// `-o json`, `{"command": ..., "deliveries": [...]}` as the API sent them.
    Show(show::ShowArgs),
    /// List commands, newest first; with --device, that device's commands and their status.
    /// With `-o json`, an array of the API's Command (or Delivery) objects.
    List(list::ListArgs),
    /// Describe a request type from Apple's schema: where it runs, and every key with its type,
    /// whether it is required and its allowed values. With `-o json`, the catalogue's entry.
    Describe {
        /// The RequestType (any case).
        request_type: String,
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
        CommandsVerb::Show(show) => show::run(show, global, env).await,
        CommandsVerb::List(list) => list::run(list, global, env).await,
        CommandsVerb::Cancel { uuid } => cancel::run(&uuid, global, env).await,
        CommandsVerb::Describe { request_type } => describe::run(&request_type, global),
    }
}

/// The command line that shows a command, for hints.
pub fn show_command(uuid: &str) -> String {
    format!("commands show {uuid}")
}
