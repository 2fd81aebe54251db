//! `mdmctl commands list`: the commands queued through the API, newest first, filtered by the
//! server; or, with --device, one device's commands (its deliveries) and where each stands.

use super::results;
use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::{Api, Span};
use crate::config::Env;
use crate::output;
use anyhow::Context;
use clap::Args;
use mdm_api::commands::CommandQuery;
use std::time::SystemTime;

/// Options of `commands list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// A device's commands instead, with the status of each for that device.
    #[arg(long, value_name = "ID", conflicts_with_all = ["request_type", "requested_by"])]
    pub device: Option<String>,
    /// Only commands of this RequestType, e.g. EraseDevice.
    #[arg(long, value_name = "TYPE")]
    pub request_type: Option<String>,
    /// Only commands queued with this admin token (its name).
    #[arg(long, value_name = "NAME")]
    pub requested_by: Option<String>,
    /// How many to list, newest first.
    #[arg(long, value_name = "N", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: u32,
}

/// Runs `mdmctl commands list`.
pub async fn run(args: ListArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let api = Api::connect(global, env)?;
    let span = Span::first(usize::try_from(args.limit).unwrap_or(usize::MAX));
    let now = SystemTime::now();
    let (json, table, empty) = match &args.device {
        Some(device) => {
            let history = api
                .device_commands(device, span)
                .await
                .with_context(|| format!("listing the commands of {device}"))?;
            let table = results::history(&history.items, now);
            (history.json, table, format!("{device} has no commands"))
        }
        None => {
            let query = CommandQuery {
                request_type: args.request_type.clone(),
                requested_by: args.requested_by.clone(),
                ..CommandQuery::default()
            };
            let commands = api
                .commands(&query, span)
                .await
                .context("listing commands")?;
            let table = results::commands(&commands.items, now);
            (commands.json, table, "no commands match".to_owned())
        }
    };
    match global.output {
        OutputFormat::Json => output::json(&json),
        OutputFormat::Table => {
            if json.is_empty() {
                eprintln!("{empty}");
            }
            output::text(&table.to_string())
        }
    }
}
