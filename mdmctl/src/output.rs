//! Printing results on stdout. A closed pipe (`mdmctl devices list | head -1`) ends the output
//! quietly instead of panicking the way `println!` does.

use anyhow::Context;
use serde::Serialize;
use std::io::{ErrorKind, Write};

/// Writes `text` to stdout as it is.
pub fn text(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

/// Writes `text` and a newline.
pub fn line(text: &str) -> anyhow::Result<()> {
    self::text(&format!("{text}\n"))
}

/// Writes `value` as pretty JSON and a newline.
pub fn json(value: &impl Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value).context("serializing the output")?;
    line(&text)
}
