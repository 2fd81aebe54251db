//! The tokens as a [`Predicate`], by recursive descent: `OR` binds loosest, then `AND`, then
//! `NOT`, then a comparison or a parenthesised predicate. Nesting is counted so that the
//! recursion stays within [`MAX_NESTING`].

use super::lex::Token;
use super::{Comparison, Operand, Predicate, PredicateError, MAX_NESTING};
use serde_json::Value as Json;

/// Parses a whole predicate: every token must belong to it.
pub(super) fn parse(tokens: &[(Token, usize)]) -> Result<Predicate, PredicateError> {
    let mut parser = Parser {
        tokens,
        next: 0,
        depth: 0,
    };
    if tokens.is_empty() {
        return Err(PredicateError::new("the predicate is empty", 0));
    }
    let predicate = parser.or()?;
    match parser.peek() {
        None => Ok(predicate),
        Some(token) => Err(parser.error(format!("unexpected {}", describe(token)))),
    }
}

struct Parser<'a> {
    tokens: &'a [(Token, usize)],
    next: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(token, _)| token)
    }

    fn advance(&mut self) -> Option<&Token> {
        let token = self.tokens.get(self.next).map(|(token, _)| token);
        self.next += 1;
        token
    }

    /// Where the next token starts (the end of the text when there is none).
    fn position(&self) -> usize {
        match self.tokens.get(self.next) {
            Some((_, at)) => *at,
            None => self.tokens.last().map_or(0, |(_, at)| at + 1),
        }
    }

    fn error(&self, message: impl Into<String>) -> PredicateError {
        PredicateError::new(message, self.position())
    }

    /// Whether the next token is the keyword `word` (any case) or the symbol `symbol`; if so,
    /// it is consumed.
    fn eat(&mut self, word: &str, symbol: &str) -> bool {
        let found = match self.peek() {
            Some(Token::Word(w)) => w.eq_ignore_ascii_case(word),
            Some(Token::Symbol(s)) => *s == symbol,
            _ => false,
        };
        if found {
            self.next += 1;
        }
        found
    }

    /// Enters one more level of nesting, refused past [`MAX_NESTING`].
    fn nest(&mut self) -> Result<(), PredicateError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error(format!("nested deeper than {MAX_NESTING} levels")));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Predicate, PredicateError> {
        let mut terms = vec![self.and()?];
        while self.eat("OR", "||") {
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Predicate::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Predicate, PredicateError> {
        let mut terms = vec![self.unary()?];
        while self.eat("AND", "&&") {
            terms.push(self.unary()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Predicate::And(terms)
        })
    }

    fn unary(&mut self) -> Result<Predicate, PredicateError> {
        if self.eat("NOT", "!") {
            self.nest()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Predicate::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Predicate, PredicateError> {
        match self.peek() {
            Some(Token::Open) => {
                self.next += 1;
                self.nest()?;
                let inner = self.or()?;
                self.depth -= 1;
                match self.advance() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(self.error("a '(' needs its ')'")),
                }
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("TRUEPREDICATE") => {
                self.next += 1;
                Ok(Predicate::True)
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("FALSEPREDICATE") => {
                self.next += 1;
                Ok(Predicate::False)
            }
            _ => self.comparison(),
        }
    }

    fn comparison(&mut self) -> Result<Predicate, PredicateError> {
        let left = self.operand()?;
        let op = self.comparator()?;
        let case_insensitive = match self.peek() {
            Some(Token::Options(options)) => {
                let options = options.clone();
                if options != "c" {
                    return Err(self.error(format!("unsupported option [{options}] (only [c])")));
                }
                self.next += 1;
                true
            }
            _ => false,
        };
        let right = self.operand()?;
        Ok(Predicate::Compare {
            left,
            op,
            case_insensitive,
            right,
        })
    }

    fn comparator(&mut self) -> Result<Comparison, PredicateError> {
        let op = match self.peek() {
            Some(Token::Symbol(symbol)) => match *symbol {
                "==" | "=" => Comparison::Equal,
                "!=" | "<>" => Comparison::NotEqual,
                "<" => Comparison::Less,
                "<=" | "=<" => Comparison::LessOrEqual,
                ">" => Comparison::Greater,
                ">=" | "=>" => Comparison::GreaterOrEqual,
                other => return Err(self.error(format!("expected a comparison, found {other}"))),
            },
            Some(Token::Word(word)) => match word.to_ascii_uppercase().as_str() {
                "IN" => Comparison::In,
                "BEGINSWITH" => Comparison::BeginsWith,
                "ENDSWITH" => Comparison::EndsWith,
                "CONTAINS" => Comparison::Contains,
                _ => return Err(self.error(format!("expected a comparison, found {word}"))),
            },
            Some(other) => {
                return Err(self.error(format!("expected a comparison, found {}", describe(other))))
            }
            None => return Err(self.error("expected a comparison, found the end")),
        };
        self.next += 1;
        Ok(op)
    }

    fn operand(&mut self) -> Result<Operand, PredicateError> {
        let at = self.position();
        let operand = match self.advance().cloned() {
            Some(Token::Status(name)) => Operand::Status(name),
            Some(Token::Property(name)) => Operand::Property(name),
            Some(Token::Text(text)) => Operand::Literal(Json::String(text)),
            Some(Token::Number(number)) => Operand::Literal(
                serde_json::Number::from_f64(number).map_or(Json::Null, Json::Number),
            ),
            Some(Token::Word(word)) => match word.to_ascii_uppercase().as_str() {
                "TRUE" | "YES" => Operand::Literal(Json::Bool(true)),
                "FALSE" | "NO" => Operand::Literal(Json::Bool(false)),
                "NULL" | "NIL" => Operand::Literal(Json::Null),
                _ => {
                    return Err(PredicateError::new(
                        format!("unknown word {word} (strings need quotes)"),
                        at,
                    ))
                }
            },
            Some(Token::OpenList) => self.list()?,
            Some(other) => {
                return Err(PredicateError::new(
                    format!("expected a value, found {}", describe(&other)),
                    at,
                ))
            }
            None => return Err(PredicateError::new("expected a value, found the end", at)),
        };
        Ok(operand)
    }

    /// The elements of `{…}`, its `{` consumed.
    fn list(&mut self) -> Result<Operand, PredicateError> {
        self.nest()?;
        let mut items = Vec::new();
        if self.peek() == Some(&Token::CloseList) {
            self.next += 1;
        } else {
            // Each pass consumes an operand or fails: bounded by the number of tokens.
            loop {
                items.push(self.operand()?);
                match self.advance() {
                    Some(Token::Comma) => {}
                    Some(Token::CloseList) => break,
                    _ => {
                        return Err(
                            self.error("a list's values are separated by ',' and end with '}'")
                        )
                    }
                }
            }
        }
        self.depth -= 1;
        Ok(Operand::List(items))
    }
}

/// A token as an error message names it.
fn describe(token: &Token) -> String {
    match token {
        Token::Open => "'('".into(),
        Token::Close => "')'".into(),
        Token::OpenList => "'{'".into(),
        Token::CloseList => "'}'".into(),
        Token::Comma => "','".into(),
        Token::Text(text) => format!("the string {text:?}"),
        Token::Number(number) => format!("the number {number}"),
        Token::Word(word) => word.clone(),
        Token::Options(options) => format!("[{options}]"),
        Token::Status(name) => format!("@status({name})"),
        Token::Property(name) => format!("@property({name})"),
        Token::Symbol(symbol) => (*symbol).to_owned(),
    }
}
