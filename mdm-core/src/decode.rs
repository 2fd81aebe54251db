//! Body bytes to a [`plist::Value`], with the limits an untrusted body needs.
//!
//! Why not just `plist::Value::from_reader`? Measured against plist 1.10 and the conformance
//! fixtures, the crate is right for well-formed input but wrong for devices and attackers in
//! ways a server cannot live with:
//! - `<data>` must be canonical base64, so a real capture with an extra `=` is rejected.
//! - Nesting is unbounded: 100,000 nested `<array>` parse (iteratively), and then *dropping* the
//!   value recurses and aborts the process with a stack overflow.
//! - A binary plist may reference one object many times; nothing bounds the expansion, so a few
//!   hundred bytes can describe 2^60 values.
//! - Input that fails as XML before the first element is retried as an OpenStep (ASCII) plist,
//!   which devices never send; it accepted `<plist><data>=AAAA</data></plist>`, for one.
//! - `<!DOCTYPE>` is refused, text after `</plist>` is refused, a missing `</plist>` is accepted:
//!   the opposite of what the micromdm/plist conformance cases require.
//!
//! So XML is read by the `xml` submodule (over `quick-xml`, the tokenizer the plist crate itself
//! uses), and binary plists are checked by the `binary` submodule for depth and expansion before
//! the plist crate parses them. Either way the result is an ordinary `plist::Value` no deeper
//! than [`MAX_DEPTH`].

mod binary;
mod data;
mod xml;
mod xml_prolog;

#[cfg(test)]
mod tests;

use plist::{Dictionary, Value};

pub use data::decode_base64;

use crate::fields::type_name;
use crate::ParseError;

/// How deeply arrays and dictionaries may nest. MDM messages use a handful of levels (a profile
/// list inside a result inside the report); 128 leaves ample room while keeping every recursive
/// walk of the value (drop, clone, serde, `Debug`) far from the stack limit of a 2 MiB thread.
pub const MAX_DEPTH: usize = 128;

/// Parses an XML or binary plist into a value, rejecting nesting deeper than [`MAX_DEPTH`].
///
/// Binary plists are recognised by their `bplist` magic; anything else must be an XML plist
/// (UTF-8, optionally with a byte-order mark). The OpenStep text format is not accepted: devices
/// never send it. Time and memory are linear in the size of `body`.
pub fn parse_plist_value(body: &[u8]) -> Result<Value, ParseError> {
    if body.is_empty() {
        return Err(ParseError::EmptyBody);
    }
    if body.starts_with(b"bplist") {
        binary::parse(body)
    } else {
        xml::parse(body)
    }
}

/// Parses a body whose top level must be a dictionary, as every MDM message is.
pub(crate) fn parse_dictionary(body: &[u8]) -> Result<Dictionary, ParseError> {
    match parse_plist_value(body)? {
        Value::Dictionary(dict) => Ok(dict),
        other => Err(ParseError::NotADictionary {
            found: type_name(&other),
        }),
    }
}
