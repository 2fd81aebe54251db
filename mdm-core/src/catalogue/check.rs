//! [`check_command`]: a `Command` dictionary against its request type's schema, before it is
//! queued, so a misspelled key or a wrong type is refused with its path instead of coming back
//! hours later as a device's CommandFormatError.

use std::fmt;

use plist::{Dictionary, Value};
use serde_json::Value as Json;

use super::catalogue;
use super::model::{Bounds, CommandSchema, KeySchema, KeyType, WILDCARD};
use crate::error::excerpt;
use crate::fields::type_name;

/// Why a command does not match Apple's schema: the request type, the path of the offending
/// value inside the `Command` dictionary (`Settings[0].Where`), and what was expected.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaError {
    /// The command's `RequestType`.
    pub request_type: String,
    /// Where in the command: keys joined by `.`, array elements as `[i]`; empty for the command.
    pub path: String,
    /// What is wrong there.
    pub problem: Problem,
}

/// What is wrong with a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// The schema has no such request type; the closest known one, if any is close.
    UnknownRequestType {
        /// A request type that differs only in case or by a typo or two.
        suggestion: Option<String>,
    },
    /// The key is not one the schema allows there.
    UnknownKey {
        /// The keys allowed there.
        known: Vec<String>,
    },
    /// A required key is absent.
    Missing,
    /// The value has another plist type.
    WrongType {
        /// The schema's type.
        expected: KeyType,
        /// The type found, with its article.
        found: &'static str,
    },
    /// The value is not one of the few the schema allows.
    NotAllowed {
        /// The allowed values, as written in messages.
        allowed: Vec<String>,
        /// The value found.
        found: String,
    },
    /// A number outside its bounds.
    OutOfRange {
        /// The bounds.
        bounds: Bounds,
        /// The number found.
        found: String,
    },
    /// An array too short or too long.
    WrongLength {
        /// The bounds of its length.
        bounds: Bounds,
        /// Its length.
        found: usize,
    },
    /// A string not in the form the key needs.
    Format {
        /// The form, in words.
        expected: &'static str,
        /// The value found.
        found: String,
    },
    /// A key the server adds itself as the command leaves (ClearPasscode's UnlockToken).
    ServerSupplied,
    /// An array element that matches none of the forms the schema allows there.
    NoForm {
        /// The forms' names.
        forms: Vec<String>,
    },
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (request_type, path) = (&self.request_type, &self.path);
        match &self.problem {
            Problem::UnknownRequestType { suggestion } => {
                write!(f, "unknown RequestType {request_type:?}: not in Apple's device-management schema")?;
                if let Some(suggestion) = suggestion {
                    write!(f, " (did you mean {suggestion}?)")?;
                }
                Ok(())
            }
            Problem::UnknownKey { known } if known.is_empty() => {
                write!(f, "{request_type}: unknown key {path} ({} takes no keys there)", request_type)
            }
            Problem::UnknownKey { known } => write!(
                f,
                "{request_type}: unknown key {path} (allowed there: {})",
                listed(known)
            ),
            Problem::Missing => write!(f, "{request_type}: {path} is required"),
            Problem::Format { expected, found } => {
                write!(f, "{request_type}: {path} must be {expected}, not {found}")
            }
            Problem::ServerSupplied => write!(
                f,
                "{request_type}: {path} is added by the server as the command leaves; do not send it"
            ),
            Problem::WrongType { expected, found } => write!(
                f,
                "{request_type}: {path} must be {}, not {found}",
                expected.described()
            ),
            Problem::NotAllowed { allowed, found } => write!(
                f,
                "{request_type}: {path} must be one of {}, not {found}",
                listed(allowed)
            ),
            Problem::OutOfRange { bounds, found } => {
                write!(f, "{request_type}: {path} must be {bounds}, not {found}")
            }
            Problem::WrongLength { bounds, found } => write!(
                f,
                "{request_type}: {path} must hold {bounds} items, not {found}"
            ),
            Problem::NoForm { forms } => write!(
                f,
                "{request_type}: {path} matches none of the forms allowed there ({})",
                listed(forms)
            ),
        }
    }
}

