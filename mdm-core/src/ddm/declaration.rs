//! [`check_declaration`]: a declaration an administrator submits, checked against the schema of
//! its `Type`, with its `ServerToken` computed from its content.

use plist::{Dictionary, Value};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

use crate::catalogue::{check::check_payload, declarations, SchemaError};
use crate::error::excerpt;
use crate::MAX_DEPTH;

/// A declaration as the server keeps and serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct Declaration {
    /// `Type`, e.g. `com.apple.configuration.passcode.settings`.
    pub declaration_type: String,
    /// `Identifier`, unique among a device's declarations.
    pub identifier: String,
    /// `ServerToken`: a digest of the type, identifier and payload, so it changes exactly when
    /// they do.
    pub server_token: String,
    /// `Payload`.
    pub payload: Map<String, Json>,
}

/// The four kinds of declaration, by the prefix of their `Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// `com.apple.activation.*`: which configurations apply, under a predicate.
    Activation,
    /// `com.apple.configuration.*`: settings.
    Configuration,
    /// `com.apple.asset.*`: data configurations refer to (credentials, files).
    Asset,
    /// `com.apple.management.*`: facts about the management itself.
    Management,
}

impl Category {
    /// Every category, in the order the manifest lists them.
    pub const ALL: [Category; 4] = [
        Category::Activation,
        Category::Asset,
        Category::Configuration,
        Category::Management,
    ];

    /// The category of a declaration `Type`.
    pub fn of(declaration_type: &str) -> Option<Category> {
        let prefixes = [
            ("com.apple.activation.", Category::Activation),
            ("com.apple.configuration.", Category::Configuration),
            ("com.apple.asset.", Category::Asset),
            ("com.apple.management.", Category::Management),
        ];
        prefixes
            .iter()
            .find(|(prefix, _)| declaration_type.starts_with(prefix))
            .map(|(_, category)| *category)
    }

    /// Its key in the `declaration-items` manifest: `Activations`, `Configurations`…
    pub fn manifest_key(self) -> &'static str {
        match self {
            Category::Activation => "Activations",
            Category::Configuration => "Configurations",
            Category::Asset => "Assets",
            Category::Management => "Management",
        }
    }

    /// Its key in the status item `management.declarations`, and in a declaration's URL
    /// (`declaration/configuration/<Identifier>`): `activation`…
    pub fn status_key(self) -> &'static str {
        match self {
            Category::Activation => "activations",
            Category::Configuration => "configurations",
            Category::Asset => "assets",
            Category::Management => "management",
        }
    }

    /// The singular in a declaration's URL: `declaration/configuration/<Identifier>`.
    pub fn url_segment(self) -> &'static str {
        match self {
            Category::Activation => "activation",
            Category::Configuration => "configuration",
            Category::Asset => "asset",
            Category::Management => "management",
        }
    }
}

/// Why a submitted declaration is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeclarationError {
    /// Not a JSON object.
    #[error("a declaration is a JSON object with Type, Identifier and Payload")]
    NotAnObject,
    /// An envelope key is missing.
    #[error("the declaration needs {0}")]
    Missing(&'static str),
    /// An envelope key has the wrong form.
    #[error("{key} must be {expected}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// A key that is not part of a declaration's envelope.
    #[error("unknown key {0} (a declaration holds Type, Identifier, ServerToken and Payload)")]
    UnknownKey(String),
    /// A `Type` the schema does not know.
    #[error("unknown declaration Type {0:?}: not in Apple's declarative schema")]
    UnknownType(String),
    /// The payload does not match the schema of its type.
    #[error("{0}")]
    Schema(SchemaError),
}

/// The longest `Identifier` taken: Apple asks for at most 64 octets; a little room is left for
/// identifiers other servers made, while keeping them short enough for a URL segment.
pub const MAX_IDENTIFIER_LEN: usize = 128;

