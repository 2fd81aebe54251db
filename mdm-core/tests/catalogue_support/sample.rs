//! Sample values for every key of a schema, within its allowed values and bounds: the tests
//! build every command and declaration type of the catalogues from them.

#![allow(dead_code)] // Each test binary uses one form.

use mdm_core::catalogue::{KeySchema, KeyType, WILDCARD};
use serde_json::{json, Map, Value as Json};

/// Which JSON the values are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// A command in the admin API: data as `{"$data": …}`, dates as `{"$date": …}`.
    Command,
    /// A declaration: data as base64 text.
    Declaration,
}

/// A value of `schema`'s type, within its allowed values and bounds, in `form`.
pub fn sample(schema: &KeySchema, form: Form) -> Json {
    if let Some(first) = schema.allowed.first() {
        return first.clone();
    }
    let number = schema.range.and_then(|r| r.min.or(r.max));
    match schema.kind {
        // Digits: a string the checker's few rules of form (a six-digit PIN) accept too.
        KeyType::String | KeyType::Any => json!("123456"),
        KeyType::Integer => json!(number.map_or(1, |n| n as i64)),
        KeyType::Real => json!(number.unwrap_or(1.5)),
        KeyType::Boolean => json!(true),
        KeyType::Date => json!({"$date": "2026-01-02T03:04:05Z"}),
        KeyType::Data if form == Form::Declaration => json!("AAEC"),
        KeyType::Data => json!({"$data": "AAEC"}),
        KeyType::Array => {
            let count = schema
                .repetition
                .and_then(|r| r.min)
                .unwrap_or(1.0)
                .max(1.0) as usize;
            // An element of each form the array allows (Settings' items), or `count` of its one.
            let items: Vec<Json> = match schema.subkeys.as_slice() {
                [] => vec![json!("example"); count],
                [element] => vec![sample(element, form); count],
                forms => forms.iter().map(|f| sample(f, form)).collect(),
            };
            Json::Array(items)
        }
        KeyType::Dictionary => Json::Object(sample_keys(&schema.subkeys, form)),
    }
}

pub fn sample_keys(keys: &[KeySchema], form: Form) -> Map<String, Json> {
    keys.iter()
        .map(|k| {
            let name = if k.key == WILDCARD {
                "free.key".to_owned()
            } else {
                k.key.clone()
            };
            (name, sample(k, form))
        })
        .collect()
}
