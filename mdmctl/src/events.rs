//! `mdmctl events list|show`: the events admin-svc received from the services, oldest first,
//! as webhooks of format `mdm` are sent them; for checking what a receiver should have got, or
//! for polling instead of receiving.

use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::{Api, Span};
use crate::config::Env;
use crate::output;
use crate::record;
use crate::table::Table;
use anyhow::Context;
use clap::{Args, Subcommand};
use mdm_api::webhooks::{Event, EventQuery};
use serde_json::Value;

/// The fields `events show` puts first.
const SHOWN_FIRST: &[&str] = &["id", "type", "occurred_at", "source", "enrollment_id"];

/// The data fields a row shows, when the event has them: what a person looks for in a list.
const SUMMARY_FIELDS: &[&str] = &["request_type", "command_uuid", "status", "reason"];

/// `mdmctl events ...`
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// What to do.
    #[command(subcommand)]
    pub verb: EventsVerb,
}

/// The verbs of `mdmctl events`.
#[derive(Debug, Subcommand)]
pub enum EventsVerb {
    /// List events, oldest first (the server keeps them for its configured retention). With
    /// `-o json`, an array of the API's Event objects, `data` included.
    List(ListArgs),
    /// Show every field of one event, its data flattened.
    Show {
        /// The event's ID (from `events list`, or a webhook body's `id`).
        id: String,
    },
}

/// Options of `events list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this enrollment's events.
    #[arg(long, value_name = "ID")]
    pub device: Option<String>,
    /// Only events of this type, e.g. command.acknowledged or enrollment.authenticated.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// How many to list, oldest first.
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: u32,
    /// Every one, however many pages.
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
}

/// Runs `mdmctl events ...`.
pub async fn run(args: EventsArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let api = Api::connect(global, env)?;
    match args.verb {
        EventsVerb::List(list) => {
            let query = EventQuery {
                device: list.device,
                kind: list.kind,
                ..EventQuery::default()
            };
            let span = if list.all {
                Span::all(1000)
            } else {
                Span::first(usize::try_from(list.limit).unwrap_or(usize::MAX))
            };
            let events = api.events(&query, span).await.context("listing events")?;
            match global.output {
                OutputFormat::Json => output::json(&events.json),
                OutputFormat::Table => {
                    if events.is_empty() {
                        eprintln!("no events match");
                    } else if events.more {
                        eprintln!(
                            "the {} oldest are shown: --limit N for more, --all for every one",
                            events.len()
                        );
                    }
                    output::text(&table(&events.items).to_string())
                }
            }
        }
        EventsVerb::Show { id } => {
            let event = api
                .event(&id)
                .await
                .with_context(|| format!("reading event {id}"))?;
            match global.output {
                OutputFormat::Json => output::json(&event.json),
                OutputFormat::Table => {
                    output::text(&record::rows(&event.json, SHOWN_FIRST).to_string())
                }
            }
        }
    }
}

/// One row per event: when, what, which device, and the data a person looks for.
pub fn table(events: &[Event]) -> Table {
    let mut table = Table::new(["OCCURRED", "TYPE", "DEVICE", "SOURCE", "ID", "DATA"]);
    for e in events {
        table.row([
            e.occurred_at.clone().unwrap_or_default(),
            e.kind.clone(),
            e.enrollment_id.clone(),
            e.source.clone(),
            e.id.clone(),
            summary(e),
        ]);
    }
    table
}

/// `key=value` for the data fields of [`SUMMARY_FIELDS`] the event has; the rest (a device's
/// raw payload among them) is for `events show` and `-o json`.
fn summary(event: &Event) -> String {
    SUMMARY_FIELDS
        .iter()
        .filter_map(|name| match event.data.get(*name) {
            None | Some(Value::Null) => None,
            Some(value) => Some(format!("{name}={}", record::text(Some(value)))),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_row_summarises_the_data() {
        let event: Event = serde_json::from_value(json!({
            "id": "E1", "type": "command.acknowledged", "occurred_at": "2026-11-21T12:00:00Z",
            "source": "command-svc", "enrollment_id": "UDID-1",
            "data": {"command_uuid": "C1", "request_type": "ProfileList", "status": "Acknowledged",
                     "raw_payload": "PD94bWw="},
        }))
        .expect("an Event");
        let text = table(&[event]).to_string();
        assert_eq!(
            text.lines().nth(1),
            Some("2026-11-21T12:00:00Z  command.acknowledged  UDID-1  command-svc  E1  request_type=ProfileList command_uuid=C1 status=Acknowledged")
        );
    }
}
