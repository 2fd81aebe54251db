//! Reading typed fields out of a message dictionary, with one policy for all messages.
//!
//! Fields that drive behaviour (identifiers, MessageType, Status, Token, PushMagic, the
//! configuration flags) are strict: a wrong type is a [`ParseError::WrongType`], because guessing
//! would act on something the device did not say. Fields that are only recorded (device facts,
//! user names, the error chain) are lenient: a wrong type reads as absent, and the value stays in
//! the message's raw dictionary. An empty string or empty data counts as absent everywhere.

use plist::{Dictionary, Value};

use crate::decode::decode_base64;
use crate::ParseError;

#[cfg(test)]
mod tests;

/// A plist type's name, for error messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "an array",
        Value::Dictionary(_) => "a dictionary",
        Value::Boolean(_) => "a boolean",
        Value::Data(_) => "data",
        Value::Date(_) => "a date",
        Value::Real(_) => "a real",
        Value::Integer(_) => "an integer",
        Value::String(_) => "a string",
        Value::Uid(_) => "a UID",
        _ => "an unknown plist type",
    }
}

/// The longest push `Topic`, `Token` and `PushMagic` accepted, in bytes. Real ones are about 60,
/// 32 and 36; they go into a database row and an APNs request per push.
pub const MAX_PUSH_FIELD_LEN: usize = 255;

/// The longest secret blob accepted (`UnlockToken`, `BootstrapToken`); real ones are a few KB.
pub const MAX_SECRET_LEN: usize = 64 * 1024;

/// The longest recorded fact (`DeviceName`, `OSVersion`, ...) accepted; they are shown to
/// administrators and kept per device.
pub const MAX_FACT_LEN: usize = 1024;

/// Refuses a field longer than `max` bytes, saying how long it was (never echoing it).
pub(crate) fn at_most(field: &'static str, len: usize, max: usize) -> Result<(), ParseError> {
    if len > max {
        return Err(ParseError::InvalidField {
            field,
            reason: format!("{len} bytes, more than the {max} allowed"),
        });
    }
    Ok(())
}

/// A strict optional string.
pub(crate) fn opt_string(
    dict: &Dictionary,
    key: &'static str,
) -> Result<Option<String>, ParseError> {
    match dict.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(wrong_type(key, "a string", other)),
    }
}

/// A strict required string.
pub(crate) fn req_string(dict: &Dictionary, key: &'static str) -> Result<String, ParseError> {
    opt_string(dict, key)?.ok_or(ParseError::MissingField(key))
}

/// A lenient string: anything but a non-empty string reads as absent.
pub(crate) fn lenient_string(dict: &Dictionary, key: &str) -> Option<String> {
    match dict.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// A strict optional boolean. Integers 0 and 1 are accepted too, as some clients serialise
/// booleans that way; any other value is an error.
pub(crate) fn opt_bool(dict: &Dictionary, key: &'static str) -> Result<Option<bool>, ParseError> {
    match dict.get(key) {
        None => Ok(None),
        Some(Value::Boolean(b)) => Ok(Some(*b)),
        Some(Value::Integer(i)) if i.as_unsigned() == Some(0) => Ok(Some(false)),
        Some(Value::Integer(i)) if i.as_unsigned() == Some(1) => Ok(Some(true)),
        Some(other) => Err(wrong_type(key, "a boolean", other)),
    }
}

/// A strict optional byte string, normally `<data>`.
///
/// A `<string>` is accepted as well, since hand-written clients sometimes use the wrong tag, and
/// it is decoded as the bytes it evidently encodes: an even-length string of hex digits is hex
/// (the form a push token takes everywhere outside a plist, e.g. in the APNs request path), any
/// other string must be base64. Taking the string's raw UTF-8 bytes instead would turn a hex token
/// into 64 bytes of ASCII and push to a device that does not exist.
pub(crate) fn opt_bytes(
    dict: &Dictionary,
    key: &'static str,
) -> Result<Option<Vec<u8>>, ParseError> {
    let bytes = match dict.get(key) {
        None => return Ok(None),
        Some(Value::Data(bytes)) => bytes.clone(),
        Some(Value::String(text)) => bytes_from_string(key, text)?,
        Some(other) => return Err(wrong_type(key, "data", other)),
    };
    Ok(Some(bytes).filter(|b| !b.is_empty()))
}

/// A strict required byte string (see [`opt_bytes`]).
pub(crate) fn req_bytes(dict: &Dictionary, key: &'static str) -> Result<Vec<u8>, ParseError> {
    opt_bytes(dict, key)?.ok_or(ParseError::MissingField(key))
}

/// A strict required text field that may arrive as `<data>` holding its UTF-8 bytes (PushMagic
/// does on some devices).
pub(crate) fn req_text_or_data(dict: &Dictionary, key: &'static str) -> Result<String, ParseError> {
    let text = match dict.get(key) {
        None => return Err(ParseError::MissingField(key)),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Data(bytes)) => {
            String::from_utf8(bytes.clone()).map_err(|_| ParseError::InvalidField {
                field: key,
                reason: "data that is not UTF-8 text".into(),
            })?
        }
        Some(other) => return Err(wrong_type(key, "a string or data", other)),
    };
    if text.is_empty() {
        return Err(ParseError::MissingField(key));
    }
    Ok(text)
}

fn bytes_from_string(key: &'static str, text: &str) -> Result<Vec<u8>, ParseError> {
    let text = text.trim();
    // hex::decode refuses odd lengths, which then fall through to base64.
    if text.bytes().all(|b| b.is_ascii_hexdigit()) {
        if let Ok(bytes) = hex::decode(text) {
            return Ok(bytes);
        }
    }
    decode_base64(text).map_err(|reason| ParseError::InvalidField {
        field: key,
        reason: format!("a string that is neither hex nor base64 ({reason})"),
    })
}

fn wrong_type(field: &'static str, expected: &'static str, found: &Value) -> ParseError {
    ParseError::WrongType {
        field,
        expected,
        found: type_name(found),
    }
}
