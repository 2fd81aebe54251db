//! Confirmation of destructive commands (`mdm_core::commands::is_destructive`: EraseDevice,
//! DeviceLock, ClearPasscode, ...). On a terminal the administrator types the number of
//! devices, which makes them read it; without a terminal there is no one to ask, so only
//! `--yes` lets the command through.

use crate::exit::Failure;
use anyhow::Context;
use std::io::{BufRead, IsTerminal};

/// How many device IDs the prompt names before "and N more".
const NAMED_IN_PROMPT: usize = 5;

/// Asks for confirmation of `request_type` to `devices`, unless `yes`. A refusal is exit code 1.
pub fn confirm(request_type: &str, devices: &[String], yes: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure {
            message: format!(
                "{request_type} is destructive and stdin is not a terminal, so mdmctl cannot ask \
                 for confirmation; nothing was sent"
            ),
            hint: Some(format!("pass --yes to send {request_type} without asking")),
        }
        .into());
    }
    eprint!("{}", prompt(request_type, devices));
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .context("reading the confirmation")?;
    if accepted(&answer, devices.len()) {
        Ok(())
    } else {
        Err(Failure {
            message: "not confirmed; nothing was sent".into(),
            hint: None,
        }
        .into())
    }
}

/// The question: what, to how many, to which, and what to type.
pub fn prompt(request_type: &str, devices: &[String]) -> String {
    let n = devices.len();
    let mut named = devices
        .iter()
        .take(NAMED_IN_PROMPT)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if n > NAMED_IN_PROMPT {
        named.push_str(&format!(" and {} more", n - NAMED_IN_PROMPT));
    }
    let plural = if n == 1 { "device" } else { "devices" };
    format!(
        "{request_type} cannot be undone. It goes to {n} {plural}: {named}.\n\
         Type the device count ({n}) to confirm: "
    )
}

/// Whether the typed answer is the device count.
pub fn accepted(answer: &str, count: usize) -> bool {
    answer.trim() == count.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_names_the_devices_and_the_count_to_type() {
        let devices: Vec<String> = (1..=7).map(|i| format!("UDID-{i}")).collect();
        let text = prompt("EraseDevice", &devices);
        assert!(text.starts_with("EraseDevice cannot be undone. It goes to 7 devices"));
        assert!(text.contains("UDID-5 and 2 more") && !text.contains("UDID-6"));
        assert!(text.ends_with("Type the device count (7) to confirm: "));
        assert!(prompt("DeviceLock", &devices[..1]).contains("1 device: UDID-1."));
    }

    #[test]
    fn only_the_exact_count_confirms() {
        assert!(accepted("7\n", 7));
        assert!(accepted("  7 ", 7));
        for no in ["y", "yes", "", "70", "6"] {
            assert!(!accepted(no, 7), "{no:?}");
        }
    }
}
