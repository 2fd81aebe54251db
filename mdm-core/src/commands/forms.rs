//! [`api_command`]: the `Command` dictionary of any of the admin API's three JSON forms, checked
//! against Apple's schema: what the server accepts, and what mdmctl checks before sending.

use plist::Dictionary;
use serde_json::{Map, Value};

use super::{command_from_json, parse_command_plist, CommandSpec};
use crate::catalogue::check_command;

/// The `Command` dictionary of a command in the admin API's JSON: typed
/// (`{"request_type": "DeviceLock", "pin": …}`, [`CommandSpec`]), with Apple's keys
/// (`{"RequestType": "DeviceLock", "PIN": …}`, [`command_from_json`]) or raw
/// (`{"plist": "<?xml …"}`, [`parse_command_plist`]); then checked against Apple's schema of its
/// request type ([`check_command`]). The error says what is wrong, for an administrator.
pub fn api_command(command: &Map<String, Value>) -> Result<Dictionary, String> {
    let dictionary = if command.contains_key("plist") {
        let Some(Value::String(xml)) = command.get("plist").filter(|_| command.len() == 1) else {
            return Err(
                r#"a raw command is {"plist": "<XML of the Command dictionary>"} alone"#.into(),
            );
        };
        parse_command_plist(xml.as_bytes()).map_err(|e| e.to_string())?
    } else if command.contains_key("request_type") {
        let spec: CommandSpec =
            serde_json::from_value(Value::Object(command.clone())).map_err(|e| e.to_string())?;
        spec.to_command().map_err(|e| e.to_string())?
    } else if command.contains_key("RequestType") {
        command_from_json(&Value::Object(command.clone())).map_err(|e| e.to_string())?
    } else {
        return Err(
            "a command needs request_type (typed), RequestType (Apple's keys) or plist (raw XML)"
                .into(),
        );
    };
    check_command(&dictionary).map_err(|e| e.to_string())?;
    Ok(dictionary)
}
