//! Plist values as JSON, for the admin API: command results as a device reported them.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use plist::Value;
use serde_json::{Map, Number, Value as Json};

use crate::decode::parse_dictionary;
use crate::ParseError;

#[cfg(test)]
mod tests;

/// Converts a plist value to JSON: dictionary → object, array → array, string → string,
/// boolean → boolean, integer → number (any `i64` or `u64`), real → number (a non-finite real,
/// which JSON cannot hold, → `null`), date → RFC 3339 string (`2016-11-03T03:12:26Z`), data →
/// standard base64 string, UID → number.
///
/// Dates and data become strings, so the conversion does not round-trip; it is for reading.
/// Values from [`crate::parse_plist_value`] nest at most [`crate::MAX_DEPTH`] levels, which bounds
/// the recursion here.
pub fn plist_to_json(value: &Value) -> Json {
    match value {
        Value::Dictionary(dict) => Json::Object(
            dict.iter()
                .map(|(key, value)| (key.clone(), plist_to_json(value)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Json::Array(items.iter().map(plist_to_json).collect()),
        Value::String(s) => Json::String(s.clone()),
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => match (i.as_signed(), i.as_unsigned()) {
            (Some(signed), _) => Json::from(signed),
            (None, Some(unsigned)) => Json::from(unsigned),
            (None, None) => Json::Null,
        },
        Value::Real(r) => Number::from_f64(*r).map_or(Json::Null, Json::Number),
        Value::Date(date) => Json::String(date.to_xml_format()),
        Value::Data(bytes) => Json::String(STANDARD.encode(bytes)),
        Value::Uid(uid) => Json::from(uid.get()),
        _ => Json::Null,
    }
}

/// Parses a device's report (XML or binary plist, through the bounded parser of
/// [`crate::parse_plist_value`]) and converts it with [`plist_to_json`]. The top level must be a
/// dictionary, as every report is; nothing else about the report is checked.
pub fn report_to_json(body: &[u8]) -> Result<Json, ParseError> {
    Ok(plist_to_json(&Value::Dictionary(parse_dictionary(body)?)))
}
