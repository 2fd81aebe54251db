//! The answer to each `DeclarativeManagement` check-in endpoint (docs/declarative.md): `tokens`,
//! `declaration-items` and one declaration as JSON, computed from what the enrollment is served
//! now; `status` stored, answered with an empty body.

use super::served::Channel;
use super::store::{DeclarationRow, DeclarativeStore, ServedItem};
use crate::error::Error;
use mdm_core::ddm::{self, DeclarativeCheckin, Endpoint};
use serde_json::Value as Json;

/// What a check-in answers: a body and its media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The body.
    pub body: Vec<u8>,
    /// Its media type; `None` is a plist (or nothing).
    pub content_type: Option<&'static str>,
}

impl Answer {
    /// An empty body.
    pub fn empty() -> Answer {
        Answer {
            body: Vec::new(),
            content_type: None,
        }
    }

    fn json(value: &Json) -> Answer {
        Answer {
            body: value.to_string().into_bytes(),
            content_type: Some("application/json"),
        }
    }
}

/// The manifest entry of a served declaration (its payload is not needed for tokens).
fn manifest_entry(item: ServedItem) -> ddm::Declaration {
    ddm::Declaration {
        declaration_type: item.declaration_type,
        identifier: item.identifier,
        server_token: item.server_token,
        payload: serde_json::Map::new(),
    }
}

/// A stored declaration as served.
fn served(row: DeclarationRow) -> Result<ddm::Declaration, Error> {
    let payload = match serde_json::from_str(&row.payload) {
        Ok(Json::Object(payload)) => payload,
        // Only payloads checked as objects are stored.
        _ => {
            return Err(Error::InvalidRequest(format!(
                "declaration {} has a stored payload that is not an object",
                row.identifier
            )))
        }
    };
    Ok(ddm::Declaration {
        declaration_type: row.declaration_type,
        identifier: row.identifier,
        server_token: row.server_token,
        payload,
    })
}

/// RFC 3339 in UTC, seconds precision, as the `Timestamp` of the sync tokens.
fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

impl DeclarativeStore {
    /// Answers `checkin` from `channel`; `None` when the certificate's binding to the channel
    /// did not hold in the answer's own statement (the caller authorizes, then asks again).
    pub async fn answer(
        &self,
        channel: &Channel<'_>,
        checkin: &DeclarativeCheckin,
    ) -> Result<Option<Answer>, Error> {
        match &checkin.endpoint {
            Endpoint::Tokens => {
                let Some(items) = self.served_to(channel).await? else {
                    return Ok(None);
                };
                // When the newest of its declarations changed; a device compares the token.
                let changed_at = items.iter().map(|i| i.updated_at).max().unwrap_or(0);
                let manifest: Vec<ddm::Declaration> =
                    items.into_iter().map(manifest_entry).collect();
                let token = ddm::declarations_token(&manifest);
                Ok(Some(Answer::json(&ddm::tokens(
                    &token,
                    &rfc3339(changed_at),
                ))))
            }
            Endpoint::DeclarationItems => {
                let Some(items) = self.served_to(channel).await? else {
                    return Ok(None);
                };
                let manifest: Vec<ddm::Declaration> =
                    items.into_iter().map(manifest_entry).collect();
                Ok(Some(Answer::json(&ddm::declaration_items(&manifest))))
            }
            Endpoint::Declaration {
                category,
                identifier,
            } => {
                let Some(row) = self.served_declaration_to(channel, identifier).await? else {
                    return Ok(None);
                };
                let not_served = || {
                    Error::Absent(format!(
                        "no {} {identifier:?} is served to {}",
                        category.url_segment(),
                        channel.id
                    ))
                };
                let row = row.ok_or_else(not_served)?;
                if ddm::Category::of(&row.declaration_type) != Some(*category) {
                    return Err(not_served());
                }
                Ok(Some(Answer::json(&served(row)?.body())))
            }
            Endpoint::Status => {
                let data = checkin.data.as_deref().unwrap_or_default();
                let report = ddm::parse_status_report(data)?;
                let stored = self.record_status(channel, &report).await?;
                Ok(stored.then(Answer::empty))
            }
        }
    }
}
