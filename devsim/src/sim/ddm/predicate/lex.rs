//! The predicate's text as tokens, each with the character position it starts at (for errors).

use super::PredicateError;

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    /// `(`.
    Open,
    /// `)`.
    Close,
    /// `{`.
    OpenList,
    /// `}`.
    CloseList,
    /// `,`.
    Comma,
    /// A quoted string, unescaped.
    Text(String),
    /// A number.
    Number(f64),
    /// A bare word: a keyword (`AND`, `IN`, `TRUEPREDICATE`…), told apart by the parser.
    Word(String),
    /// `[c]` after an operator: its options, lowercased.
    Options(String),
    /// `@status(name)`.
    Status(String),
    /// `@property(name)`.
    Property(String),
    /// An operator made of symbols: `==`, `&&`, `!`…
    Symbol(&'static str),
}

/// The symbol operators, longest first so `<=` is not read as `<` then `=`.
const SYMBOLS: [&str; 12] = [
    "==", "!=", "<>", "<=", "=<", ">=", "=>", "&&", "||", "<", ">", "=",
];

/// Splits `text` into tokens with their positions.
pub(super) fn lex(text: &str) -> Result<Vec<(Token, usize)>, PredicateError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    // Every pass consumes at least one character or fails: the loop ends.
    while at < chars.len() {
        let c = chars[at];
        let start = at;
        let token = match c {
            c if c.is_whitespace() => {
                at += 1;
                continue;
            }
            '(' => single(&mut at, Token::Open),
            ')' => single(&mut at, Token::Close),
            '{' => single(&mut at, Token::OpenList),
            '}' => single(&mut at, Token::CloseList),
            ',' => single(&mut at, Token::Comma),
            '"' | '\'' => Token::Text(quoted(&chars, &mut at)?),
            '[' => options(&chars, &mut at)?,
            '@' => function(&chars, &mut at)?,
            c if c.is_ascii_digit() => number(&chars, &mut at)?,
            '-' if chars.get(at + 1).is_some_and(char::is_ascii_digit) => number(&chars, &mut at)?,
            c if c.is_alphabetic() || c == '_' => {
                let word = take_while(&chars, &mut at, |c| c.is_alphanumeric() || c == '_');
                Token::Word(word)
            }
            '!' if chars.get(at + 1) != Some(&'=') => single(&mut at, Token::Symbol("!")),
            _ => symbol(&chars, &mut at)?,
        };
        tokens.push((token, start));
    }
    Ok(tokens)
}

fn single(at: &mut usize, token: Token) -> Token {
    *at += 1;
    token
}

fn take_while(chars: &[char], at: &mut usize, keep: impl Fn(char) -> bool) -> String {
    let start = *at;
    while *at < chars.len() && keep(chars[*at]) {
        *at += 1;
    }
    chars[start..*at].iter().collect()
}

/// A string in `"` or `'`, with `\` escaping the next character (`\n` and `\t` as usual).
fn quoted(chars: &[char], at: &mut usize) -> Result<String, PredicateError> {
    let start = *at;
    let quote = chars[start];
    *at += 1;
    let mut text = String::new();
    while let Some(&c) = chars.get(*at) {
        *at += 1;
        match c {
            c if c == quote => return Ok(text),
            '\\' => {
                let escaped = chars
                    .get(*at)
                    .ok_or_else(|| PredicateError::new("unterminated string", start))?;
                *at += 1;
                text.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    other => *other,
                });
            }
            c => text.push(c),
        }
    }
    Err(PredicateError::new("unterminated string", start))
}

/// `[c]`: the options of the operator before it.
fn options(chars: &[char], at: &mut usize) -> Result<Token, PredicateError> {
    let start = *at;
    *at += 1;
    let options = take_while(chars, at, char::is_alphabetic).to_lowercase();
    if chars.get(*at) != Some(&']') {
        return Err(PredicateError::new("an option list needs its ']'", start));
    }
    *at += 1;
    Ok(Token::Options(options))
}

/// `@status(name)` or `@property(name)`; the name bare (`device.model.family`) or quoted.
fn function(chars: &[char], at: &mut usize) -> Result<Token, PredicateError> {
    let start = *at;
    *at += 1;
    let name = take_while(chars, at, char::is_alphabetic);
    skip_spaces(chars, at);
    if chars.get(*at) != Some(&'(') {
        return Err(PredicateError::new(format!("@{name} needs '('"), start));
    }
    *at += 1;
    skip_spaces(chars, at);
    let argument = match chars.get(*at) {
        Some('"' | '\'') => quoted(chars, at)?,
        _ => take_while(chars, at, |c| {
            c.is_alphanumeric() || matches!(c, '.' | '-' | '_')
        }),
    };
    skip_spaces(chars, at);
    if chars.get(*at) != Some(&')') {
        return Err(PredicateError::new(format!("@{name}(…) needs ')'"), start));
    }
    *at += 1;
    if argument.is_empty() {
        return Err(PredicateError::new(
            format!("@{name}() names nothing"),
            start,
        ));
    }
    match name.as_str() {
        "status" => Ok(Token::Status(argument)),
        "property" => Ok(Token::Property(argument)),
        other => Err(PredicateError::new(
            format!("unknown function @{other} (only @status and @property)"),
            start,
        )),
    }
}

fn skip_spaces(chars: &[char], at: &mut usize) {
    take_while(chars, at, char::is_whitespace);
}

/// Digits, an optional fraction, with the `-` the caller saw.
fn number(chars: &[char], at: &mut usize) -> Result<Token, PredicateError> {
    let start = *at;
    if chars[*at] == '-' {
        *at += 1;
    }
    take_while(chars, at, |c| c.is_ascii_digit());
    if chars.get(*at) == Some(&'.') && chars.get(*at + 1).is_some_and(char::is_ascii_digit) {
        *at += 1;
        take_while(chars, at, |c| c.is_ascii_digit());
    }
    let text: String = chars[start..*at].iter().collect();
    text.parse()
        .map(Token::Number)
        .map_err(|_| PredicateError::new(format!("{text:?} is not a number"), start))
}

fn symbol(chars: &[char], at: &mut usize) -> Result<Token, PredicateError> {
    let rest: String = chars[*at..].iter().take(2).collect();
    let found = SYMBOLS
        .into_iter()
        .find(|symbol| rest.starts_with(symbol))
        .ok_or_else(|| PredicateError::new(format!("unexpected {:?}", chars[*at]), *at))?;
    *at += found.chars().count();
    Ok(Token::Symbol(found))
}
