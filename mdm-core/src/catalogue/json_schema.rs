//! The catalogue as JSON Schema: one object per request type in the admin API's JSON form with
//! Apple's keys (`{"RequestType": "DeviceLock", "PIN": "123456"}`, data as `{"$data": base64}`,
//! dates as `{"$date": RFC 3339}`), for the OpenAPI document and the clients that build command
//! forms from it.

use serde_json::{json, Map, Value as Json};

use super::model::{Catalogue, CommandSchema, KeySchema, KeyType, WILDCARD};
use super::server_supplied;

impl Catalogue {
    /// `{"oneOf": [...]}`, one object schema per request type, each titled with its request
    /// type and carrying `x-platforms` (platform → first OS version; `supervised` where only a
    /// supervised device runs it).
    pub fn json_schema(&self) -> Json {
        let variants: Vec<Json> = self.commands.values().map(command_schema).collect();
        json!({
            "description": format!(
                "A command with Apple's keys, one form per request type of the schema ({}).",
                self.source
            ),
            "oneOf": variants,
        })
    }
}

fn command_schema(command: &CommandSchema) -> Json {
    let request_type = command.request_type.as_str();
    let keys: Vec<&KeySchema> = command
        .keys
        .iter()
        .filter(|k| !server_supplied(request_type, &k.key))
        .collect();
    let mut properties = Map::new();
    properties.insert(
        "RequestType".into(),
        json!({"type": "string", "enum": [request_type]}),
    );
    let mut required = vec![json!("RequestType")];
    for key in keys {
        properties.insert(key.key.clone(), value_schema(key));
        if key.required {
            required.push(json!(key.key));
        }
    }
    let platforms: Map<String, Json> = command
        .platforms
        .iter()
        .map(|(platform, support)| {
            let mut text = support.introduced.clone();
            if support.supervised {
                text.push_str(" supervised");
            }
            (platform.name().to_owned(), json!(text))
        })
        .collect();
    json!({
        "title": request_type,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
        "x-platforms": platforms,
    })
}

fn value_schema(key: &KeySchema) -> Json {
    let mut schema = match key.kind {
        KeyType::String => json!({"type": "string"}),
        KeyType::Integer => json!({"type": "integer"}),
        KeyType::Real => json!({"type": "number"}),
        KeyType::Boolean => json!({"type": "boolean"}),
        KeyType::Date => wrapped("$date", json!({"type": "string", "format": "date-time"})),
        KeyType::Data => wrapped("$data", json!({"type": "string", "format": "byte"})),
        KeyType::Any => json!({}),
        KeyType::Array => {
            let items = match key.subkeys.as_slice() {
                [] => json!({}),
                [element] => value_schema(element),
                forms => json!({"oneOf": forms.iter().map(value_schema).collect::<Vec<_>>()}),
            };
            let mut array = json!({"type": "array", "items": items});
            if let Some(bounds) = key.repetition {
                put_bound(&mut array, "minItems", bounds.min);
                put_bound(&mut array, "maxItems", bounds.max);
            }
            array
        }
        KeyType::Dictionary => dictionary_schema(&key.subkeys),
    };
    if !key.allowed.is_empty() {
        put(&mut schema, "enum", Json::Array(key.allowed.clone()));
    }
    if let Some(range) = key.range {
        put_bound(&mut schema, "minimum", range.min);
        put_bound(&mut schema, "maximum", range.max);
    }
    if let Some(default) = &key.default {
        put(&mut schema, "default", default.clone());
    }
    schema
}

/// A dictionary: its keys, or free when the schema names none; free keys (`*`) take the
/// wildcard's schema.
fn dictionary_schema(keys: &[KeySchema]) -> Json {
    if keys.is_empty() {
        return json!({"type": "object"});
    }
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut additional = json!(false);
    for key in keys {
        if key.key == WILDCARD {
            // Free keys of any value are `true`, the form every OpenAPI reader takes.
            additional = match key.kind {
                KeyType::Any => json!(true),
                _ => value_schema(key),
            };
            continue;
        }
        properties.insert(key.key.clone(), value_schema(key));
        if key.required {
            required.push(json!(key.key));
        }
    }
    let mut schema = json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": additional,
    });
    if !required.is_empty() {
        schema["required"] = Json::Array(required);
    }
    schema
}

/// `{"$data": …}` / `{"$date": …}`: the one-key objects that carry the plist types JSON lacks.
fn wrapped(name: &str, inner: Json) -> Json {
    json!({
        "type": "object",
        "properties": {name: inner},
        "required": [name],
        "additionalProperties": false,
    })
}

/// Sets `name` in an object schema (every schema made here is one).
fn put(schema: &mut Json, name: &str, value: Json) {
    if let Json::Object(map) = schema {
        map.insert(name.into(), value);
    }
}

fn put_bound(schema: &mut Json, name: &str, bound: Option<f64>) {
    if let Some(bound) = bound {
        // Whole bounds as integers: `minItems` must be one, and `1` reads better than `1.0`.
        let value = if bound.fract() == 0.0 && bound.abs() < 1e15 {
            json!(bound as i64)
        } else {
            json!(bound)
        };
        put(schema, name, value);
    }
}
