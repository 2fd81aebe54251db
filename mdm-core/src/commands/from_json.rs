//! [`command_from_json`]: a raw JSON object as a `Command` dictionary, for any request type.

use std::fmt::Write as _;

use plist::{Date, Dictionary, Value};
use serde_json::{Map, Number, Value as Json};

use super::check_request_type;
use super::xml_text::{is_xml_text, NOT_XML_TEXT};
use crate::decode::decode_base64;
use crate::error::{excerpt, reason};
use crate::{ParseError, MAX_DEPTH};

#[cfg(test)]
mod tests;

/// Converts a JSON object to a `Command` dictionary, for request types [`super::CommandSpec`]
/// does not type.
///
/// Strings, booleans, numbers, arrays and objects map to their plist counterparts (an integer
/// that fits `i64` or `u64` becomes `<integer>`, any other number `<real>`). JSON has no bytes or
/// dates, so an object of exactly one key is special:
/// - `{"$data": "<base64>"}` becomes `<data>`;
/// - `{"$date": "<RFC 3339>"}` becomes `<date>`.
///
/// `null` has no plist counterpart and is rejected, as are strings (keys included) holding a
/// character XML cannot carry and nesting deeper than [`MAX_DEPTH`]. The result must have a
/// non-empty string `RequestType`, checked as by [`super::parse_command_plist`].
pub fn command_from_json(value: &Json) -> Result<Dictionary, ParseError> {
    let mut path = Vec::new();
    let command = match convert(value, &mut path)? {
        Value::Dictionary(command) => command,
        other => {
            return Err(ParseError::NotADictionary {
                found: crate::fields::type_name(&other),
            })
        }
    };
    check_request_type(&command)?;
    Ok(command)
}

/// One step of the path to a value, for error messages.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn convert<'a>(value: &'a Json, path: &mut Vec<Step<'a>>) -> Result<Value, ParseError> {
    Ok(match value {
        Json::Null => return Err(invalid(path, "null has no plist equivalent")),
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => number(n),
        Json::String(s) => Value::String(text(s, path)?),
        Json::Array(items) => {
            check_depth(path)?;
            let mut values = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                path.push(Step::Index(index));
                values.push(convert(item, path)?);
                path.pop();
            }
            Value::Array(values)
        }
        Json::Object(map) => {
            if let Some(special) = special(map, path)? {
                return Ok(special);
            }
            check_depth(path)?;
            let mut dict = Dictionary::new();
            for (key, item) in map {
                path.push(Step::Key(key));
                let key = text(key, path)?;
                let item = convert(item, path)?;
                path.pop();
                dict.insert(key, item);
            }
            Value::Dictionary(dict)
        }
    })
}

/// `{"$data": …}` and `{"$date": …}`; `None` for an ordinary object.
fn special(map: &Map<String, Json>, path: &[Step<'_>]) -> Result<Option<Value>, ParseError> {
    if map.len() != 1 {
        return Ok(None);
    }
    if let Some(data) = map.get("$data") {
        let Json::String(data) = data else {
            return Err(invalid(path, "$data must hold a base64 string"));
        };
        let bytes = decode_base64(data)
            .map_err(|why| invalid(path, &format!("$data is not base64: {why}")))?;
        return Ok(Some(Value::Data(bytes)));
    }
    if let Some(date) = map.get("$date") {
        let date = date
            .as_str()
            .and_then(|d| Date::from_xml_format(d.trim()).ok())
            .ok_or_else(|| invalid(path, "$date must hold an RFC 3339 date-time string"))?;
        return Ok(Some(Value::Date(date)));
    }
    Ok(None)
}

fn number(n: &Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::Integer(i.into())
    } else if let Some(u) = n.as_u64() {
        Value::Integer(u.into())
    } else {
        // serde_json numbers are finite, so this is an ordinary real.
        Value::Real(n.as_f64().unwrap_or(f64::NAN))
    }
}

fn text(s: &str, path: &[Step<'_>]) -> Result<String, ParseError> {
    if is_xml_text(s) {
        Ok(s.to_owned())
    } else {
        Err(invalid(path, NOT_XML_TEXT))
    }
}

/// `path` leads to a container: it may add one level to the `path.len()` above it.
fn check_depth(path: &[Step<'_>]) -> Result<(), ParseError> {
    if path.len() >= MAX_DEPTH {
        return Err(ParseError::TooDeep { limit: MAX_DEPTH });
    }
    Ok(())
}

fn invalid(path: &[Step<'_>], why: &str) -> ParseError {
    let mut at = String::from("$");
    for step in path {
        // Writing to a String cannot fail.
        let _ = match step {
            Step::Key(key) => write!(at, ".{}", excerpt(key).escape_debug()),
            Step::Index(index) => write!(at, "[{index}]"),
        };
    }
    ParseError::InvalidJson {
        path: reason(&at),
        reason: why.to_owned(),
    }
}
