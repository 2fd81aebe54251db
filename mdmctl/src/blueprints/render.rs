//! Blueprints and their runs as text (`blueprints show` prints every field:
//! [`crate::record`]).

use super::commands::request_type;
use crate::table::Table;
use mdm_api::blueprints::{Blueprint, BlueprintRun};
use serde_json::Value;

/// The fields `blueprints show` and `create` put first.
pub const SHOWN_FIRST: &[&str] = &[
    "id",
    "name",
    "enabled",
    "description",
    "enrollment_tokens",
    "device_configured",
    "commands",
    "declaration_sets",
];

/// One row per blueprint: what it sends, and to which devices.
pub fn list(blueprints: &[Blueprint]) -> Table {
    let mut table = Table::new([
        "ID",
        "NAME",
        "STATE",
        "COMMANDS",
        "ENROLLMENT TOKENS",
        "DEVICE CONFIGURED",
        "CREATED BY",
    ]);
    for b in blueprints {
        let tokens = if b.enrollment_tokens.is_empty() {
            "(every device)".to_owned()
        } else {
            b.enrollment_tokens.join(",")
        };
        table.row([
            b.id.clone(),
            b.name.clone(),
            if b.enabled { "enabled" } else { "disabled" }.to_owned(),
            command_types(&b.commands),
            tokens,
            if b.device_configured { "yes" } else { "no" }.to_owned(),
            b.created_by.clone(),
        ]);
    }
    table
}

/// The RequestTypes of a blueprint's commands, in order; `?` for one this mdmctl cannot read.
fn command_types(commands: &[Value]) -> String {
    commands
        .iter()
        .map(|command| match command {
            Value::Object(command) => request_type(command).unwrap_or_else(|_| "?".into()),
            _ => "?".into(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// One row per run: the device, where its run stands, and why it failed.
pub fn runs(runs: &[BlueprintRun]) -> Table {
    let mut table = Table::new([
        "DEVICE",
        "GENERATION",
        "STATUS",
        "ANSWERED",
        "QUEUED",
        "SETUP ASSISTANT",
        "UPDATED",
        "ERROR",
    ]);
    for r in runs {
        table.row([
            r.device.clone(),
            r.generation.to_string(),
            r.status.clone(),
            format!("{}/{}", r.answered, r.total),
            r.queued.to_string(),
            if r.awaiting_configuration {
                "waiting"
            } else {
                ""
            }
            .to_owned(),
            r.updated_at.clone().unwrap_or_default(),
            r.error.clone().unwrap_or_default(),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_row_names_the_commands_and_the_devices() {
        let blueprint = Blueprint {
            id: "B1".into(),
            name: "base".into(),
            description: String::new(),
            commands: vec![
                json!({"request_type": "DeviceInformation"}),
                json!({"RequestType": "ProfileList"}),
                json!({"nonsense": true}),
            ],
            declaration_sets: Vec::new(),
            enrollment_tokens: Vec::new(),
            device_configured: true,
            enabled: false,
            created_by: "ops".into(),
            created_at: None,
        };
        let text = list(&[blueprint]).to_string();
        assert_eq!(
            text.lines().nth(1),
            Some("B1  base  disabled  DeviceInformation,ProfileList,?  (every device)     yes                ops")
        );
    }

    #[test]
    fn a_run_shows_its_progress() {
        let run = BlueprintRun {
            id: "R1".into(),
            blueprint_id: "B1".into(),
            device: "UDID-1".into(),
            generation: 2,
            awaiting_configuration: true,
            status: "waiting".into(),
            queued: 2,
            answered: 1,
            total: 2,
            error: None,
            created_at: None,
            updated_at: Some("2026-11-21T12:00:00Z".into()),
        };
        let text = runs(&[run]).to_string();
        assert_eq!(
            text.lines().nth(1),
            Some("UDID-1  2           waiting  1/2       2       waiting          2026-11-21T12:00:00Z  -")
        );
    }
}
