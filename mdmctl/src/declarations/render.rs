//! Declarations, sets, what devices reported of them, and what a change did, as text (`show`
//! prints every field: [`crate::record`]).

use crate::record;
use crate::table::Table;
use mdm_api::declarations::{
    Declaration, DeclarationChange, DeclarationSet, DeclarationSetChange, DeclarationState,
    StatusItem, Sync,
};

/// The fields `declarations show` puts first: what it is, its version and who holds it.
pub const SHOWN_FIRST: &[&str] = &[
    "identifier",
    "type",
    "server_token",
    "sets",
    "updated_at",
    "updated_by",
    "created_at",
];

/// The fields `declaration-sets show` puts first.
pub const SET_SHOWN_FIRST: &[&str] = &[
    "name",
    "declarations",
    "devices",
    "updated_at",
    "updated_by",
    "created_at",
];

/// One row per declaration.
pub fn list(declarations: &[Declaration]) -> Table {
    let mut table = Table::new([
        "IDENTIFIER",
        "TYPE",
        "SETS",
        "SERVER TOKEN",
        "UPDATED",
        "UPDATED BY",
    ]);
    for d in declarations {
        table.row([
            d.identifier.clone(),
            d.declaration_type.clone(),
            d.sets.join(","),
            d.server_token.clone(),
            d.updated_at.clone().unwrap_or_default(),
            d.updated_by.clone(),
        ]);
    }
    table
}

/// One row per set.
pub fn sets(sets: &[DeclarationSet]) -> Table {
    let mut table = Table::new(["NAME", "DECLARATIONS", "DEVICES", "UPDATED", "UPDATED BY"]);
    for s in sets {
        table.row([
            s.name.clone(),
            s.declarations.join(","),
            s.devices.to_string(),
            s.updated_at.clone().unwrap_or_default(),
            s.updated_by.clone(),
        ]);
    }
    table
}

/// One row per device a declaration is served to (`declarations status`).
pub fn device_states(states: &[DeclarationState]) -> Table {
    let mut table = Table::new([
        "DEVICE",
        "APPLIED",
        "REPORTED TOKEN",
        "ACTIVE",
        "VALID",
        "REASON",
    ]);
    for s in states {
        let mut row = vec![s.device.clone()];
        row.extend(reported(s));
        table.row(row);
    }
    table
}

/// One row per declaration served to a device (`devices declarations`).
pub fn declaration_states(states: &[DeclarationState]) -> Table {
    let mut table = Table::new([
        "IDENTIFIER",
        "TYPE",
        "APPLIED",
        "REPORTED TOKEN",
        "ACTIVE",
        "VALID",
        "REASON",
    ]);
    for s in states {
        let mut row = vec![s.identifier.clone(), s.declaration_type.clone()];
        row.extend(reported(s));
        table.row(row);
    }
    table
}

/// Applied, then what the device last reported: the token it reported on (`(old)` when it is
/// not the one served now: it has not synced yet), active, valid, and the first reason's code;
/// empty cells before its first report.
fn reported(s: &DeclarationState) -> [String; 5] {
    let applied = yes_no(s.applied);
    let Some(r) = &s.reported else {
        return [
            applied,
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ];
    };
    let token = if r.server_token == s.server_token {
        r.server_token.clone()
    } else {
        format!("{} (old)", r.server_token)
    };
    let reason = r
        .reasons
        .first()
        .map(|reason| record::text(reason.get("Code")))
        .unwrap_or_default();
    [applied, token, yes_no(r.active), r.valid.clone(), reason]
}

/// One row per status item: its name, its value, when it was reported.
pub fn status_items(items: &[StatusItem]) -> Table {
    let mut table = Table::new(["ITEM", "VALUE", "REPORTED"]);
    for i in items {
        table.row([
            i.item.clone(),
            record::text(Some(&i.value)),
            i.reported_at.clone().unwrap_or_default(),
        ]);
    }
    table
}

/// What `declarations put` did, in one line, then the devices told to sync.
pub fn put(change: &DeclarationChange) -> String {
    let d = &change.declaration;
    let held = if d.sets.is_empty() {
        "in no set yet".to_owned()
    } else {
        format!("in {}", named("set", &d.sets))
    };
    let what = if change.changed {
        "stored"
    } else {
        "unchanged (the same content is stored already)"
    };
    format!(
        "declaration {} ({}) {what}: ServerToken {}, {held}\n{}",
        d.identifier,
        d.declaration_type,
        d.server_token,
        synced(&change.sync)
    )
}

/// What `declaration-sets put|assign|unassign` did (`done`: `stored`, `changed`), in one line,
/// then the devices told to sync.
pub fn set_change(change: &DeclarationSetChange, done: &str) -> String {
    let s = &change.set;
    let what = if change.changed { done } else { "unchanged" };
    let holds = if s.declarations.is_empty() {
        "no declaration".to_owned()
    } else {
        named("declaration", &s.declarations)
    };
    format!(
        "declaration set {} {what}: {holds}, {}\n{}",
        s.name,
        assigned(s.devices),
        synced(&change.sync)
    )
}

/// How many devices a set is assigned to.
fn assigned(devices: u64) -> String {
    match devices {
        0 => "assigned to no device".to_owned(),
        1 => "assigned to 1 device".to_owned(),
        n => format!("assigned to {n} devices"),
    }
}

/// `set base` or `sets base, lab`.
fn named(noun: &str, names: &[String]) -> String {
    let plural = if names.len() == 1 { "" } else { "s" };
    format!("{noun}{plural} {}", names.join(", "))
}

