//! `mdmctl commands show UUID`: the command's header, each listed device's status and result,
//! and the tally over every device.

use super::results;
use super::snapshot::Snapshot;
use crate::cli::{api_enum, GlobalArgs, OutputFormat};
use crate::client::Api;
use crate::config::Env;
use crate::output;
use anyhow::Context;
use clap::Args;
use mdm_api::commands::DeliveryStatus;

/// Options of `commands show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The CommandUUID (printed by `commands send`).
    pub uuid: String,
    /// Only the devices whose delivery is in this state: queued, acknowledged, error,
    /// command_format_error, cancelled, expired or superseded.
    #[arg(long, value_name = "STATUS", value_parser = api_enum::<DeliveryStatus>)]
    pub status: Option<DeliveryStatus>,
    /// Devices listed at most, in enrollment-ID order (the tally counts every one).
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: u32,
}

/// Runs `mdmctl commands show`.
pub async fn run(args: ShowArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let api = Api::connect(global, env)?;
    let listed = usize::try_from(args.limit).unwrap_or(usize::MAX);
    let snapshot = Snapshot::read(&api, &args.uuid, args.status, listed)
        .await
        .with_context(|| format!("reading command {}", args.uuid))?;
    if global.output == OutputFormat::Json {
        return output::json(&snapshot.json());
    }
    let mut text = results::header(&snapshot.command.value).to_string();
    text.push('\n');
    text.push_str(&snapshot.results());
    output::text(&text)
}
