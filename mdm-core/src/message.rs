//! [`Message`]: either kind of device request, for endpoints that take both.

use crate::decode::parse_dictionary;
use crate::{ChannelIds, CheckinMessage, CommandReport, ParseError};

#[cfg(test)]
mod tests;

/// A message a device sends: a check-in (has MessageType) or a command report (has Status).
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A check-in message.
    Checkin(CheckinMessage),
    /// A command report.
    Report(CommandReport),
}

impl Message {
    /// Who the message comes from.
    pub fn ids(&self) -> &ChannelIds {
        match self {
            Message::Checkin(checkin) => checkin.ids(),
            Message::Report(report) => &report.ids,
        }
    }
}

/// Parses a device's request body (XML or binary plist). Top level must be a dict.
///
/// A dictionary with `MessageType` is a check-in, one with `Status` a command report. A device
/// whose enrollment profile has no CheckInURL sends both kinds to the same URL, so the keys, not
/// the URL, decide. Having both keys, or neither, is an error.
pub fn parse_message(body: &[u8]) -> Result<Message, ParseError> {
    let dict = parse_dictionary(body)?;
    match (
        dict.contains_key("MessageType"),
        dict.contains_key("Status"),
    ) {
        (true, false) => CheckinMessage::from_dict(dict).map(Message::Checkin),
        (false, true) => CommandReport::from_dict(dict).map(Message::Report),
        (true, true) => Err(ParseError::AmbiguousMessageKind),
        (false, false) => Err(ParseError::UnknownMessageKind),
    }
}
