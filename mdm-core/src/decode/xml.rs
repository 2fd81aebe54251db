//! The XML plist reader: `quick-xml` events to a [`plist::Value`], iteratively.
//!
//! Containers being built live on an explicit stack, never on the call stack, and the stack is
//! capped at [`MAX_DEPTH`], so hostile nesting costs one comparison per element. Each element is
//! read once, so time is linear in the body.
//!
//! Document rules, chosen to match the micromdm/plist conformance cases and real devices:
//! - the root is `<plist>` holding exactly one value, or (leniently) a bare value element;
//! - `</plist>` must be present when `<plist>` was opened: a truncated body is an error;
//! - whatever follows the root element is ignored, as Go's and Apple's parsers do;
//! - text between elements must be whitespace; comments and processing instructions are skipped;
//! - a dictionary alternates `<key>` and a value, with no duplicate keys.

use plist::{Date, Dictionary, Value};
use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;

use super::data::decode_base64;
use super::xml_prolog::{is_xml_whitespace, skip_prolog};
use super::MAX_DEPTH;
use crate::error::{excerpt, reason};
use crate::ParseError;

/// Parses an XML plist body.
pub(super) fn parse(body: &[u8]) -> Result<Value, ParseError> {
    let text = std::str::from_utf8(body).map_err(|err| ParseError::InvalidUtf8 {
        offset: err.valid_up_to(),
    })?;
    let root_at = skip_prolog(text)?;
    let mut reader = Reader::from_str(&text[root_at..]);
    let config = reader.config_mut();
    // `<dict/>` and `<true/>` arrive as a start and an end event, like their long forms.
    config.expand_empty_elements = true;
    config.check_end_names = true;
    config.trim_text(false);
    XmlPlistReader {
        reader,
        base: root_at,
        stack: Vec::new(),
        in_plist: false,
        root: None,
    }
    .run()
}

/// A container under construction.
enum Frame {
    Array(Vec<Value>),
    /// A dictionary and the key whose value is expected next, if one was just read.
    Dict(Dictionary, Option<String>),
}

struct XmlPlistReader<'a> {
    reader: Reader<&'a [u8]>,
    /// Offset of the reader's input within the body, for error positions.
    base: usize,
    stack: Vec<Frame>,
    /// Whether the root element is `<plist>` (so `</plist>` ends the document).
    in_plist: bool,
    /// The completed top-level value.
    root: Option<Value>,
}

impl<'a> XmlPlistReader<'a> {
    fn run(mut self) -> Result<Value, ParseError> {
        loop {
            match self.next_event()? {
                Event::Start(start) => {
                    check_attributes(&start).map_err(|why| self.malformed(why))?;
                    if let Some(value) = self.start_element(&start)? {
                        if let Some(done) = self.add(value)? {
                            return Ok(done);
                        }
                    }
                }
                Event::End(end) => match end.name().as_ref() {
                    "array" | "dict" => {
                        let value = self.close_container()?;
                        if let Some(done) = self.add(value)? {
                            return Ok(done);
                        }
                    }
                    // quick-xml has matched it to the opening tag, so this ends the document.
                    "plist" => {
                        return self
                            .root
                            .take()
                            .ok_or_else(|| self.malformed("<plist> holds no value".into()));
                    }
                    other => {
                        return Err(self.malformed(format!("unexpected </{}>", excerpt(other))))
                    }
                },
                Event::Text(text) => {
                    if !text.bytes().all(is_xml_whitespace) {
                        return Err(self.malformed("text between elements".into()));
                    }
                }
                Event::GeneralRef(_) | Event::CData(_) => {
                    return Err(self.malformed("text between elements".into()));
                }
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => {}
                Event::Empty(_) => {
                    // Not produced with `expand_empty_elements`; refuse rather than guess.
                    return Err(self.malformed("unexpected empty element".into()));
                }
                Event::Eof => {
                    let why = if self.in_plist {
                        "the document ends before </plist>"
                    } else {
                        "the document ends inside the root element"
                    };
                    return Err(self.malformed(why.into()));
                }
            }
        }
    }

