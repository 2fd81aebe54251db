//! Check-in messages: what a device sends to the check-in URL, told apart by `MessageType`.

use std::fmt;

use plist::Dictionary;

use crate::decode::parse_dictionary;
use crate::fields::{
    lenient_string, opt_bool, opt_bytes, opt_string, req_bytes, req_string, req_text_or_data,
};
use crate::{ChannelIds, ParseError};

mod response;
#[cfg(test)]
mod tests;

pub use response::bootstrap_token_response;

/// A check-in message, by `MessageType`.
// Authenticate is the largest variant because it keeps the raw dictionary. A message lives for
// one request, so the size is irrelevant, while boxing would make every match on it clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum CheckinMessage {
    /// `Authenticate`: the first message of an enrollment.
    Authenticate(Authenticate),
    /// `TokenUpdate`: the push token of a channel, sent after enrollment and when it changes.
    TokenUpdate(TokenUpdate),
    /// `CheckOut`: the MDM profile is being removed.
    CheckOut(CheckOut),
    /// `UserAuthenticate`: a macOS network user asks to be let onto the user channel.
    UserAuthenticate(UserAuthenticate),
    /// `SetBootstrapToken`: the device escrows (or removes) its bootstrap token.
    SetBootstrapToken(SetBootstrapToken),
    /// `GetBootstrapToken`: the device asks for its escrowed bootstrap token.
    GetBootstrapToken(GetBootstrapToken),
    /// `DeclarativeManagement`: the device syncs its declarations or reports their status
    /// (docs/declarative.md).
    DeclarativeManagement(crate::ddm::DeclarativeCheckin),
}

/// `Authenticate`: the device introduces itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Authenticate {
    /// Who the message comes from.
    pub ids: ChannelIds,
    /// `Topic`: the push topic the device will be woken on.
    pub topic: String,
    /// `OSVersion`.
    pub os_version: Option<String>,
    /// `BuildVersion`.
    pub build_version: Option<String>,
    /// `ProductName`, e.g. `iPad4,1`.
    pub product_name: Option<String>,
    /// `SerialNumber`.
    pub serial_number: Option<String>,
    /// `IMEI`.
    pub imei: Option<String>,
    /// `MEID`.
    pub meid: Option<String>,
    /// `DeviceName`.
    pub device_name: Option<String>,
    /// `Model`.
    pub model: Option<String>,
    /// `ModelName`.
    pub model_name: Option<String>,
    /// The whole message, so facts not modelled here are not lost.
    pub raw: Dictionary,
}

/// `TokenUpdate`: how to push to this channel.
#[derive(Clone, PartialEq)]
pub struct TokenUpdate {
    /// Who the message comes from.
    pub ids: ChannelIds,
    /// `Topic`: the push topic.
    pub topic: String,
    /// `Token`: the APNs device token (32 bytes from real devices).
    pub token: Vec<u8>,
    /// `PushMagic`: the string to put in push notifications for this channel.
    pub push_magic: String,
    /// `UnlockToken`: the keybag escrow secret that can clear the passcode; sent by supervised
    /// iOS devices on the device channel.
    pub unlock_token: Option<Vec<u8>>,
    /// `AwaitingConfiguration`: the device waits in Setup Assistant for DeviceConfigured.
    pub awaiting_configuration: Option<bool>,
    /// `NotOnConsole`: the user channel belongs to a user not logged in at the console.
    pub not_on_console: Option<bool>,
}

/// `CheckOut`: the device is leaving management.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOut {
    /// Who the message comes from.
    pub ids: ChannelIds,
    /// `Topic`: the push topic.
    pub topic: String,
}

/// `UserAuthenticate`: a network user asks to use the user channel.
#[derive(Clone, PartialEq)]
pub struct UserAuthenticate {
    /// Who the message comes from.
    pub ids: ChannelIds,
    /// `DigestResponse`: present in the second round, answering the server's DigestChallenge.
    pub digest_response: Option<String>,
}

/// `SetBootstrapToken`: the device escrows its bootstrap token.
#[derive(Clone, PartialEq)]
pub struct SetBootstrapToken {
    /// Who the message comes from.
    pub ids: ChannelIds,
    /// `BootstrapToken`: the token to keep; `None` means the stored token must be removed.
    pub bootstrap_token: Option<Vec<u8>>,
    /// `AwaitingConfiguration`.
    pub awaiting_configuration: Option<bool>,
}

