//! `mdmctl commands cancel UUID`: withdraw a command from every queue it still waits in. The
//! API answers the command as it stands afterwards; how many deliveries this cancel withdrew is
//! the growth of its `cancelled` count, so the command is read once before.

use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::Api;
use crate::config::Env;
use crate::output;
use anyhow::Context;
use mdm_api::commands::{Command, DeliveryStatus};

/// Runs `mdmctl commands cancel`.
pub async fn run(uuid: &str, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let api = Api::connect(global, env)?;
    let context = || format!("cancelling command {uuid}");
    let before = api.command(uuid).await.with_context(context)?;
    let after = api.cancel(uuid).await.with_context(context)?;
    match global.output {
        OutputFormat::Json => output::json(&after.json),
        OutputFormat::Table => output::line(&said(
            uuid,
            cancelled(&after.value).saturating_sub(cancelled(&before.value)),
        )),
    }
}

/// Deliveries of `command` withdrawn so far.
fn cancelled(command: &Command) -> u32 {
    command
        .status_counts
        .get(DeliveryStatus::Cancelled.as_str())
        .copied()
        .unwrap_or(0)
}

/// What a cancel that withdrew `withdrawn` deliveries did.
fn said(uuid: &str, withdrawn: u32) -> String {
    match withdrawn {
        0 => format!("cancelled {uuid}: nothing was waiting (every device had answered)"),
        1 => format!("cancelled {uuid}: withdrawn from 1 queue"),
        n => format!("cancelled {uuid}: withdrawn from {n} queues"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_how_many_were_withdrawn() {
        assert!(said("u", 0).ends_with("nothing was waiting (every device had answered)"));
        assert!(said("u", 1).ends_with("from 1 queue"));
        assert!(said("u", 3).ends_with("from 3 queues"));
    }
}
