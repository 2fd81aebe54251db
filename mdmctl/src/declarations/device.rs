//! `mdmctl devices declarations|status-items`: one device's side of Declarative Device
//! Management, the declarations it is served with what it reported of each, and the latest value
//! of each status item it reported.

use super::{render, PageArgs, StateArgs};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::Api;
use crate::output;
use anyhow::Context;
use clap::Args;

/// Options of `devices declarations`.
#[derive(Debug, Args)]
pub struct DeclarationsArgs {
    /// Enrollment ID.
    pub id: String,
    /// The state filter.
    #[command(flatten)]
    pub state: StateArgs,
    /// Paging.
    #[command(flatten)]
    pub page: PageArgs,
}

/// `devices declarations ID`.
pub async fn declarations(
    api: &Api,
    args: DeclarationsArgs,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let id = &args.id;
    let states = api
        .device_declarations(id, &args.state.query(), args.page.span())
        .await
        .with_context(|| format!("listing the declarations of {id}"))?;
    match global.output {
        OutputFormat::Json => output::json(&states.json),
        OutputFormat::Table => {
            if states.is_empty() {
                if args.state.state.is_some() {
                    eprintln!("no declarations match");
                } else {
                    eprintln!("{id} is served no declaration: assign it a declaration set (`declaration-sets assign`)");
                }
            }
            output::text(&render::declaration_states(&states.items).to_string())
        }
    }
}

/// `devices status-items ID`.
pub async fn status_items(api: &Api, id: &str, global: &GlobalArgs) -> anyhow::Result<()> {
    let items = api
        .device_status_items(id)
        .await
        .with_context(|| format!("reading the status items of {id}"))?;
    match global.output {
        OutputFormat::Json => output::json(&items.json),
        OutputFormat::Table => {
            match (&items.value.full_report_at, items.value.items.is_empty()) {
                (Some(at), _) => eprintln!("last full report: {at}"),
                (None, true) => eprintln!("{id} has reported no status items"),
                (None, false) => eprintln!("{id} has sent no full status report yet"),
            }
            output::text(&render::status_items(&items.value.items).to_string())
        }
    }
}
