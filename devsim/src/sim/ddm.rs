//! Declarative Device Management on the device's side.
//!
//! - [`predicate`]: activation predicates, parsed and evaluated.

pub mod predicate;
