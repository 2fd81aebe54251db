//! `mdmctl audit`: the audit log, newest first, as admin-svc merges it from the services that
//! keep a part of it (command-svc: commands queued and cancelled; enroll-svc: re-enrollments
//! refused and approved, revocations; admin-svc: admin tokens).

use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::{Api, Span};
use crate::config::Env;
use crate::output;
use crate::table::Table;
use anyhow::Context;
use clap::Args;
use mdm_api::audit::{AuditEntry, AuditQuery};

/// `mdmctl audit [OPTIONS]`
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only entries about this device (its enrollment ID).
    #[arg(long, value_name = "ID")]
    pub device: Option<String>,
    /// Only this action, e.g. command.queued, enrollment.rebind_refused, admin_token.created.
    #[arg(long, value_name = "ACTION")]
    pub action: Option<String>,
    /// How many entries to show, newest first.
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: u32,
}

/// Runs `mdmctl audit`.
pub async fn run(args: AuditArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let api = Api::connect(global, env)?;
    let query = AuditQuery {
        enrollment_id: args.device,
        action: args.action,
        ..AuditQuery::default()
    };
    let span = Span::first(usize::try_from(args.limit).unwrap_or(usize::MAX));
    let entries = api
        .audit(&query, span)
        .await
        .context("reading the audit log")?;
    match global.output {
        OutputFormat::Json => output::json(&entries.json),
        OutputFormat::Table => {
            if entries.is_empty() {
                eprintln!("no audit entries match");
            }
            output::text(&table(&entries.items).to_string())
        }
    }
}

/// One row per entry: when, who, what, to which device, why.
pub fn table(entries: &[AuditEntry]) -> Table {
    let mut table = Table::new(["AT", "ACTOR", "ACTION", "DEVICE", "COMMAND", "DETAIL"]);
    let or_empty = |v: &Option<String>| v.clone().unwrap_or_default();
    for e in entries {
        let command = match (&e.request_type, &e.command_uuid) {
            (Some(request_type), Some(uuid)) => format!("{request_type} {uuid}"),
            (request_type, uuid) => or_empty(request_type) + &or_empty(uuid),
        };
        table.row([
            or_empty(&e.at),
            e.actor.clone(),
            e.action.clone(),
            or_empty(&e.enrollment_id),
            command,
            e.detail.clone(),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_names_the_command_and_why() {
        let entry = AuditEntry {
            at: Some("2026-11-21T12:00:00Z".into()),
            source: "command-svc".into(),
            actor: "ops".into(),
            action: "command.queued".into(),
            enrollment_id: Some("UDID-1".into()),
            request_type: Some("EraseDevice".into()),
            command_uuid: Some("C1".into()),
            detail: "reported stolen".into(),
        };
        let text = table(&[entry]).to_string();
        assert_eq!(
            text.lines().nth(1),
            Some("2026-11-21T12:00:00Z  ops    command.queued  UDID-1  EraseDevice C1  reported stolen")
        );
    }
}
