//! The MDM commands an administrator queues, and the plist the server sends a device for each.
//!
//! A command travels as a `Command` dictionary: `RequestType` plus the request's own keys. The
//! admin API accepts it in three forms, all ending as that dictionary:
//! - [`CommandSpec`], typed JSON for the common request types, validated by
//!   [`CommandSpec::to_command`];
//! - [`command_from_json`], any request type as a JSON object, with `{"$data": …}` and
//!   `{"$date": …}` for the plist types JSON lacks;
//! - [`parse_command_plist`] (a bare `Command` dictionary) or [`parse_full_command`] (the
//!   `{Command, CommandUUID}` document), for an administrator who already has the plist.
//!
//! At delivery the server wraps the dictionary with its `CommandUUID` ([`render_command`]) and,
//! for ClearPasscode, adds the device's UnlockToken ([`with_unlock_token`]).

mod base64_bytes;
mod forms;
mod from_json;
mod spec;
mod xml_text;

#[cfg(test)]
mod tests;

use plist::{Dictionary, Value};

pub use base64_bytes::Base64Bytes;
pub use forms::api_command;
pub use from_json::command_from_json;
pub use spec::{CommandSpec, DEFAULT_DEVICE_INFORMATION_QUERIES};

use crate::decode::parse_dictionary;
use crate::fields::{opt_string, req_string, type_name};
use crate::ids::check_id;
use crate::ParseError;

/// The request types that change or destroy device state in a way the server cannot undo, so
/// they are audited and must be sent with an explicit scope:
/// - `EraseDevice` wipes the device; `DeleteUser` deletes a user and their data.
/// - `DeviceLock` and `EnableLostMode` take the device away from its user until unlocked.
/// - `ClearPasscode` and `ClearRestrictionsPassword` remove a protection the user set.
/// - `SetFirmwarePassword` and `SetRecoveryLock` change a password that guards booting and
///   recovery: a wrong one locks everyone out, and only the new password can change it again.
pub const DESTRUCTIVE_REQUEST_TYPES: [&str; 8] = [
    "EraseDevice",
    "DeviceLock",
    "ClearPasscode",
    "ClearRestrictionsPassword",
    "DeleteUser",
    "EnableLostMode",
    "SetFirmwarePassword",
    "SetRecoveryLock",
];

/// Parses an administrator-supplied raw `Command` dictionary (XML or binary plist, any
/// RequestType). The top level must be a dictionary with a non-empty string `RequestType` free of
/// control characters and no longer than [`crate::MAX_ID_LEN`] bytes. Other keys are not checked:
/// the device judges them. The caller bounds the size of `xml`.
pub fn parse_command_plist(xml: &[u8]) -> Result<Dictionary, ParseError> {
    let command = parse_dictionary(xml)?;
    check_request_type(&command)?;
    Ok(command)
}

/// Parses the full plist sent to a device, `{ Command: <dict>, CommandUUID: <string> }`, into the
/// command dictionary (checked as by [`parse_command_plist`]) and the CommandUUID, if present and
/// non-empty. Other top-level keys are ignored.
pub fn parse_full_command(xml: &[u8]) -> Result<(Dictionary, Option<String>), ParseError> {
    let mut outer = parse_dictionary(xml)?;
    let command_uuid = opt_string(&outer, "CommandUUID")?;
    if let Some(uuid) = &command_uuid {
        check_id("CommandUUID", uuid)?;
    }
    let command = match outer.remove("Command") {
        None => return Err(ParseError::MissingField("Command")),
        Some(Value::Dictionary(command)) => command,
        Some(other) => {
            return Err(ParseError::WrongType {
                field: "Command",
                expected: "a dictionary",
                found: type_name(&other),
            })
        }
    };
    check_request_type(&command)?;
    Ok((command, command_uuid))
}

/// The `RequestType` of a command dictionary, if it holds a non-empty string.
pub fn request_type_of(command: &Dictionary) -> Option<&str> {
    command
        .get("RequestType")
        .and_then(Value::as_string)
        .filter(|s| !s.is_empty())
}

/// Renders the full XML plist sent to a device: `{ Command: <command>, CommandUUID: <uuid> }`.
///
/// XML plists cannot hold UIDs (only a binary plist can carry one, and no MDM command uses
/// them), so any UID in `command` is written as its integer value.
pub fn render_command(command: &Dictionary, command_uuid: &str) -> Vec<u8> {
    let mut outer = Dictionary::new();
    let command = if dictionary_has_uid(command) {
        uids_to_integers(Value::Dictionary(command.clone()))
    } else {
        Value::Dictionary(command.clone())
    };
    outer.insert("Command".to_owned(), command);
    outer.insert(
        "CommandUUID".to_owned(),
        Value::String(command_uuid.to_owned()),
    );
    let mut body = Vec::new();
    // The XML writer fails only on a UID, which was replaced above, or on an I/O error, which a
    // Vec never returns.
    Value::Dictionary(outer)
        .to_writer_xml(&mut body)
        .expect("writing a plist without UIDs to a Vec cannot fail");
    body
}

/// Whether a request type changes or destroys device state irreversibly (see
/// [`DESTRUCTIVE_REQUEST_TYPES`]). Matches Apple's spelling exactly.
pub fn is_destructive(request_type: &str) -> bool {
    DESTRUCTIVE_REQUEST_TYPES.contains(&request_type)
}

/// Returns a copy of a ClearPasscode command dictionary with the device's `UnlockToken` added as
/// `<data>` (replacing any already there). The server calls this per device at delivery time;
/// the token never comes from the administrator.
pub fn with_unlock_token(command: &Dictionary, unlock_token: &[u8]) -> Dictionary {
    let mut command = command.clone();
    command.insert("UnlockToken".to_owned(), Value::Data(unlock_token.to_vec()));
    command
}

/// Checks that a command dictionary has a usable `RequestType`.
fn check_request_type(command: &Dictionary) -> Result<(), ParseError> {
    let request_type = req_string(command, "RequestType")?;
    check_id("RequestType", &request_type)
}

fn dictionary_has_uid(dict: &Dictionary) -> bool {
    dict.values().any(has_uid)
}

fn has_uid(value: &Value) -> bool {
    match value {
        Value::Uid(_) => true,
        Value::Array(items) => items.iter().any(has_uid),
        Value::Dictionary(dict) => dictionary_has_uid(dict),
        _ => false,
    }
}

fn uids_to_integers(value: Value) -> Value {
    match value {
        Value::Uid(uid) => Value::Integer(uid.get().into()),
        Value::Array(items) => Value::Array(items.into_iter().map(uids_to_integers).collect()),
        Value::Dictionary(dict) => Value::Dictionary(
            dict.into_iter()
                .map(|(key, value)| (key, uids_to_integers(value)))
                .collect(),
        ),
        other => other,
    }
}