/// `GetBootstrapToken`: the device asks for its bootstrap token back.
#[derive(Debug, Clone, PartialEq)]
pub struct GetBootstrapToken {
    /// Who the message comes from.
    pub ids: ChannelIds,
    /// `AwaitingConfiguration`.
    pub awaiting_configuration: Option<bool>,
}

impl CheckinMessage {
    /// Who the message comes from.
    pub fn ids(&self) -> &ChannelIds {
        match self {
            CheckinMessage::Authenticate(m) => &m.ids,
            CheckinMessage::TokenUpdate(m) => &m.ids,
            CheckinMessage::CheckOut(m) => &m.ids,
            CheckinMessage::UserAuthenticate(m) => &m.ids,
            CheckinMessage::SetBootstrapToken(m) => &m.ids,
            CheckinMessage::GetBootstrapToken(m) => &m.ids,
            CheckinMessage::DeclarativeManagement(m) => &m.ids,
        }
    }

    /// The `MessageType` as Apple spells it.
    pub fn message_type(&self) -> &'static str {
        match self {
            CheckinMessage::Authenticate(_) => "Authenticate",
            CheckinMessage::TokenUpdate(_) => "TokenUpdate",
            CheckinMessage::CheckOut(_) => "CheckOut",
            CheckinMessage::UserAuthenticate(_) => "UserAuthenticate",
            CheckinMessage::SetBootstrapToken(_) => "SetBootstrapToken",
            CheckinMessage::GetBootstrapToken(_) => "GetBootstrapToken",
            CheckinMessage::DeclarativeManagement(_) => "DeclarativeManagement",
        }
    }

    /// Reads a check-in from a message dictionary that has already been parsed.
    pub(crate) fn from_dict(dict: Dictionary) -> Result<Self, ParseError> {
        let message_type =
            opt_string(&dict, "MessageType")?.ok_or(ParseError::MissingMessageType)?;
        let ids = ChannelIds::from_dict(&dict)?;
        // Fail here rather than in every caller: a check-in that names no valid enrollment
        // cannot be acted on.
        ids.enrollment()?;
        let message = match message_type.as_str() {
            "Authenticate" => CheckinMessage::Authenticate(Authenticate {
                topic: req_string(&dict, "Topic")?,
                os_version: lenient_string(&dict, "OSVersion"),
                build_version: lenient_string(&dict, "BuildVersion"),
                product_name: lenient_string(&dict, "ProductName"),
                serial_number: lenient_string(&dict, "SerialNumber"),
                imei: lenient_string(&dict, "IMEI"),
                meid: lenient_string(&dict, "MEID"),
                device_name: lenient_string(&dict, "DeviceName"),
                model: lenient_string(&dict, "Model"),
                model_name: lenient_string(&dict, "ModelName"),
                ids,
                raw: dict,
            }),
            "TokenUpdate" => CheckinMessage::TokenUpdate(TokenUpdate {
                topic: req_string(&dict, "Topic")?,
                token: req_bytes(&dict, "Token")?,
                push_magic: req_text_or_data(&dict, "PushMagic")?,
                unlock_token: opt_bytes(&dict, "UnlockToken")?,
                awaiting_configuration: opt_bool(&dict, "AwaitingConfiguration")?,
                not_on_console: opt_bool(&dict, "NotOnConsole")?,
                ids,
            }),
            "CheckOut" => CheckinMessage::CheckOut(CheckOut {
                topic: req_string(&dict, "Topic")?,
                ids,
            }),
            "UserAuthenticate" => CheckinMessage::UserAuthenticate(UserAuthenticate {
                digest_response: opt_string(&dict, "DigestResponse")?,
                ids,
            }),
            "SetBootstrapToken" => CheckinMessage::SetBootstrapToken(SetBootstrapToken {
                bootstrap_token: opt_bytes(&dict, "BootstrapToken")?,
                awaiting_configuration: opt_bool(&dict, "AwaitingConfiguration")?,
                ids,
            }),
            "GetBootstrapToken" => CheckinMessage::GetBootstrapToken(GetBootstrapToken {
                awaiting_configuration: opt_bool(&dict, "AwaitingConfiguration")?,
                ids,
            }),
            "DeclarativeManagement" => CheckinMessage::DeclarativeManagement(
                crate::ddm::DeclarativeCheckin::from_dict(&dict, ids)?,
            ),
            _ => {
                return Err(ParseError::UnknownMessageType(crate::error::excerpt(
                    &message_type,
                )))
            }
        };
        message.check_lengths()?;
        Ok(message)
    }

    /// Refuses fields over their limits: they would be stored per device and sent to APNs
    /// with every push.
    fn check_lengths(&self) -> Result<(), ParseError> {
        use crate::fields::{at_most, MAX_FACT_LEN, MAX_PUSH_FIELD_LEN, MAX_SECRET_LEN};
        match self {
            CheckinMessage::Authenticate(m) => {
                at_most("Topic", m.topic.len(), MAX_PUSH_FIELD_LEN)?;
                for (field, value) in [
                    ("OSVersion", &m.os_version),
                    ("BuildVersion", &m.build_version),
                    ("ProductName", &m.product_name),
                    ("SerialNumber", &m.serial_number),
                    ("IMEI", &m.imei),
                    ("MEID", &m.meid),
                    ("DeviceName", &m.device_name),
                    ("Model", &m.model),
                    ("ModelName", &m.model_name),
                ] {
                    at_most(field, value.as_ref().map_or(0, String::len), MAX_FACT_LEN)?;
                }
            }
            CheckinMessage::TokenUpdate(m) => {
                at_most("Topic", m.topic.len(), MAX_PUSH_FIELD_LEN)?;
                at_most("Token", m.token.len(), MAX_PUSH_FIELD_LEN)?;
                at_most("PushMagic", m.push_magic.len(), MAX_PUSH_FIELD_LEN)?;
                at_most(
                    "UnlockToken",
                    m.unlock_token.as_ref().map_or(0, Vec::len),
                    MAX_SECRET_LEN,
                )?;
            }
            CheckinMessage::CheckOut(m) => at_most("Topic", m.topic.len(), MAX_PUSH_FIELD_LEN)?,
            CheckinMessage::SetBootstrapToken(m) => at_most(
                "BootstrapToken",
                m.bootstrap_token.as_ref().map_or(0, Vec::len),
                MAX_SECRET_LEN,
            )?,
            CheckinMessage::UserAuthenticate(m) => at_most(
                "DigestResponse",
                m.digest_response.as_ref().map_or(0, String::len),
                MAX_FACT_LEN,
            )?,
            CheckinMessage::GetBootstrapToken(_) | CheckinMessage::DeclarativeManagement(_) => {}
        }
        Ok(())
    }
}

