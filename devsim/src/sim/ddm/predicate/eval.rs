//! A [`Predicate`]'s value on a device. Total on purpose: a device does not fail an activation
//! because a status item is missing or of another type; the comparison is just false (`!=`
//! true), as with Apple's predicates on values they cannot compare.

use super::{Comparison, Operand, Predicate};
use serde_json::{Map, Value as Json};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// What a predicate can read on a device.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// Status items by name (`device.model.family`).
    pub status: &'a BTreeMap<String, Json>,
    /// Management properties by name.
    pub properties: &'a Map<String, Json>,
}

pub(super) fn evaluate(predicate: &Predicate, inputs: &Inputs<'_>) -> bool {
    match predicate {
        Predicate::True => true,
        Predicate::False => false,
        Predicate::Not(inner) => !evaluate(inner, inputs),
        Predicate::And(terms) => terms.iter().all(|term| evaluate(term, inputs)),
        Predicate::Or(terms) => terms.iter().any(|term| evaluate(term, inputs)),
        Predicate::Compare {
            left,
            op,
            case_insensitive,
            right,
        } => {
            let (left, right) = (resolve(left, inputs), resolve(right, inputs));
            compare(&left, *op, &right, *case_insensitive)
        }
    }
}

/// An operand's value; unknown names are `null`.
fn resolve(operand: &Operand, inputs: &Inputs<'_>) -> Json {
    match operand {
        Operand::Status(name) => inputs.status.get(name).cloned().unwrap_or(Json::Null),
        Operand::Property(name) => inputs.properties.get(name).cloned().unwrap_or(Json::Null),
        Operand::Literal(value) => value.clone(),
        Operand::List(items) => Json::Array(items.iter().map(|i| resolve(i, inputs)).collect()),
    }
}

fn compare(left: &Json, op: Comparison, right: &Json, fold: bool) -> bool {
    match op {
        Comparison::Equal => equal(left, right, fold),
        Comparison::NotEqual => !equal(left, right, fold),
        Comparison::Less => order(left, right, fold) == Some(Ordering::Less),
        Comparison::LessOrEqual => order(left, right, fold).is_some_and(Ordering::is_le),
        Comparison::Greater => order(left, right, fold) == Some(Ordering::Greater),
        Comparison::GreaterOrEqual => order(left, right, fold).is_some_and(Ordering::is_ge),
        Comparison::In => holds(right, left, fold),
        Comparison::Contains => holds(left, right, fold),
        Comparison::BeginsWith => texts(left, right, fold).is_some_and(|(l, r)| l.starts_with(&r)),
        Comparison::EndsWith => texts(left, right, fold).is_some_and(|(l, r)| l.ends_with(&r)),
    }
}

/// Equality of values of the same kind; numbers by value (`17 == 17.0`).
fn equal(left: &Json, right: &Json, fold: bool) -> bool {
    match (left, right) {
        (Json::Number(l), Json::Number(r)) => l.as_f64() == r.as_f64(),
        (Json::String(_), Json::String(_)) => texts(left, right, fold).is_some_and(|(l, r)| l == r),
        (Json::Array(l), Json::Array(r)) => {
            l.len() == r.len() && l.iter().zip(r).all(|(l, r)| equal(l, r, fold))
        }
        (l, r) => l == r,
    }
}

/// Numbers by value, strings by their characters; nothing else is ordered.
fn order(left: &Json, right: &Json, fold: bool) -> Option<Ordering> {
    match (left, right) {
        (Json::Number(l), Json::Number(r)) => l.as_f64()?.partial_cmp(&r.as_f64()?),
        _ => texts(left, right, fold).map(|(l, r)| l.cmp(&r)),
    }
}

/// Whether `container` holds `element`: a list as an element, a string as a substring.
fn holds(container: &Json, element: &Json, fold: bool) -> bool {
    match container {
        Json::Array(items) => items.iter().any(|item| equal(item, element, fold)),
        Json::String(_) => texts(container, element, fold).is_some_and(|(c, e)| c.contains(&e)),
        _ => false,
    }
}

/// Both strings, lowercased when `fold` (`[c]`).
fn texts(left: &Json, right: &Json, fold: bool) -> Option<(String, String)> {
    let (Json::String(l), Json::String(r)) = (left, right) else {
        return None;
    };
    Some(if fold {
        (l.to_lowercase(), r.to_lowercase())
    } else {
        (l.clone(), r.clone())
    })
}
