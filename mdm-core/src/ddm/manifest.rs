//! What a device fetches while it syncs: the `tokens`, the `declaration-items` manifest and one
//! declaration; and the `DeclarativeManagement` command that starts a sync.

use super::declaration::digest;
use super::{Category, Declaration};
use plist::{Dictionary, Value};
use serde_json::{json, Map, Value as Json};

/// The `DeclarationsToken` over a device's declarations: changes when one is added, removed or
/// changed, whatever their order.
pub fn declarations_token(declarations: &[Declaration]) -> String {
    let mut entries: Vec<(&str, &str)> = declarations
        .iter()
        .map(|d| (d.identifier.as_str(), d.server_token.as_str()))
        .collect();
    entries.sort_unstable();
    digest(
        entries
            .into_iter()
            .flat_map(|(identifier, token)| [identifier, token]),
    )
}

/// The body of the `tokens` endpoint: `{"SyncTokens": {"DeclarationsToken", "Timestamp"}}`,
/// `timestamp` in RFC 3339 (when the device's declarations last changed).
pub fn tokens(declarations_token: &str, timestamp: &str) -> Json {
    json!({"SyncTokens": {"DeclarationsToken": declarations_token, "Timestamp": timestamp}})
}

/// The body of the `declaration-items` endpoint: each declaration's `Identifier` and
/// `ServerToken` under its category, and the `DeclarationsToken`. A declaration whose `Type`
/// has no category is left out (the catalogue's types all have one).
pub fn declaration_items(declarations: &[Declaration]) -> Json {
    let mut by_category: Map<String, Json> = Category::ALL
        .iter()
        .map(|c| (c.manifest_key().to_owned(), Json::Array(Vec::new())))
        .collect();
    for declaration in declarations {
        let Some(category) = Category::of(&declaration.declaration_type) else {
            continue;
        };
        if let Some(Json::Array(items)) = by_category.get_mut(category.manifest_key()) {
            items.push(json!({
                "Identifier": declaration.identifier,
                "ServerToken": declaration.server_token,
            }));
        }
    }
    json!({
        "Declarations": by_category,
        "DeclarationsToken": declarations_token(declarations),
    })
}

impl Declaration {
    /// The body of `declaration/<category>/<Identifier>`.
    pub fn body(&self) -> Json {
        json!({
            "Type": self.declaration_type,
            "Identifier": self.identifier,
            "ServerToken": self.server_token,
            "Payload": self.payload,
        })
    }
}

/// The `DeclarativeManagement` command that makes a device sync, carrying its `tokens` body as
/// `Data` so it can skip the `tokens` request.
pub fn sync_command(tokens_body: &Json) -> Dictionary {
    let mut command = Dictionary::new();
    command.insert(
        "RequestType".into(),
        Value::String("DeclarativeManagement".into()),
    );
    command.insert(
        "Data".into(),
        Value::Data(tokens_body.to_string().into_bytes()),
    );
    command
}