impl std::error::Error for SchemaError {}

/// A list for a message: all of a short one; the first few of a long one (DeviceInformation
/// knows a hundred queries) and how many more.
fn listed(items: &[String]) -> String {
    const SHOWN: usize = 12;
    if items.len() <= SHOWN {
        return items.join(", ");
    }
    format!(
        "{}, and {} more",
        items[..SHOWN].join(", "),
        items.len() - SHOWN
    )
}

/// Keys Apple's schema requires that the server adds as the command leaves, never taken from an
/// administrator: ClearPasscode's UnlockToken is the device's own secret, kept by enroll-svc.
pub const SERVER_SUPPLIED: [(&str, &str); 1] = [("ClearPasscode", "UnlockToken")];

/// Keys whose form the schema gives only in prose, checked because a mistake cannot be undone:
/// the PIN that locks or erases a Mac is six digits, and a Mac locked with another PIN may not
/// be unlocked again.
const SIX_DIGITS: [(&str, &str); 2] = [("DeviceLock", "PIN"), ("EraseDevice", "PIN")];

/// Whether `key` of `request_type` is one the server adds ([`SERVER_SUPPLIED`]).
pub fn server_supplied(request_type: &str, key: &str) -> bool {
    SERVER_SUPPLIED.contains(&(request_type, key))
}

/// Checks `command` (a `Command` dictionary: `RequestType` and its keys) against the schema of
/// its request type and returns that schema.
///
/// Refused: a request type the schema does not know; a key not allowed where it is; a required
/// key missing; a value of another type (an integer passes for a real); a value outside the few
/// allowed, outside a number's bounds, or an array of the wrong length. Where the schema leaves a
/// dictionary's contents or an array's elements free, they are not looked into.
pub fn check_command(command: &Dictionary) -> Result<&'static CommandSchema, SchemaError> {
    let catalogue = catalogue();
    let request_type = match command.get("RequestType") {
        Some(Value::String(request_type)) => request_type.as_str(),
        Some(other) => {
            return Err(SchemaError {
                request_type: String::new(),
                path: "RequestType".into(),
                problem: Problem::WrongType {
                    expected: KeyType::String,
                    found: type_name(other),
                },
            })
        }
        None => {
            return Err(SchemaError {
                request_type: String::new(),
                path: "RequestType".into(),
                problem: Problem::Missing,
            })
        }
    };
    let Some(schema) = catalogue.commands.get(request_type) else {
        return Err(SchemaError {
            request_type: excerpt(request_type),
            path: String::new(),
            problem: Problem::UnknownRequestType {
                suggestion: catalogue.closest(request_type).map(str::to_owned),
            },
        });
    };
    let mut checker = Checker::new(&schema.request_type, Mode::Command);
    checker.dictionary(&schema.keys, command, true)?;
    for (_, key) in SIX_DIGITS.iter().filter(|(t, _)| *t == schema.request_type) {
        if let Some(Value::String(pin)) = command.get(key) {
            if pin.len() != 6 || !pin.bytes().all(|b| b.is_ascii_digit()) {
                checker.path.push(Step::Key(key));
                return Err(checker.fail(Problem::Format {
                    expected: "six digits",
                    found: shown_value(&Value::String(pin.clone())),
                }));
            }
        }
    }
    Ok(schema)
}

/// The keys of a command report that are the report's own, not the result's: who answered,
/// which command, and how it went.
const REPORT_KEYS: [&str; 11] = [
    "Status",
    // Old macOS versions echo the command's RequestType in the report.
    "RequestType",
    "UDID",
    "CommandUUID",
    "ErrorChain",
    "EnrollmentID",
    "EnrollmentUserID",
    "UserID",
    "UserShortName",
    "UserLongName",
    "NotOnConsole",
];

impl CommandSchema {
    /// Checks an acknowledged result (the report's dictionary) against the schema's response
    /// keys: every key the schema names must have its type and allowed values. Keys it does not
    /// name pass: devices answer more than Apple documents (a macOS capture answers the
    /// undocumented `Languages` query), and a device is never refused for what it answers.
    /// Tests hold real captures to it.
    pub fn check_result(&self, report: &Dictionary) -> Result<(), SchemaError> {
        Checker::new(&self.request_type, Mode::Result).dictionary(&self.response_keys, report, true)
    }
}

