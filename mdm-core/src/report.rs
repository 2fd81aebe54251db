//! Command reports: what a device sends to the server URL, with a `Status` and usually a result.

use std::fmt;
use std::str::FromStr;

use plist::{Dictionary, Value};
use serde::{Deserialize, Serialize};

use crate::decode::parse_dictionary;
use crate::error::excerpt;
use crate::fields::{opt_string, req_string};
use crate::ids::check_id;
use crate::{ChannelIds, ParseError};

#[cfg(test)]
mod tests;

/// The `Status` of a command report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CommandStatus {
    /// The device is ready for the next command; reports no command.
    Idle,
    /// The command succeeded; the report carries its result.
    Acknowledged,
    /// The command failed; the report carries an ErrorChain.
    Error,
    /// The command was malformed.
    CommandFormatError,
    /// The device cannot run the command now (e.g. locked) and will ask again later.
    NotNow,
}

impl CommandStatus {
    /// Whether the command is finished: Acknowledged, Error or CommandFormatError. NotNow is not,
    /// since the device will report on the command again.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            CommandStatus::Acknowledged | CommandStatus::Error | CommandStatus::CommandFormatError
        )
    }

    /// The status as Apple spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            CommandStatus::Idle => "Idle",
            CommandStatus::Acknowledged => "Acknowledged",
            CommandStatus::Error => "Error",
            CommandStatus::CommandFormatError => "CommandFormatError",
            CommandStatus::NotNow => "NotNow",
        }
    }
}

impl FromStr for CommandStatus {
    type Err = ParseError;

    /// Parses Apple's spelling exactly; anything else is [`ParseError::UnknownStatus`].
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s {
            "Idle" => Ok(CommandStatus::Idle),
            "Acknowledged" => Ok(CommandStatus::Acknowledged),
            "Error" => Ok(CommandStatus::Error),
            "CommandFormatError" => Ok(CommandStatus::CommandFormatError),
            "NotNow" => Ok(CommandStatus::NotNow),
            other => Err(ParseError::UnknownStatus(excerpt(other))),
        }
    }
}

impl fmt::Display for CommandStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of a report's `ErrorChain`, outermost error first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorChainItem {
    /// `ErrorCode`.
    pub error_code: Option<i64>,
    /// `ErrorDomain`, e.g. `MCMDMErrorDomain`.
    pub error_domain: Option<String>,
    /// `LocalizedDescription`, in the device's language.
    pub localized_description: Option<String>,
    /// `USEnglishDescription`.
    pub us_english_description: Option<String>,
}

/// A command report: the status of one command (or Idle) and its result.
#[derive(Clone, PartialEq)]
pub struct CommandReport {
    /// Who the report comes from.
    pub ids: ChannelIds,
    /// `Status`.
    pub status: CommandStatus,
    /// `CommandUUID`: which command this reports on; absent only when Idle.
    pub command_uuid: Option<String>,
    /// `ErrorChain`, read leniently: it only informs, so an odd entry never fails a report.
    pub error_chain: Vec<ErrorChainItem>,
    /// The whole dictionary, with the command's result.
    pub raw: Dictionary,
}

impl CommandReport {
    /// Reads a report from a message dictionary that has already been parsed.
    pub(crate) fn from_dict(dict: Dictionary) -> Result<Self, ParseError> {
        let status: CommandStatus = req_string(&dict, "Status")?.parse()?;
        let ids = ChannelIds::from_dict(&dict)?;
        ids.enrollment()?;
        let command_uuid = opt_string(&dict, "CommandUUID")?;
        check_command_uuid(status, command_uuid.as_deref())?;
        Ok(CommandReport {
            error_chain: error_chain(&dict),
            ids,
            status,
            command_uuid,
            raw: dict,
        })
    }
}

/// The rule for a report's `CommandUUID`: any status but Idle names one, and one named is a
/// well-formed identifier. Also what a service checks when the edge hands it the fields it read.
pub fn check_command_uuid(status: CommandStatus, uuid: Option<&str>) -> Result<(), ParseError> {
    match uuid {
        Some(uuid) => check_id("CommandUUID", uuid),
        None if status != CommandStatus::Idle => Err(ParseError::MissingCommandUuid {
            status: status.as_str(),
        }),
        None => Ok(()),
    }
}

/// Parses a command report body (XML or binary plist). The top level must be a dictionary with a
/// known `Status`; any status but Idle needs a `CommandUUID`; the report must name a valid
/// enrollment (see [`ChannelIds::enrollment`]).
pub fn parse_report(body: &[u8]) -> Result<CommandReport, ParseError> {
    CommandReport::from_dict(parse_dictionary(body)?)
}

/// Reads `ErrorChain` as devices send it. Entries that are not dictionaries are skipped, and
/// fields of the wrong type read as absent: the chain explains a failure, and losing a report
/// (and so the command's outcome) over its explanation would be worse. The raw dictionary keeps
/// the chain as sent.
fn error_chain(dict: &Dictionary) -> Vec<ErrorChainItem> {
    let Some(Value::Array(items)) = dict.get("ErrorChain") else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_dictionary)
        .map(|item| ErrorChainItem {
            error_code: item.get("ErrorCode").and_then(error_code),
            error_domain: text(item, "ErrorDomain"),
            localized_description: text(item, "LocalizedDescription"),
            us_english_description: text(item, "USEnglishDescription"),
        })
        .collect()
}

/// An error code is an integer; a decimal string is accepted too.
fn error_code(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(i) => i.as_signed(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(dict: &Dictionary, key: &str) -> Option<String> {
    dict.get(key).and_then(Value::as_string).map(str::to_owned)
}

// `raw` holds the command's result, which can run to megabytes and can hold secrets (a FileVault
// recovery key, certificates), so `{:?}` lists its keys only.
impl fmt::Debug for CommandReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandReport")
            .field("ids", &self.ids)
            .field("status", &self.status)
            .field("command_uuid", &self.command_uuid)
            .field("error_chain", &self.error_chain)
            .field("raw_keys", &self.raw.keys().collect::<Vec<_>>())
            .finish()
    }
}
