//! Commands and their results for people: a block per device with what it answered, in the
//! terms of the request type (DeviceInformation's QueryResponses as key/value, the profiles of
//! a ProfileList, an Error's ErrorChain), a command's header, a device's history, and the list
//! of commands.

use crate::duration::age;
use crate::record::text;
use crate::table::Table;
use mdm_api::commands::{Command, DeliveryStatus};
use mdm_api::devices::Delivery;
use serde_json::{Map, Value};
use std::time::SystemTime;

/// Indent of a device's details under its status line.
const INDENT: &str = "    ";

/// The command's fields, one per row; who cancelled it and when, if someone did.
pub fn header(command: &Command) -> Table {
    let mut table = Table::without_header();
    let or_empty = |v: &Option<String>| v.clone().unwrap_or_default();
    table.row(["command_uuid".into(), command.command_uuid.clone()]);
    table.row(["request_type".into(), command.request_type.clone()]);
    table.row(["priority".into(), command.priority.to_string()]);
    table.row(["created_at".into(), or_empty(&command.created_at)]);
    table.row(["expires_at".into(), or_empty(&command.expires_at)]);
    table.row(["requested_by".into(), or_empty(&command.requested_by)]);
    table.row(["reason".into(), or_empty(&command.reason)]);
    if command.cancelled_at.is_some() {
        table.row(["cancelled_at".into(), or_empty(&command.cancelled_at)]);
        table.row(["cancelled_by".into(), or_empty(&command.cancelled_by)]);
    }
    table
}

/// A block per delivery: `<device>  <status>`, then the details of its result.
pub fn deliveries(request_type: &str, deliveries: &[Delivery]) -> String {
    let mut out = String::new();
    let mut lines = Table::without_header();
    for d in deliveries {
        lines.row([d.enrollment_id.clone(), status_label(d)]);
    }
    // The status lines share one table so that they align; each is followed by its details.
    for (line, d) in lines.to_string().lines().zip(deliveries) {
        out.push_str(line);
        out.push('\n');
        let details = details(request_type, d);
        if !details.is_empty() {
            for detail in details.to_string().lines() {
                out.push_str(INDENT);
                out.push_str(detail);
                out.push('\n');
            }
        }
    }
    out
}

/// A delivery's status as the protocol names it: `Acknowledged`, `Error`, `NotNow (2 times), still queued`, ...
pub fn status_label(d: &Delivery) -> String {
    match d.status {
        DeliveryStatus::Acknowledged => "Acknowledged".into(),
        DeliveryStatus::Error => "Error".into(),
        DeliveryStatus::CommandFormatError => "CommandFormatError".into(),
        DeliveryStatus::Queued if d.not_now_count == 1 => "NotNow (once), still queued".into(),
        DeliveryStatus::Queued if d.not_now_count > 1 => {
            format!("NotNow ({} times), still queued", d.not_now_count)
        }
        DeliveryStatus::Queued if d.sent_at.is_some() => "sent, no answer yet".into(),
        DeliveryStatus::Queued => "pending".into(),
        other => other.as_str().into(),
    }
}

/// The interesting part of a device's result, as key/value rows.
pub fn details(request_type: &str, d: &Delivery) -> Table {
    let mut table = Table::without_header();
    let Some(Value::Object(result)) = &d.result else {
        return table;
    };
    if let Some(Value::Array(chain)) = result.get("ErrorChain") {
        for error in chain.iter().filter_map(Value::as_object) {
            let domain = text(error.get("ErrorDomain"));
            let code = text(error.get("ErrorCode"));
            let description = error
                .get("LocalizedDescription")
                .or_else(|| error.get("USEnglishDescription"));
            table.row([format!("{domain} {code}"), text(description)]);
        }
        return table;
    }
    match request_type {
        "DeviceInformation" => key_values(&mut table, result.get("QueryResponses")),
        "SecurityInfo" => key_values(&mut table, result.get("SecurityInfo")),
        "ProfileList" => list(
            &mut table,
            result,
            "ProfileList",
            "PayloadIdentifier",
            "PayloadDisplayName",
        ),
        "InstalledApplicationList" => list(
            &mut table,
            result,
            "InstalledApplicationList",
            "Identifier",
            "ShortVersion",
        ),
        "CertificateList" => list(
            &mut table,
            result,
            "CertificateList",
            "CommonName",
            "IsIdentity",
        ),
        "ProvisioningProfileList" => list(
            &mut table,
            result,
            "ProvisioningProfileList",
            "UUID",
            "Name",
        ),
        _ => {}
    }
    table
}

/// Each key of an object and its value, sorted by key (whatever order the device sent).
fn key_values(table: &mut Table, object: Option<&Value>) {
    if let Some(Value::Object(object)) = object {
        let mut fields: Vec<_> = object.iter().collect();
        fields.sort_unstable_by_key(|(key, _)| key.as_str());
        for (key, value) in fields {
            table.row([key.clone(), text(Some(value))]);
        }
    }
}

/// One row per item of the array `field`: its `name` and `value` keys.
fn list(table: &mut Table, result: &Map<String, Value>, field: &str, name: &str, value: &str) {
    if let Some(Value::Array(items)) = result.get(field) {
        for item in items.iter().filter_map(Value::as_object) {
            table.row([text(item.get(name)), text(item.get(value))]);
        }
    }
}

/// A device's commands, newest first.
pub fn history(deliveries: &[Delivery], now: SystemTime) -> Table {
    let mut table = Table::new([
        "COMMAND UUID",
        "REQUEST TYPE",
        "STATUS",
        "QUEUED",
        "COMPLETED",
    ]);
    for d in deliveries {
        table.row([
            d.command_uuid.clone(),
            d.request_type.clone(),
            status_label(d),
            ago(now, &d.queued_at),
            ago(now, &d.completed_at),
        ]);
    }
    table
}

/// Commands, newest first: who queued them, when, and whether one was cancelled.
pub fn commands(commands: &[Command], now: SystemTime) -> Table {
    let mut table = Table::new([
        "COMMAND UUID",
        "REQUEST TYPE",
        "CREATED",
        "REQUESTED BY",
        "CANCELLED",
        "REASON",
    ]);
    for c in commands {
        table.row([
            c.command_uuid.clone(),
            c.request_type.clone(),
            ago(now, &c.created_at),
            c.requested_by.clone().unwrap_or_default(),
            ago(now, &c.cancelled_at),
            c.reason.clone().unwrap_or_default(),
        ]);
    }
    table
}

/// How long before `now` a time was; empty without one.
fn ago(now: SystemTime, at: &Option<String>) -> String {
    at.as_deref().map(|t| age(now, t)).unwrap_or_default()
}

#[cfg(test)]
mod tests;