/// Checks a declaration's `Payload` against the keys of its type, as a command's keys are
/// checked, the path starting at `Payload`; data travels as base64 text in a declaration's JSON.
pub(crate) fn check_payload(
    declaration_type: &str,
    keys: &[KeySchema],
    payload: &Dictionary,
) -> Result<(), SchemaError> {
    let mut checker = Checker::new(declaration_type, Mode::Declaration);
    checker.path.push(Step::Key("Payload"));
    checker.dictionary(keys, payload, false)
}

/// One step of the path to a value.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// What is being checked, which decides how strictly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A command an administrator queues: every key known, required keys present.
    Command,
    /// A device's answer: keys the schema does not name pass, and presence is not required
    /// (a result reports what applies).
    Result,
    /// A declaration's payload: as a command, but data is base64 text in its JSON.
    Declaration,
}

struct Checker<'a> {
    request_type: &'a str,
    path: Vec<Step<'a>>,
    mode: Mode,
}

impl<'a> Checker<'a> {
    fn new(request_type: &'a str, mode: Mode) -> Checker<'a> {
        Checker {
            request_type,
            path: Vec::new(),
            mode,
        }
    }

    /// A top-level key of a command that the server adds itself ([`SERVER_SUPPLIED`]).
    fn supplied(&self, key: &str) -> bool {
        self.mode == Mode::Command && server_supplied(self.request_type, key)
    }

    /// A key of the top-level dictionary that is not the schema's to check: the command's
    /// `RequestType`, or the report's own keys around a result.
    fn envelope(&self, key: &str) -> bool {
        match self.mode {
            Mode::Command => key == "RequestType",
            Mode::Result => REPORT_KEYS.contains(&key),
            Mode::Declaration => false,
        }
    }

    fn fail(&self, problem: Problem) -> SchemaError {
        let mut path = String::new();
        for step in &self.path {
            match step {
                Step::Key(key) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(&excerpt(key));
                }
                Step::Index(index) => path.push_str(&format!("[{index}]")),
            }
        }
        SchemaError {
            request_type: self.request_type.to_owned(),
            path,
            problem,
        }
    }

    fn dictionary(
        &mut self,
        keys: &'a [KeySchema],
        dict: &'a Dictionary,
        top: bool,
    ) -> Result<(), SchemaError> {
        let wildcard = keys.iter().find(|k| k.key == WILDCARD);
        for (key, value) in dict {
            if top && self.envelope(key) {
                continue;
            }
            self.path.push(Step::Key(key));
            if top && self.supplied(key) {
                return Err(self.fail(Problem::ServerSupplied));
            }
            match keys.iter().find(|k| k.key == *key).or(wildcard) {
                Some(schema) => self.value(schema, value)?,
                None if self.mode == Mode::Result => {}
                None => {
                    let known = keys
                        .iter()
                        .filter(|k| k.key != WILDCARD)
                        .map(|k| k.key.clone())
                        .collect();
                    return Err(self.fail(Problem::UnknownKey { known }));
                }
            }
            self.path.pop();
        }
        let needed = |k: &&KeySchema| {
            self.mode != Mode::Result
                && k.required
                && k.key != WILDCARD
                && !(top && self.supplied(&k.key))
        };
        for schema in keys.iter().filter(needed) {
            if !dict.contains_key(&schema.key) {
                self.path.push(Step::Key(&schema.key));
                return Err(self.fail(Problem::Missing));
            }
        }
        Ok(())
    }

