//! The server's answers a device reads while it syncs, read strictly: the sync tokens (from the
//! `tokens` endpoint or a `DeclarativeManagement` command's `Data`), the `declaration-items`
//! manifest, and one declaration. A malformed answer fails the sync with what is wrong, rather
//! than being guessed at.

use crate::sim::device::SimError;
use mdm_core::ddm::{Category, Endpoint};
use plist::{Dictionary, Value};
use serde_json::{Map, Value as Json};
use std::collections::BTreeSet;

/// The most declarations a device takes in one manifest.
pub const MAX_ITEMS: usize = 1_000;

/// `SyncTokens`: what the server's declarations are at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncTokens {
    /// `DeclarationsToken`: changes whenever a declaration is added, changed or removed.
    pub declarations_token: String,
    /// `Timestamp`, when the server sent one.
    pub timestamp: Option<String>,
}

impl SyncTokens {
    /// Reads `{"SyncTokens": {"DeclarationsToken": "…", "Timestamp": "…"}}`.
    pub fn parse(body: &[u8]) -> Result<SyncTokens, String> {
        let json: Json = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        let tokens = json
            .get("SyncTokens")
            .and_then(Json::as_object)
            .ok_or("no SyncTokens object")?;
        let declarations_token = tokens
            .get("DeclarationsToken")
            .and_then(Json::as_str)
            .filter(|token| !token.is_empty())
            .ok_or("SyncTokens has no DeclarationsToken string")?
            .to_owned();
        let timestamp = match tokens.get("Timestamp") {
            None => None,
            Some(Json::String(timestamp)) => Some(timestamp.clone()),
            Some(_) => return Err("SyncTokens.Timestamp is not a string".into()),
        };
        Ok(SyncTokens {
            declarations_token,
            timestamp,
        })
    }

    /// The tokens a `DeclarativeManagement` command carries in `Data`, if any: with them the
    /// device skips the `tokens` request.
    pub fn from_command(command: &Dictionary) -> Result<Option<SyncTokens>, String> {
        match command.get("Data") {
            None => Ok(None),
            Some(Value::Data(data)) => SyncTokens::parse(data)
                .map(Some)
                .map_err(|why| format!("Data: {why}")),
            Some(_) => Err("Data is not data".into()),
        }
    }
}

/// One entry of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ManifestItem {
    pub category: Category,
    pub identifier: String,
    pub server_token: String,
}

/// The `declaration-items` manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Manifest {
    pub items: Vec<ManifestItem>,
    /// `DeclarationsToken`, when present.
    pub declarations_token: Option<String>,
}

const ITEMS: &str = "declaration-items";

/// Reads `{"Declarations": {"Activations": [{"Identifier", "ServerToken"}], …},
/// "DeclarationsToken"}`. A category left out is empty. Refused: more than [`MAX_ITEMS`]
/// entries, an identifier twice, or one that could not be fetched (not a URL segment).
pub(super) fn parse_manifest(body: &[u8]) -> Result<Manifest, SimError> {
    let bad = |reason: String| SimError::DdmAnswer {
        endpoint: ITEMS.into(),
        reason,
    };
    let json: Json = serde_json::from_slice(body).map_err(|e| bad(format!("not JSON: {e}")))?;
    let declarations = json
        .get("Declarations")
        .and_then(Json::as_object)
        .ok_or_else(|| bad("no Declarations object".into()))?;
    let declarations_token = match json.get("DeclarationsToken") {
        None => None,
        Some(Json::String(token)) => Some(token.clone()),
        Some(_) => return Err(bad("DeclarationsToken is not a string".into())),
    };
    let mut lists = Vec::new();
    for category in Category::ALL {
        match declarations.get(category.manifest_key()) {
            None => {}
            Some(Json::Array(entries)) => lists.push((category, entries)),
            Some(_) => {
                return Err(bad(format!(
                    "Declarations.{} is not an array",
                    category.manifest_key()
                )))
            }
        }
    }
    let count = lists.iter().map(|(_, entries)| entries.len()).sum();
    if count > MAX_ITEMS {
        return Err(SimError::DdmTooManyItems {
            count,
            limit: MAX_ITEMS,
        });
    }
    let mut seen = BTreeSet::new();
    let mut items = Vec::with_capacity(count);
    for (category, entries) in lists {
        for (index, entry) in entries.iter().enumerate() {
            let at = format!("Declarations.{}[{index}]", category.manifest_key());
            let item = manifest_item(category, entry).map_err(|why| bad(format!("{at}: {why}")))?;
            if !seen.insert(item.identifier.clone()) {
                return Err(bad(format!("{at}: {:?} is listed twice", item.identifier)));
            }
            items.push(item);
        }
    }
    Ok(Manifest {
        items,
        declarations_token,
    })
}

fn manifest_item(category: Category, entry: &Json) -> Result<ManifestItem, String> {
    let text = |key: &str| {
        entry
            .get(key)
            .and_then(Json::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("needs a non-empty string {key}"))
    };
    let identifier = text("Identifier")?;
    let server_token = text("ServerToken")?;
    // The identifier becomes a path the device asks for: the server must be able to read it.
    Endpoint::parse(&declaration_endpoint(category, &identifier))
        .map_err(|_| format!("Identifier {identifier:?} cannot be fetched as a path segment"))?;
    Ok(ManifestItem {
        category,
        identifier,
        server_token,
    })
}

/// `declaration/<category>/<Identifier>`.
pub(super) fn declaration_endpoint(category: Category, identifier: &str) -> String {
    format!("declaration/{}/{identifier}", category.url_segment())
}

/// A declaration's body as a JSON object; whether it is a valid declaration is the device's to
/// judge (it becomes invalid, not a failed sync), but something that is not an object at all is
/// a broken answer.
pub(super) fn parse_declaration(
    endpoint: &str,
    body: &[u8],
) -> Result<Map<String, Json>, SimError> {
    let bad = |reason: String| SimError::DdmAnswer {
        endpoint: endpoint.to_owned(),
        reason,
    };
    match serde_json::from_slice(body) {
        Ok(Json::Object(object)) => Ok(object),
        Ok(_) => Err(bad("a declaration is a JSON object".into())),
        Err(e) => Err(bad(format!("not JSON: {e}"))),
    }
}
