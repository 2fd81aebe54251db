//! Commands and their results for people: a block per device with what it answered, in the
//! terms of the request type (DeviceInformation's QueryResponses as key/value, the profiles of
//! a ProfileList, an Error's ErrorChain), a command's header, and a device's history.

use crate::client::model::{Command, Delivery};
use crate::duration::age;
use crate::table::Table;
use serde_json::{Map, Value};
use std::time::SystemTime;

/// Indent of a device's details under its status line.
const INDENT: &str = "    ";

/// The command's fields, one per row.
pub fn header(command: &Command) -> Table {
    let mut table = Table::without_header();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    table.row(["command_uuid".into(), command.command_uuid.clone()]);
    table.row(["request_type".into(), command.request_type.clone()]);
    table.row(["priority".into(), command.priority.to_string()]);
    table.row(["created_at".into(), text(&command.created_at)]);
    table.row(["expires_at".into(), text(&command.expires_at)]);
    table.row(["requested_by".into(), text(&command.requested_by)]);
    table.row(["reason".into(), text(&command.reason)]);
    table
}

/// A block per listed delivery: `<device>  <status>`, then the details of its result.
pub fn deliveries(command: &Command) -> String {
    let mut out = String::new();
    let mut lines = Table::without_header();
    for d in &command.deliveries {
        lines.row([d.enrollment_id.clone(), status_label(d)]);
    }
    // The status lines share one table so that they align; each is followed by its details.
    for (line, d) in lines.to_string().lines().zip(&command.deliveries) {
        out.push_str(line);
        out.push('\n');
        let details = details(&command.request_type, d);
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
    match d.status.as_str() {
        "acknowledged" => "Acknowledged".into(),
        "error" => "Error".into(),
        "command_format_error" => "CommandFormatError".into(),
        "queued" if d.not_now_count == 1 => "NotNow (once), still queued".into(),
        "queued" if d.not_now_count > 1 => {
            format!("NotNow ({} times), still queued", d.not_now_count)
        }
        "queued" if d.sent_at.is_some() => "sent, no answer yet".into(),
        "queued" => "pending".into(),
        other => other.into(),
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

/// Each key of an object and its value, in key order.
fn key_values(table: &mut Table, object: Option<&Value>) {
    if let Some(Value::Object(object)) = object {
        for (key, value) in object {
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

/// A JSON value as one line: strings bare, the rest as compact JSON.
fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
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
    let ago = |at: &Option<String>| at.as_deref().map(|t| age(now, t)).unwrap_or_default();
    for d in deliveries {
        table.row([
            d.command_uuid.clone(),
            d.request_type.clone(),
            status_label(d),
            ago(&d.queued_at),
            ago(&d.completed_at),
        ]);
    }
    table
}

#[cfg(test)]
mod tests;
