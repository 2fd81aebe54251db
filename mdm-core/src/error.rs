//! [`ParseError`]: every way a device's body can fail to become a message.

/// Why a body could not be parsed into a plist or into an MDM message.
///
/// Each variant names one cause, so the edge can log it precisely and tests can match on it. The
/// messages never echo more than a short prefix (64 characters) of device-supplied text, since
/// they end up in logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The body has no bytes at all.
    #[error("the body is empty")]
    EmptyBody,

    /// The body starts with neither `<` (XML) nor `bplist` (binary).
    #[error("the body is not a property list: it starts with neither '<' nor 'bplist'")]
    NotAPlist,

    /// An XML plist that is not valid UTF-8 (the only encoding devices use).
    #[error("the XML plist is not valid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },

    /// The XML is not well formed, or is not a plist document.
    #[error("malformed XML plist at byte {offset}: {reason}")]
    MalformedXml {
        /// Byte offset in the body where the problem was found.
        offset: usize,
        /// What is wrong.
        reason: String,
    },

    /// A `<data>` element whose text is not base64, even allowing for non-canonical padding.
    #[error("invalid base64 in <data> at byte {offset}: {reason}")]
    InvalidData {
        /// Byte offset in the body just after the element.
        offset: usize,
        /// What the base64 decoder objected to.
        reason: String,
    },

    /// An `<integer>`, `<real>`, `<date>`, `<true/>` or `<false/>` whose text is not a valid value.
    #[error("invalid <{element}> value {value:?} at byte {offset}")]
    InvalidScalar {
        /// The element name.
        element: &'static str,
        /// The offending text (shortened).
        value: String,
        /// Byte offset in the body just after the element.
        offset: usize,
    },

    /// A binary plist whose structure is broken (bad trailer, offsets out of range, cycles, …).
    #[error("malformed binary plist: {reason}")]
    MalformedBinary {
        /// What is wrong.
        reason: String,
    },

    /// Arrays and dictionaries nested deeper than [`crate::MAX_DEPTH`]. Real messages nest a
    /// handful of levels; this bound keeps recursive code (drop, clone, serde) off the stack limit.
    #[error("the plist nests arrays and dictionaries deeper than {limit} levels")]
    TooDeep {
        /// The limit that was exceeded.
        limit: usize,
    },

    /// A binary plist whose shared object references expand to far more values than its size
    /// can honestly hold (a "billion laughs" document).
    #[error("the binary plist expands to more than {limit} {unit}")]
    ExpansionTooLarge {
        /// The limit that was exceeded.
        limit: u64,
        /// What was counted: "values" or "bytes of strings and data".
        unit: &'static str,
    },

    /// The same key appears twice in one dictionary: which one a reader keeps is arbitrary, so
    /// the message is ambiguous.
    #[error("duplicate key {key:?} in a dictionary")]
    DuplicateKey {
        /// The repeated key (shortened).
        key: String,
    },

    /// The top level of the plist is not a dictionary.
    #[error("the top level of the message is {found}, not a dictionary")]
    NotADictionary {
        /// The plist type found instead.
        found: &'static str,
    },

    /// A dictionary with neither `MessageType` (check-in) nor `Status` (command report).
    #[error("the message has neither MessageType (check-in) nor Status (command report)")]
    UnknownMessageKind,

    /// A dictionary with both `MessageType` and `Status`: it cannot be both kinds of message.
    #[error("the message has both MessageType and Status; it is neither a check-in nor a report")]
    AmbiguousMessageKind,

    /// A check-in without `MessageType`.
    #[error("the check-in message has no MessageType")]
    MissingMessageType,

    /// A check-in whose `MessageType` this server does not know.
    #[error("unknown check-in MessageType {0:?}")]
    UnknownMessageType(String),

    /// A command report whose `Status` is not one Apple documents.
    #[error("unknown command report Status {0:?}")]
    UnknownStatus(String),

    /// A required key is absent or empty.
    #[error("the required key {0} is missing or empty")]
    MissingField(&'static str),

    /// A key holds a value of the wrong plist type.
    #[error("the key {field} holds {found}, expected {expected}")]
    WrongType {
        /// The key.
        field: &'static str,
        /// What the key should hold.
        expected: &'static str,
        /// The plist type it holds.
        found: &'static str,
    },

    /// A key holds the right type but a value that cannot be used.
    #[error("the key {field} is invalid: {reason}")]
    InvalidField {
        /// The key.
        field: &'static str,
        /// What is wrong with the value.
        reason: String,
    },

    /// Neither `UDID` nor `EnrollmentID` is present, so the message names no enrollment.
    #[error("the message has neither UDID nor EnrollmentID")]
    MissingIdentifier,

    /// An identifier with a control character: it would corrupt log lines and database keys.
    #[error("the identifier {field} contains a control character")]
    IdControlCharacter {
        /// The key that holds the identifier.
        field: &'static str,
    },

    /// An identifier longer than [`crate::MAX_ID_LEN`] bytes.
    #[error("the identifier {field} is {len} bytes long, over the {max}-byte limit")]
    IdTooLong {
        /// The key that holds the identifier.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },

    /// A device-channel identifier containing `:`, the separator of user-channel enrollment IDs:
    /// allowing it would let `A:B` (a device) collide with user `B` on device `A`.
    #[error(
        "the identifier {field} contains ':', which separates device and user in enrollment IDs"
    )]
    IdSeparator {
        /// The key that holds the identifier.
        field: &'static str,
    },

    /// A report with a status other than Idle but no `CommandUUID`: the result cannot be matched
    /// to a command.
    #[error("the {status} report has no CommandUUID")]
    MissingCommandUuid {
        /// The report's status.
        status: &'static str,
    },

    /// A JSON value that cannot become part of a plist command (a `null`, a malformed `$data` or
    /// `$date`, a character XML cannot carry, …).
    #[error("invalid JSON command value at {path}: {reason}")]
    InvalidJson {
        /// Where in the JSON document, as `$.Key[index]…` (keys shortened).
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// How many characters of device-supplied text an error message may quote.
const EXCERPT_CHARS: usize = 64;
/// How long a reason taken from a library's error message may be: those quote tag names and
/// other input, whose length the sender controls.
const REASON_CHARS: usize = 256;

/// A prefix of `text` short enough to quote in an error (and so in a log line). Public, with
/// [`reason`], so that `mdm-pki`'s errors quote untrusted text by the same rule.
pub fn excerpt(text: &str) -> String {
    truncate(text, EXCERPT_CHARS)
}

/// A library's error message, capped for the same reason.
pub fn reason(message: &str) -> String {
    truncate(message, REASON_CHARS)
}

fn truncate(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