    fn value(&mut self, schema: &'a KeySchema, value: &'a Value) -> Result<(), SchemaError> {
        let fits = matches!(
            (schema.kind, value),
            (KeyType::Any, _)
                | (KeyType::String, Value::String(_))
                | (KeyType::Integer, Value::Integer(_))
                | (KeyType::Real, Value::Real(_) | Value::Integer(_))
                | (KeyType::Boolean, Value::Boolean(_))
                | (KeyType::Date, Value::Date(_))
                | (KeyType::Data, Value::Data(_))
                | (KeyType::Array, Value::Array(_))
                | (KeyType::Dictionary, Value::Dictionary(_))
        );
        let fits = fits
            || (self.mode == Mode::Declaration
                && schema.kind == KeyType::Data
                && matches!(value, Value::String(_)));
        if !fits {
            return Err(self.fail(Problem::WrongType {
                expected: schema.kind,
                found: type_name(value),
            }));
        }
        if !schema.allowed.is_empty() && !schema.allowed.iter().any(|a| same(a, value)) {
            return Err(self.fail(Problem::NotAllowed {
                allowed: schema.allowed.iter().map(shown).collect(),
                found: shown_value(value),
            }));
        }
        if let (Some(bounds), Some(number)) = (schema.range, number(value)) {
            if !bounds.holds(number) {
                return Err(self.fail(Problem::OutOfRange {
                    bounds,
                    found: shown_value(value),
                }));
            }
        }
        match value {
            Value::Array(items) => self.array(schema, items),
            Value::Dictionary(dict) if !schema.subkeys.is_empty() => {
                self.dictionary(&schema.subkeys, dict, false)
            }
            _ => Ok(()),
        }
    }

    fn array(&mut self, schema: &'a KeySchema, items: &'a [Value]) -> Result<(), SchemaError> {
        if let Some(bounds) = schema.repetition {
            if !bounds.holds(items.len() as f64) {
                return Err(self.fail(Problem::WrongLength {
                    bounds,
                    found: items.len(),
                }));
            }
        }
        for (index, item) in items.iter().enumerate() {
            self.path.push(Step::Index(index));
            match schema.subkeys.as_slice() {
                [] => {}
                [element] => self.value(element, item)?,
                forms => self.one_of(forms, item)?,
            }
            self.path.pop();
        }
        Ok(())
    }

    /// An element that may take several forms (Settings' items): it must match one. When the
    /// element names its form (a key whose only allowed value it holds, like `Item`), the
    /// error is that form's; otherwise it lists the forms.
    fn one_of(&mut self, forms: &'a [KeySchema], item: &'a Value) -> Result<(), SchemaError> {
        let depth = self.path.len();
        let mut named = None;
        for form in forms {
            match self.value(form, item) {
                Ok(()) => return Ok(()),
                Err(error) => {
                    self.path.truncate(depth);
                    if names_form(form, item) {
                        named.get_or_insert(error);
                    }
                }
            }
        }
        Err(named.unwrap_or_else(|| {
            self.fail(Problem::NoForm {
                forms: forms.iter().map(|f| f.key.clone()).collect(),
            })
        }))
    }
}

/// `item` is a dictionary whose discriminating keys (required, one allowed value) hold the
/// values `form` requires.
fn names_form(form: &KeySchema, item: &Value) -> bool {
    let Value::Dictionary(dict) = item else {
        return false;
    };
    let mut discriminators = form
        .subkeys
        .iter()
        .filter(|k| k.required && k.allowed.len() == 1)
        .peekable();
    discriminators.peek().is_some()
        && discriminators.all(|k| dict.get(&k.key).is_some_and(|v| same(&k.allowed[0], v)))
}

fn same(allowed: &Json, value: &Value) -> bool {
    match (allowed, value) {
        (Json::String(a), Value::String(v)) => a == v,
        (Json::Bool(a), Value::Boolean(v)) => a == v,
        (Json::Number(a), _) => number(value).is_some_and(|v| a.as_f64() == Some(v)),
        _ => false,
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(i) => i
            .as_signed()
            .map(|i| i as f64)
            .or_else(|| i.as_unsigned().map(|u| u as f64)),
        Value::Real(r) => Some(*r),
        _ => None,
    }
}

fn shown(allowed: &Json) -> String {
    match allowed {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn shown_value(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{:?}", excerpt(s)),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Boolean(b) => b.to_string(),
        other => type_name(other).to_owned(),
    }
}