/// Parses a check-in body (XML or binary plist). The top level must be a dictionary with a
/// `MessageType` this crate knows, and the message must name a valid enrollment
/// (see [`ChannelIds::enrollment`]).
pub fn parse_checkin(body: &[u8]) -> Result<CheckinMessage, ParseError> {
    CheckinMessage::from_dict(parse_dictionary(body)?)
}

// Secrets are shown by length only: these values end up in logs via `{:?}` sooner or later, and
// an unlock token, a bootstrap token or a password digest must never be among them.

impl fmt::Debug for TokenUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenUpdate")
            .field("ids", &self.ids)
            .field("topic", &self.topic)
            .field("token", &Hex(&self.token))
            .field("push_magic", &self.push_magic)
            .field("unlock_token", &self.unlock_token.as_deref().map(Redacted))
            .field("awaiting_configuration", &self.awaiting_configuration)
            .field("not_on_console", &self.not_on_console)
            .finish()
    }
}

impl fmt::Debug for UserAuthenticate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserAuthenticate")
            .field("ids", &self.ids)
            .field(
                "digest_response",
                &self
                    .digest_response
                    .as_deref()
                    .map(str::as_bytes)
                    .map(Redacted),
            )
            .finish()
    }
}

impl fmt::Debug for SetBootstrapToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetBootstrapToken")
            .field("ids", &self.ids)
            .field(
                "bootstrap_token",
                &self.bootstrap_token.as_deref().map(Redacted),
            )
            .field("awaiting_configuration", &self.awaiting_configuration)
            .finish()
    }
}

/// Shows a secret as its length.
struct Redacted<'a>(&'a [u8]);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted, {} bytes>", self.0.len())
    }
}

/// Shows a push token the way APNs and logs spell it.
struct Hex<'a>(&'a [u8]);

impl fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}
