//! The predicates of activations (`Payload.Predicate` of `com.apple.activation.simple`): the
//! subset of Apple's predicate format a simulated device needs to choose its configurations the
//! way a real one would, evaluated against its status items (`@status(device.model.family)`) and
//! the properties its `com.apple.management.properties` declarations set (`@property(name)`).
//!
//! Supported: `AND`/`&&`, `OR`/`||`, `NOT`/`!`, parentheses, `TRUEPREDICATE`, `FALSEPREDICATE`,
//! the comparisons `==` (or `=`), `!=` (or `<>`), `<`, `>`, `<=`, `>=`, `IN`, `BEGINSWITH`,
//! `ENDSWITH`, `CONTAINS` (each optionally `[c]`, case-insensitive), and operands `@status(…)`,
//! `@property(…)`, strings, numbers, `TRUE`/`YES`, `FALSE`/`NO`, `NULL`/`NIL` and lists
//! `{…}`. Anything else is a parse error, which makes the activation invalid rather than
//! silently true or false.
//!
//! - [`lex`]: the text as tokens.
//! - [`parse`]: the tokens as a [`Predicate`].
//! - [`eval`]: a [`Predicate`]'s value on a device.

mod eval;
mod lex;
mod parse;
#[cfg(test)]
mod tests;

pub use eval::Inputs;

/// The longest predicate read: Apple's are a line; a longer one is refused, not parsed.
pub const MAX_PREDICATE_LEN: usize = 4_096;

/// How deep parentheses and `NOT` may nest: the parser recurses, so the depth is bounded.
pub const MAX_NESTING: usize = 32;

/// A parsed predicate.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// `TRUEPREDICATE`.
    True,
    /// `FALSEPREDICATE`.
    False,
    /// `NOT p`.
    Not(Box<Predicate>),
    /// `p AND q AND …`.
    And(Vec<Predicate>),
    /// `p OR q OR …`.
    Or(Vec<Predicate>),
    /// `left op right`.
    Compare {
        /// Left operand.
        left: Operand,
        /// The comparison.
        op: Comparison,
        /// `[c]`: strings compare case-insensitively.
        case_insensitive: bool,
        /// Right operand.
        right: Operand,
    },
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `@status(name)`: a status item of the device.
    Status(String),
    /// `@property(name)`: a management property.
    Property(String),
    /// A literal (string, number, boolean, null).
    Literal(serde_json::Value),
    /// `{a, b, …}`.
    List(Vec<Operand>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `==`, `=`.
    Equal,
    /// `!=`, `<>`.
    NotEqual,
    /// `<`.
    Less,
    /// `<=`, `=<`.
    LessOrEqual,
    /// `>`.
    Greater,
    /// `>=`, `=>`.
    GreaterOrEqual,
    /// `IN`: the left is an element of the right list (or a substring of the right string).
    In,
    /// `BEGINSWITH`.
    BeginsWith,
    /// `ENDSWITH`.
    EndsWith,
    /// `CONTAINS`: the left string holds the right, or the left list the right element.
    Contains,
}

/// Why a predicate could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {at})")]
pub struct PredicateError {
    /// What is wrong.
    pub message: String,
    /// Where, in characters from the start.
    pub at: usize,
}

impl PredicateError {
    fn new(message: impl Into<String>, at: usize) -> PredicateError {
        PredicateError {
            message: message.into(),
            at,
        }
    }
}

impl Predicate {
    /// Parses `text`; refused when longer than [`MAX_PREDICATE_LEN`], nested deeper than
    /// [`MAX_NESTING`], or outside the supported subset.
    pub fn parse(text: &str) -> Result<Predicate, PredicateError> {
        if text.len() > MAX_PREDICATE_LEN {
            return Err(PredicateError::new(
                format!("longer than {MAX_PREDICATE_LEN} bytes"),
                0,
            ));
        }
        parse::parse(&lex::lex(text)?)
    }

    /// Its value on a device with `inputs`. Total: an operand the device does not know is
    /// `NULL`, and a comparison of values it does not apply to is false.
    pub fn evaluate(&self, inputs: &Inputs<'_>) -> bool {
        eval::evaluate(self, inputs)
    }
}
