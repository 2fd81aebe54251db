//! [`parse_declarative_checkin`]: the `DeclarativeManagement` check-in a device sends while it
//! syncs, and the [`Endpoint`] it asks for.

use plist::Dictionary;

use crate::decode::parse_dictionary;
use crate::error::excerpt;
use crate::fields::{opt_bytes, opt_string, req_string};
use crate::ids::ChannelIds;
use crate::ParseError;

use super::declaration::MAX_IDENTIFIER_LEN;
use super::Category;

/// A `DeclarativeManagement` check-in.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclarativeCheckin {
    /// Who the message comes from (validated: it names an enrollment).
    pub ids: ChannelIds,
    /// What it asks for.
    pub endpoint: Endpoint,
    /// `Data`: the status report for [`Endpoint::Status`] (JSON), absent otherwise.
    pub data: Option<Vec<u8>>,
}

/// The `Endpoint` of a `DeclarativeManagement` check-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `tokens`: the sync tokens.
    Tokens,
    /// `declaration-items`: the manifest.
    DeclarationItems,
    /// `declaration/<category>/<Identifier>`: one declaration.
    Declaration {
        /// The category named in the path.
        category: Category,
        /// The identifier.
        identifier: String,
    },
    /// `status`: a status report, in `Data`.
    Status,
}

impl Endpoint {
    /// Reads an `Endpoint` value. A declaration's path must name a category and an identifier
    /// that could be one of ours (printable, at most [`MAX_IDENTIFIER_LEN`] bytes, no further
    /// `/`): anything else is refused rather than looked up.
    pub fn parse(endpoint: &str) -> Result<Endpoint, ParseError> {
        let refused = || {
            ParseError::InvalidField {
            field: "Endpoint",
            reason: format!(
                "{:?} is not tokens, declaration-items, status or declaration/<category>/<Identifier>",
                excerpt(endpoint)
            ),
        }
        };
        match endpoint {
            "tokens" => Ok(Endpoint::Tokens),
            "declaration-items" => Ok(Endpoint::DeclarationItems),
            "status" => Ok(Endpoint::Status),
            other => {
                let rest = other.strip_prefix("declaration/").ok_or_else(refused)?;
                let (segment, identifier) = rest.split_once('/').ok_or_else(refused)?;
                let category = Category::ALL
                    .into_iter()
                    .find(|c| c.url_segment() == segment)
                    .ok_or_else(refused)?;
                if identifier.is_empty()
                    || identifier.len() > MAX_IDENTIFIER_LEN
                    || identifier.contains('/')
                    || identifier.chars().any(char::is_control)
                {
                    return Err(refused());
                }
                Ok(Endpoint::Declaration {
                    category,
                    identifier: identifier.to_owned(),
                })
            }
        }
    }
}

/// Parses a `DeclarativeManagement` check-in body (XML or binary plist): `MessageType` must be
/// `DeclarativeManagement`, the channel IDs must name an enrollment, `Endpoint` must be one the
/// protocol defines ([`Endpoint::parse`]), and a `status` check-in must carry its report in
/// `Data`. The caller bounds the body's size. ([`crate::parse_checkin`] reads the same message
/// as [`crate::CheckinMessage::DeclarativeManagement`].)
pub fn parse_declarative_checkin(body: &[u8]) -> Result<DeclarativeCheckin, ParseError> {
    let dict = parse_dictionary(body)?;
    let message_type = opt_string(&dict, "MessageType")?.ok_or(ParseError::MissingMessageType)?;
    if message_type != "DeclarativeManagement" {
        return Err(ParseError::UnknownMessageType(excerpt(&message_type)));
    }
    let ids = ChannelIds::from_dict(&dict)?;
    ids.enrollment()?;
    DeclarativeCheckin::from_dict(&dict, ids)
}

impl DeclarativeCheckin {
    /// The check-in's `Endpoint` and `Data` read from its dictionary, whose `MessageType` and
    /// channel IDs (`ids`) were read already.
    pub(crate) fn from_dict(dict: &Dictionary, ids: ChannelIds) -> Result<Self, ParseError> {
        let endpoint = Endpoint::parse(&req_string(dict, "Endpoint")?)?;
        let data = opt_bytes(dict, "Data")?;
        if endpoint == Endpoint::Status && data.is_none() {
            return Err(ParseError::MissingField("Data"));
        }
        Ok(DeclarativeCheckin {
            ids,
            endpoint,
            data,
        })
    }
}
