//! `mdmctl identities renewals`: what became of each device identity announced as near expiry
//! (docs/identities.md) — queued, installed, renewed, or failed and why.

use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::{Api, Span};
use crate::config::Env;
use crate::output;
use crate::table::Table;
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use mdm_api::identities::{IdentityRenewal, RenewalQuery, RenewalStatus};

/// `mdmctl identities ...`
#[derive(Debug, Args)]
pub struct IdentitiesArgs {
    /// What to do.
    #[command(subcommand)]
    pub verb: IdentitiesVerb,
}

/// The verbs of `mdmctl identities`.
#[derive(Debug, Subcommand)]
pub enum IdentitiesVerb {
    /// List identity renewals, newest first: the certificate replaced, its expiry, where the
    /// renewal stands, the new certificate or why it failed. With `-o json`, the API's
    /// IdentityRenewal objects.
    Renewals(RenewalsArgs),
}

/// Options of `identities renewals`.
#[derive(Debug, Args)]
pub struct RenewalsArgs {
    /// Only this device's renewals.
    #[arg(long, value_name = "ID")]
    pub device: Option<String>,
    /// Only renewals in this state.
    #[arg(long, value_enum)]
    pub status: Option<Status>,
    /// How many to list, newest first (the server answers at most 1000).
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
}

/// Where a renewal stands.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Status {
    /// To queue.
    Pending,
    /// The renewal profile waits for the device.
    Queued,
    /// The device acknowledged the profile.
    Installed,
    /// The new certificate is in use.
    Renewed,
    /// It failed.
    Failed,
}

impl From<Status> for RenewalStatus {
    fn from(status: Status) -> RenewalStatus {
        match status {
            Status::Pending => RenewalStatus::Pending,
            Status::Queued => RenewalStatus::Queued,
            Status::Installed => RenewalStatus::Installed,
            Status::Renewed => RenewalStatus::Renewed,
            Status::Failed => RenewalStatus::Failed,
        }
    }
}

/// Runs `mdmctl identities ...`.
pub async fn run(args: IdentitiesArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let api = Api::connect(global, env)?;
    let IdentitiesVerb::Renewals(list) = args.verb;
    let query = RenewalQuery {
        device: list.device,
        status: list.status.map(RenewalStatus::from),
        limit: None,
    };
    let span = Span::first(usize::try_from(list.limit).unwrap_or(usize::MAX));
    let renewals = api
        .identity_renewals(&query, span)
        .await
        .context("listing identity renewals")?;
    match global.output {
        OutputFormat::Json => output::json(&renewals.json),
        OutputFormat::Table => {
            if renewals.is_empty() {
                eprintln!("no identity renewals match");
            }
            output::text(&table(&renewals.items).to_string())
        }
    }
}

/// One row per renewal.
pub fn table(renewals: &[IdentityRenewal]) -> Table {
    let mut table = Table::new([
        "DEVICE",
        "SERIAL",
        "EXPIRES",
        "STATUS",
        "NEW SERIAL",
        "ERROR",
    ]);
    for r in renewals {
        table.row([
            r.device.clone(),
            r.serial.clone(),
            r.not_after.clone().unwrap_or_default(),
            r.status.clone(),
            r.renewed_serial.clone().unwrap_or_default(),
            r.error.clone().unwrap_or_default(),
        ]);
    }
    table
}
