//! Exit codes scripts can rely on, and how a failure is told to the person at the terminal:
//! `error: what happened` then `hint: what to do`, on stderr.
//!
//! - 0: the command did what was asked.
//! - 1: it failed: the server refused or could not be reached, a device answered with an error,
//!   `--wait` ran out of time, a destructive command was not confirmed.
//! - 2: the command line was wrong (clap's own errors use 2 as well), including a missing URL or
//!   token: nothing was sent.

use crate::client::ApiError;
use std::process::ExitCode;

/// Success.
pub const OK: u8 = 0;
/// The command ran and failed.
pub const FAILURE: u8 = 1;
/// The command line could not be acted on.
pub const USAGE: u8 = 2;

/// A mistake in how mdmctl was called, found after clap parsed the line: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    /// What is wrong.
    pub message: String,
    /// What to type instead, if there is one thing to suggest.
    pub hint: Option<String>,
}

impl UsageError {
    /// A usage error without a hint.
    pub fn new(message: impl Into<String>) -> UsageError {
        UsageError {
            message: message.into(),
            hint: None,
        }
    }

    /// A usage error with a hint.
    pub fn with_hint(message: impl Into<String>, hint: impl Into<String>) -> UsageError {
        UsageError {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
}

/// A failure whose message already says it all and that comes with advice (exit code 1).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// What happened.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

/// The exit code of an error.
pub fn code_of(error: &anyhow::Error) -> u8 {
    if error.chain().any(|e| e.is::<UsageError>()) {
        USAGE
    } else {
        FAILURE
    }
}

/// The hint of the first error in the chain that has one.
pub fn hint_of(error: &anyhow::Error) -> Option<String> {
    error.chain().find_map(|e| {
        if let Some(usage) = e.downcast_ref::<UsageError>() {
            usage.hint.clone()
        } else if let Some(refusal) = e.downcast_ref::<Failure>() {
            refusal.hint.clone()
        } else {
            e.downcast_ref::<ApiError>().and_then(ApiError::hint)
        }
    })
}

/// Prints a failed run's error and hint on stderr and turns the outcome into the exit code.
pub fn report(outcome: anyhow::Result<()>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::from(OK),
        Err(error) => {
            // `{:#}` prints the context chain on one line: "listing devices: <cause>".
            eprintln!("error: {error:#}");
            if let Some(hint) = hint_of(&error) {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(code_of(&error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn usage_errors_exit_2_even_under_context() {
        let error = anyhow::Error::new(UsageError::with_hint("no URL", "pass --url"))
            .context("listing devices");
        assert_eq!(code_of(&error), USAGE);
        assert_eq!(hint_of(&error).as_deref(), Some("pass --url"));
    }

    #[test]
    fn other_errors_exit_1() {
        let error: anyhow::Result<()> = Err(anyhow::anyhow!("disk full")).context("saving");
        let error = error.expect_err("failed");
        assert_eq!(code_of(&error), FAILURE);
        assert_eq!(hint_of(&error), None);
    }
}