    /// Handles an opening tag: returns a finished scalar, or `None` after opening a container,
    /// reading a key or entering `<plist>`.
    fn start_element(&mut self, start: &BytesStart<'_>) -> Result<Option<Value>, ParseError> {
        let name = start.name();
        let value = match name.as_ref() {
            "plist" => {
                if self.in_plist || self.root.is_some() || !self.stack.is_empty() {
                    return Err(self.malformed("<plist> inside the document".into()));
                }
                self.in_plist = true;
                return Ok(None);
            }
            "array" => {
                self.push(Frame::Array(Vec::new()))?;
                return Ok(None);
            }
            "dict" => {
                self.push(Frame::Dict(Dictionary::new(), None))?;
                return Ok(None);
            }
            "key" => {
                let key = self.read_text("key")?;
                self.set_key(key)?;
                return Ok(None);
            }
            "string" => Value::String(self.read_text("string")?),
            "integer" => {
                let text = self.read_text("integer")?;
                parse_integer(text.trim()).ok_or_else(|| self.invalid_scalar("integer", &text))?
            }
            "real" => {
                let text = self.read_text("real")?;
                let real = text
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| self.invalid_scalar("real", &text))?;
                Value::Real(real)
            }
            "date" => {
                let text = self.read_text("date")?;
                let date = Date::from_xml_format(text.trim())
                    .map_err(|_| self.invalid_scalar("date", &text))?;
                Value::Date(date)
            }
            "data" => {
                let text = self.read_text("data")?;
                let bytes = decode_base64(&text).map_err(|reason| ParseError::InvalidData {
                    offset: self.offset(),
                    reason,
                })?;
                Value::Data(bytes)
            }
            "true" | "false" => {
                let element = if name.as_ref() == "true" {
                    "true"
                } else {
                    "false"
                };
                let text = self.read_text(element)?;
                if !text.bytes().all(is_xml_whitespace) {
                    return Err(self.invalid_scalar(element, &text));
                }
                Value::Boolean(element == "true")
            }
            other => {
                return Err(self.malformed(format!("unknown element <{}>", excerpt(other))));
            }
        };
        Ok(Some(value))
    }

    fn push(&mut self, frame: Frame) -> Result<(), ParseError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(ParseError::TooDeep { limit: MAX_DEPTH });
        }
        if let Some(Frame::Dict(_, None)) = self.stack.last() {
            return Err(self.malformed("a dictionary value without a <key>".into()));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn set_key(&mut self, key: String) -> Result<(), ParseError> {
        match self.stack.last_mut() {
            Some(Frame::Dict(dict, pending @ None)) => {
                if dict.contains_key(&key) {
                    return Err(ParseError::DuplicateKey { key: excerpt(&key) });
                }
                *pending = Some(key);
                Ok(())
            }
            Some(Frame::Dict(_, Some(_))) => Err(self.malformed("two <key>s in a row".into())),
            _ => Err(self.malformed("<key> outside a dictionary".into())),
        }
    }

    /// Turns the innermost container into a value at its closing tag.
    fn close_container(&mut self) -> Result<Value, ParseError> {
        match self.stack.pop() {
            Some(Frame::Array(items)) => Ok(Value::Array(items)),
            Some(Frame::Dict(dict, None)) => Ok(Value::Dictionary(dict)),
            Some(Frame::Dict(_, Some(key))) => {
                Err(self.malformed(format!("the key {:?} has no value", excerpt(&key))))
            }
            // quick-xml matched the closing tag to an opening one, and every opening
            // `<array>`/`<dict>` pushed a frame; this arm is for robustness only.
            None => Err(self.malformed("closing tag without a container".into())),
        }
    }

    /// Places a finished value in its container. Returns the document's value when it is
    /// complete and no `</plist>` is to follow.
    fn add(&mut self, value: Value) -> Result<Option<Value>, ParseError> {
        match self.stack.last_mut() {
            Some(Frame::Array(items)) => items.push(value),
            Some(Frame::Dict(dict, pending)) => match pending.take() {
                Some(key) => {
                    dict.insert(key, value);
                }
                None => return Err(self.malformed("a dictionary value without a <key>".into())),
            },
            None if self.root.is_some() => {
                return Err(self.malformed("<plist> holds more than one value".into()));
            }
            None if self.in_plist => self.root = Some(value),
            None => return Ok(Some(value)),
        }
        Ok(None)
    }

    /// Reads the text content of a scalar element up to its closing tag.
    fn read_text(&mut self, element: &'static str) -> Result<String, ParseError> {
        let mut out = String::new();
        loop {
            match self.next_event()? {
                Event::Text(text) => out.push_str(&text.xml10_content()),
                Event::CData(cdata) => out.push_str(&cdata.xml10_content()),
                Event::GeneralRef(reference) => out.push(self.resolve(&reference)?),
                // quick-xml checks that it closes `element`.
                Event::End(_) => return Ok(out),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Start(_) | Event::Empty(_) => {
                    return Err(self.malformed(format!("an element inside <{element}>")));
                }
                Event::Decl(_) | Event::DocType(_) => {
                    return Err(self.malformed(format!("a declaration inside <{element}>")));
                }
                Event::Eof => {
                    return Err(self.malformed(format!("the document ends inside <{element}>")));
                }
            }
        }
    }

    /// Resolves `&#…;` and the five predefined entities; plists define no others.
    fn resolve(&self, reference: &BytesRef<'_>) -> Result<char, ParseError> {
        match reference.resolve_char_ref() {
            Ok(Some(ch)) => Ok(ch),
            Ok(None) => resolve_xml_entity(reference)
                .and_then(|s| s.chars().next())
                .ok_or_else(|| self.malformed(format!("unknown entity &{};", excerpt(reference)))),
            Err(err) => Err(self.malformed(reason(&err.to_string()))),
        }
    }

    fn next_event(&mut self) -> Result<Event<'a>, ParseError> {
        self.reader
            .read_event()
            .map_err(|err| ParseError::MalformedXml {
                offset: self
                    .base
                    .saturating_add(usize::try_from(self.reader.error_position()).unwrap_or(0)),
                reason: reason(&err.to_string()),
            })
    }

    fn offset(&self) -> usize {
        let inner = usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX);
        self.base.saturating_add(inner)
    }

    fn malformed(&self, reason: String) -> ParseError {
        ParseError::MalformedXml {
            offset: self.offset(),
            reason,
        }
    }

    fn invalid_scalar(&self, element: &'static str, text: &str) -> ParseError {
        ParseError::InvalidScalar {
            element,
            value: excerpt(text),
            offset: self.offset(),
        }
    }
}

/// Attributes carry nothing in a plist, but a malformed one means a broken tag, such as
/// `<plist version="1.0"` missing its `>` and swallowing the next tag.
fn check_attributes(start: &BytesStart<'_>) -> Result<(), String> {
    for attribute in start.attributes() {
        attribute.map_err(|err| reason(&format!("malformed attribute: {err}")))?;
    }
    Ok(())
}

/// An `<integer>`: decimal or `0x` hexadecimal, optionally signed, within i64 or u64.
fn parse_integer(text: &str) -> Option<Value> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = match unsigned
        .strip_prefix("0x")
        .or_else(|| unsigned.strip_prefix("0X"))
    {
        Some(hex) if !hex.starts_with(['+', '-']) => u64::from_str_radix(hex, 16).ok()?,
        Some(_) => return None,
        None if unsigned.starts_with(['+', '-']) => return None,
        None => unsigned.parse::<u64>().ok()?,
    };
    if negative {
        // i64::MIN has a magnitude one past i64::MAX.
        let value = 0i64.checked_sub_unsigned(magnitude)?;
        Some(Value::from(value))
    } else {
        Some(i64::try_from(magnitude).map_or(Value::from(magnitude), Value::from))
    }
}