/// The devices a change told to sync, and the DeclarativeManagement commands it queued.
pub fn synced(sync: &Sync) -> String {
    let commands = match sync.commands.as_slice() {
        [] => String::new(),
        [one] => format!(" (DeclarativeManagement command {one})"),
        many => format!(" (DeclarativeManagement commands {})", many.join(", ")),
    };
    match sync.devices {
        0 => "no device told to sync".to_owned(),
        1 => format!("1 device told to sync{commands}"),
        n => format!("{n} devices told to sync{commands}"),
    }
}

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdm_api::declarations::ReportedState;
    use serde_json::json;

    fn declaration(sets: &[&str]) -> Declaration {
        Declaration {
            identifier: "passcode".into(),
            declaration_type: "com.apple.configuration.passcode.settings".into(),
            payload: json!({"MinimumLength": 6}),
            server_token: "t2".into(),
            sets: sets.iter().map(|s| (*s).to_owned()).collect(),
            created_at: None,
            updated_at: Some("2026-11-21T12:00:00Z".into()),
            updated_by: "ops".into(),
        }
    }

    fn state(device: &str, reported: Option<ReportedState>) -> DeclarationState {
        DeclarationState {
            device: device.into(),
            identifier: "passcode".into(),
            declaration_type: "com.apple.configuration.passcode.settings".into(),
            server_token: "t2".into(),
            applied: reported
                .as_ref()
                .is_some_and(|r| r.server_token == "t2" && r.active && r.valid == "valid"),
            reported,
        }
    }

    #[test]
    fn a_declaration_row_names_its_sets_and_version() {
        let text = list(&[declaration(&["base", "lab"])]).to_string();
        assert_eq!(
            text.lines().nth(1),
            Some("passcode    com.apple.configuration.passcode.settings  base,lab  t2            2026-11-21T12:00:00Z  ops")
        );
    }

    #[test]
    fn states_show_what_each_device_reported() {
        let states = [
            state(
                "UDID-1",
                Some(ReportedState {
                    server_token: "t2".into(),
                    active: true,
                    valid: "valid".into(),
                    reasons: Vec::new(),
                    reported_at: None,
                }),
            ),
            state(
                "UDID-2",
                Some(ReportedState {
                    server_token: "t1".into(),
                    active: false,
                    valid: "invalid".into(),
                    reasons: vec![json!({"Code": "Error.ConfigurationCannotBeApplied",
                                         "Description": "no"})],
                    reported_at: None,
                }),
            ),
            state("UDID-3", None),
        ];
        let text = device_states(&states).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "DEVICE  APPLIED  REPORTED TOKEN  ACTIVE  VALID    REASON",
                "UDID-1  yes      t2              yes     valid    -",
                "UDID-2  no       t1 (old)        no      invalid  Error.ConfigurationCannotBeApplied",
                "UDID-3  no       -               -       -        -",
            ]
        );
        let text = declaration_states(&states[..1]).to_string();
        assert_eq!(
            text.lines().nth(1),
            Some("passcode    com.apple.configuration.passcode.settings  yes      t2              yes     valid  -")
        );
    }

    #[test]
    fn a_change_says_what_it_did_and_who_was_told() {
        let change = DeclarationChange {
            declaration: declaration(&["base"]),
            changed: true,
            sync: Sync {
                devices: 2,
                commands: vec!["C1".into()],
                warnings: Vec::new(),
            },
        };
        assert_eq!(
            put(&change),
            "declaration passcode (com.apple.configuration.passcode.settings) stored: ServerToken t2, in set base\n\
             2 devices told to sync (DeclarativeManagement command C1)"
        );
        let change = DeclarationChange {
            declaration: declaration(&[]),
            changed: false,
            sync: Sync::default(),
        };
        assert_eq!(
            put(&change),
            "declaration passcode (com.apple.configuration.passcode.settings) unchanged (the same content is stored already): ServerToken t2, in no set yet\n\
             no device told to sync"
        );
        let change = DeclarationSetChange {
            set: DeclarationSet {
                name: "base".into(),
                declarations: vec!["passcode".into(), "activation".into()],
                devices: 1,
                created_at: None,
                updated_at: None,
                updated_by: "ops".into(),
            },
            changed: true,
            sync: Sync {
                devices: 1,
                commands: vec!["C2".into()],
                warnings: Vec::new(),
            },
        };
        assert_eq!(
            set_change(&change, "changed"),
            "declaration set base changed: declarations passcode, activation, assigned to 1 device\n\
             1 device told to sync (DeclarativeManagement command C2)"
        );
        let change = DeclarationSetChange {
            changed: false,
            sync: Sync::default(),
            ..change
        };
        assert_eq!(
            set_change(&change, "stored"),
            "declaration set base unchanged: declarations passcode, activation, assigned to 1 device\n\
             no device told to sync"
        );
    }

    #[test]
    fn status_items_show_values_as_one_cell() {
        let items = [
            StatusItem {
                item: "device.operating-system.version".into(),
                value: json!("17.4"),
                reported_at: Some("2026-11-21T12:00:00Z".into()),
            },
            StatusItem {
                item: "management.client-capabilities".into(),
                value: json!({"supported-versions": ["1.0"]}),
                reported_at: None,
            },
        ];
        let text = status_items(&items).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[1],
            "device.operating-system.version  17.4                            2026-11-21T12:00:00Z"
        );
        assert_eq!(
            lines[2],
            "management.client-capabilities   {\"supported-versions\":[\"1.0\"]}  -"
        );
    }
}