/// Checks a declaration an administrator submits, `{"Type", "Identifier", "Payload"}` (a
/// `ServerToken` given is ignored: the server computes it), against Apple's declarative schema of
/// its `Type`: its payload's keys, types, required keys and allowed values, with errors that name
/// the key (`com.apple.configuration.passcode.settings: Payload.MinimumLength must be an integer,
/// not a string`). The identifier is printable, at most [`MAX_IDENTIFIER_LEN`] bytes, and holds
/// no `/` (it is a segment of the URL devices fetch it at).
pub fn check_declaration(json: &Json) -> Result<Declaration, DeclarationError> {
    let Json::Object(object) = json else {
        return Err(DeclarationError::NotAnObject);
    };
    if let Some(key) = object
        .keys()
        .find(|k| !["Type", "Identifier", "ServerToken", "Payload"].contains(&k.as_str()))
    {
        return Err(DeclarationError::UnknownKey(excerpt(key)));
    }
    let text = |key: &'static str| match object.get(key) {
        None => Err(DeclarationError::Missing(key)),
        Some(Json::String(s)) if !s.trim().is_empty() => Ok(s.as_str()),
        Some(_) => Err(DeclarationError::Invalid {
            key,
            expected: "a non-empty string",
        }),
    };
    let declaration_type = text("Type")?;
    let identifier = text("Identifier")?;
    if identifier.len() > MAX_IDENTIFIER_LEN
        || identifier.contains('/')
        || identifier.chars().any(char::is_control)
    {
        return Err(DeclarationError::Invalid {
            key: "Identifier",
            expected: "at most 128 bytes of printable text without '/'",
        });
    }
    let payload = match object.get("Payload") {
        None => return Err(DeclarationError::Missing("Payload")),
        Some(Json::Object(payload)) => payload,
        Some(_) => {
            return Err(DeclarationError::Invalid {
                key: "Payload",
                expected: "a JSON object",
            })
        }
    };
    let schema = declarations()
        .declarations
        .get(declaration_type)
        .ok_or_else(|| DeclarationError::UnknownType(excerpt(declaration_type)))?;
    let as_plist = to_plist(payload).map_err(|why| DeclarationError::Invalid {
        key: "Payload",
        expected: why,
    })?;
    check_payload(declaration_type, &schema.keys, &as_plist).map_err(DeclarationError::Schema)?;
    Ok(Declaration {
        declaration_type: declaration_type.to_owned(),
        identifier: identifier.to_owned(),
        server_token: server_token(declaration_type, identifier, payload),
        payload: payload.clone(),
    })
}

/// A digest of the declaration's content, key order aside: the same content always gives the
/// same token, and any change another.
pub fn server_token(
    declaration_type: &str,
    identifier: &str,
    payload: &Map<String, Json>,
) -> String {
    digest([declaration_type, identifier, &canonical_object(payload)])
}

/// JSON with every object's keys sorted, so key order never changes a token.
fn canonical(value: &Json) -> String {
    match value {
        Json::Object(map) => canonical_object(map),
        Json::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

fn canonical_object(map: &Map<String, Json>) -> String {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    let fields: Vec<String> = keys
        .into_iter()
        .map(|k| format!("{}:{}", Json::String(k.clone()), canonical(&map[k])))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// A short digest (128 bits, in hex) of `parts`, each prefixed by its length so that no two
/// lists of parts run together into the same bytes: the tokens of the protocol.
pub(super) fn digest<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.len().to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(&hasher.finalize()[..16])
}

/// The payload as a plist dictionary, for the schema checker; `null` has no plist value.
fn to_plist(payload: &Map<String, Json>) -> Result<Dictionary, &'static str> {
    fn convert(value: &Json, depth: usize) -> Result<Value, &'static str> {
        if depth > MAX_DEPTH {
            return Err("nested no deeper than the server reads");
        }
        Ok(match value {
            Json::Null => return Err("free of null values"),
            Json::Bool(b) => Value::Boolean(*b),
            Json::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Value::Integer(i.into()),
                (None, Some(u)) => Value::Integer(u.into()),
                _ => Value::Real(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => Value::String(s.clone()),
            Json::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| convert(item, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            Json::Object(map) => Value::Dictionary(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), convert(v, depth + 1)?)))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
    match convert(&Json::Object(payload.clone()), 0)? {
        Value::Dictionary(dict) => Ok(dict),
        _ => Err("a JSON object"),
    }
}
