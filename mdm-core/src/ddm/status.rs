//! [`parse_status_report`]: a device's DDM status report (the `status` endpoint's body), as the
//! latest value of each status item and the state of each of its declarations.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::Category;
use crate::catalogue::declarations;
use crate::error::{excerpt, reason};
use crate::{ParseError, MAX_DEPTH};

/// What one status report says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatusReport {
    /// `FullReport`: the whole state, not the changes since the last report (devices send one
    /// about once a day); a server may replace what it holds with it.
    pub full_report: bool,
    /// Each status item reported, by name (`device.operating-system.version`), with its value.
    /// Names the schema knows are kept whole (`management.client-capabilities` is one object);
    /// other objects are walked down to their leaves.
    pub items: BTreeMap<String, Json>,
    /// The state of each declaration reported (from the item `management.declarations`).
    pub declarations: Vec<DeclarationStatus>,
    /// Status items the device could not report, with why.
    pub errors: Vec<StatusError>,
}

/// One declaration's state on the device.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclarationStatus {
    /// Its category.
    pub category: Category,
    /// Its `Identifier`.
    pub identifier: String,
    /// The `ServerToken` the device holds: which version it reports on.
    pub server_token: String,
    /// An activation selected it (configurations and assets) or it is in force.
    pub active: bool,
    /// `valid`, `invalid` or `unknown`.
    pub valid: String,
    /// Why, when it is not active and valid (`Error.ConfigurationCannotBeApplied`...).
    pub reasons: Vec<Reason>,
}

/// A status reason: a code, a description for people, and details.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    /// `Code`, e.g. `Info.NotReferencedByActivation`.
    pub code: String,
    /// `Description`.
    pub description: Option<String>,
    /// `Details`, as sent.
    pub details: Option<Json>,
}

/// A status item the device could not report.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusError {
    /// `StatusItem`.
    pub status_item: String,
    /// `Reasons`.
    pub reasons: Vec<Reason>,
}

/// Parses a status report: a JSON object with `StatusItems` (an object) and `Errors` (an array),
/// and optionally `FullReport`. Refused: another shape, a declaration entry without its
/// identifier, server token and state, nesting deeper than [`MAX_DEPTH`]. The caller bounds the
/// body's size.
pub fn parse_status_report(body: &[u8]) -> Result<StatusReport, ParseError> {
    let json: Json = serde_json::from_slice(body).map_err(|e| invalid("$", &e.to_string()))?;
    let Json::Object(report) = json else {
        return Err(invalid("$", "a status report is a JSON object"));
    };
    let mut out = StatusReport {
        full_report: report
            .get("FullReport")
            .and_then(Json::as_bool)
            .unwrap_or(false),
        ..StatusReport::default()
    };
    match report.get("StatusItems") {
        Some(Json::Object(items)) => {
            for (name, value) in items {
                flatten(name, value, 1, &mut out.items)?;
            }
        }
        Some(_) => return Err(invalid("$.StatusItems", "must be an object")),
        None => return Err(invalid("$.StatusItems", "is required")),
    }
    if let Some(declarations) = out.items.get("management.declarations") {
        out.declarations = declaration_statuses(declarations)?;
    }
    match report.get("Errors") {
        Some(Json::Array(errors)) => {
            for (index, error) in errors.iter().enumerate() {
                let at = format!("$.Errors[{index}]");
                out.errors.push(StatusError {
                    status_item: text(error, "StatusItem", &at)?,
                    reasons: reasons(error.get("Reasons"), &at)?,
                });
            }
        }
        Some(_) => return Err(invalid("$.Errors", "must be an array")),
        None => {}
    }
    Ok(out)
}

/// Walks `value` at `path` down to the status items: a name the schema knows, or a leaf.
fn flatten(
    path: &str,
    value: &Json,
    depth: usize,
    items: &mut BTreeMap<String, Json>,
) -> Result<(), ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::TooDeep { limit: MAX_DEPTH });
    }
    let known = declarations()
        .status_items
        .binary_search_by(|name| name.as_str().cmp(path))
        .is_ok();
    match value {
        Json::Object(children) if !known => {
            for (name, child) in children {
                flatten(&format!("{path}.{name}"), child, depth + 1, items)?;
            }
        }
        _ => {
            items.insert(path.to_owned(), value.clone());
        }
    }
    Ok(())
}

fn declaration_statuses(value: &Json) -> Result<Vec<DeclarationStatus>, ParseError> {
    let mut found = Vec::new();
    for category in Category::ALL {
        let Some(entries) = value.get(category.status_key()) else {
            continue;
        };
        let at = format!("management.declarations.{}", category.status_key());
        let Json::Array(entries) = entries else {
            return Err(invalid(&at, "must be an array"));
        };
        for (index, entry) in entries.iter().enumerate() {
            let at = format!("{at}[{index}]");
            found.push(DeclarationStatus {
                category,
                identifier: text(entry, "identifier", &at)?,
                server_token: text(entry, "server-token", &at)?,
                active: entry
                    .get("active")
                    .and_then(Json::as_bool)
                    .ok_or_else(|| invalid(&at, "needs a boolean active"))?,
                valid: text(entry, "valid", &at)?,
                reasons: reasons(entry.get("reasons"), &at)?,
            });
        }
    }
    Ok(found)
}

fn reasons(value: Option<&Json>, at: &str) -> Result<Vec<Reason>, ParseError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let Json::Array(list) = value else {
        return Err(invalid(at, "reasons must be an array"));
    };
    list.iter()
        .map(|reason| {
            let code = reason
                .get("code")
                .or_else(|| reason.get("Code"))
                .and_then(Json::as_str)
                .ok_or_else(|| invalid(at, "a reason needs its code"))?;
            let description = reason
                .get("description")
                .or_else(|| reason.get("Description"))
                .and_then(Json::as_str)
                .map(str::to_owned);
            let details = reason
                .get("details")
                .or_else(|| reason.get("Details"))
                .cloned();
            Ok(Reason {
                code: code.to_owned(),
                description,
                details,
            })
        })
        .collect()
}

fn text(value: &Json, key: &str, at: &str) -> Result<String, ParseError> {
    value
        .get(key)
        .and_then(Json::as_str)
        .map(str::to_owned)
        .ok_or_else(|| invalid(at, &format!("needs a string {key}")))
}

fn invalid(path: &str, why: &str) -> ParseError {
    ParseError::InvalidJson {
        path: excerpt(path),
        reason: reason(why),
    }
}
