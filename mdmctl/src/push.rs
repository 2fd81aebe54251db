//! `mdmctl push DEVICE...`: wake devices now with an MDM push, one line per device with what
//! APNs (or the server) said.

use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::Api;
use crate::config::Env;
use crate::exit::Failure;
use crate::output;
use crate::table::Table;
use anyhow::Context;
use clap::Args;
use mdm_api::push::{PushRequest, PushResults};

/// `mdmctl push ...`
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Enrollment IDs: UDID, EnrollmentID, or `<device>:<user>` for a user channel.
    #[arg(value_name = "DEVICE", required = true)]
    pub devices: Vec<String>,
}

/// Runs `mdmctl push ...`: exit 1 when any device's push was not delivered.
pub async fn run(args: PushArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let api = Api::connect(global, env)?;
    let body = PushRequest {
        devices: args.devices,
    };
    let pushed = api.push(&body).await.context("pushing")?;
    match global.output {
        OutputFormat::Json => output::json(&pushed.json)?,
        OutputFormat::Table => output::text(&render(&pushed.value).to_string())?,
    }
    let answer = pushed.value;
    if let Some(why) = &answer.certificate_error {
        eprintln!("warning: APNs refused the push certificate: {why}");
    }
    let failed = undelivered(&answer);
    if failed > 0 {
        return Err(Failure {
            message: format!(
                "{failed} of {} devices were not delivered a push",
                answer.results.len()
            ),
            hint: answer
                .certificate_error
                .as_ref()
                .map(|_| "check the push certificate: `mdmctl push-cert show`".to_owned()),
        }
        .into());
    }
    Ok(())
}

/// Devices whose outcome is anything but `delivered`.
pub fn undelivered(answer: &PushResults) -> usize {
    answer
        .results
        .iter()
        .filter(|r| r.outcome != "delivered")
        .count()
}

/// One row per device: ID, outcome, APNs status, reason.
pub fn render(answer: &PushResults) -> Table {
    let mut table = Table::new(["ENROLLMENT ID", "OUTCOME", "APNS", "REASON"]);
    for r in &answer.results {
        table.row([
            r.enrollment_id.clone(),
            r.outcome.clone(),
            r.apns_status.map(|s| s.to_string()).unwrap_or_default(),
            r.reason.clone().unwrap_or_default(),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdm_api::push::PushResult;

    #[test]
    fn anything_but_delivered_counts_as_a_failure() {
        let result = |id: &str, outcome: &str| PushResult {
            enrollment_id: id.into(),
            outcome: outcome.into(),
            reason: None,
            apns_status: None,
        };
        let answer = PushResults {
            results: vec![result("A", "delivered"), result("B", "no_target")],
            counts: Default::default(),
            certificate_error: None,
        };
        assert_eq!(undelivered(&answer), 1);
        let text = render(&answer).to_string();
        assert!(
            text.lines()
                .nth(2)
                .is_some_and(|l| l.starts_with("B ") && l.contains("no_target")),
            "{text}"
        );
    }
}
