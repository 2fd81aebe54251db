//! `mdm-devsim bench`: enroll, then rounds of "queue commands to every device through the admin
//! API, then one session per device" under the chosen pacing; the figures per message type.

use crate::options::{required, BenchArgs};
use crate::setup;
use devsim::sim::load::{self, LoadPlan, Pace};
use devsim::sim::{stats, Stats};
use serde_json::json;
use std::time::Duration;

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    required(&args.fleet.admin_url, "--admin-url")?;
    required(
        &args.fleet.admin_token,
        "--admin-token or --admin-token-file",
    )?;
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.new_connections),
        "--new-connections is a share between 0 and 1"
    );
    let fleet = setup::enroll(&args.fleet).await?;
    let admin = fleet
        .admin
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the admin API is needed to queue commands"))?;
    let enroll_elapsed = Duration::from_secs_f64(fleet.enroll_seconds);
    let enrollment = fleet.stats.summarize(enroll_elapsed);
    let channels = fleet.devices.len();
    if !args.json {
        println!(
            "== enrollment: {channels} channels of {} devices in {:.2} s ({:.0} devices/s)",
            args.fleet.devices,
            fleet.enroll_seconds,
            args.fleet.devices as f64 / fleet.enroll_seconds.max(f64::EPSILON)
        );
        print!("{}", stats::table(&enrollment));
    }

    let plan = LoadPlan {
        pace: match args.rate {
            Some(per_second) => Pace::Rate {
                per_second,
                max_in_flight: args.concurrency,
            },
            None => Pace::Closed {
                concurrency: args.concurrency,
            },
        },
        new_connection_share: args.new_connections,
    };
    let ids = fleet.devices.len();
    let command = json!({"request_type": args.request_type});
    let stats = Stats::default();
    let json_only = args.json;
    let (_, total) = load::command_rounds(
        fleet.devices,
        &admin,
        &command,
        (args.commands, args.rounds),
        &plan,
        &stats,
        |round, outcome| {
            if !json_only {
                println!(
                    "round {round}: {} sessions, {} commands answered in {:.2} s ({:.0}/s), {} failed",
                    outcome.sessions,
                    outcome.acknowledged + outcome.not_now + outcome.errors,
                    outcome.seconds,
                    outcome.commands_per_second(),
                    outcome.failed_sessions
                );
            }
        },
    )
    .await?;
    let expected = ids * args.commands * args.rounds;
    let answered = total.acknowledged + total.not_now + total.errors;
    let messages = stats.summarize(Duration::from_secs_f64(total.seconds));
    if args.json {
        let report = json!({
            "enrollment": {"devices": args.fleet.devices, "channels": channels,
                "seconds": fleet.enroll_seconds, "messages": enrollment},
            "load": {"pace": format!("{:?}", plan.pace), "new_connection_share": plan.new_connection_share,
                "commands_expected": expected, "commands_per_second": total.commands_per_second(),
                "outcome": total, "messages": messages},
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "== load ({:?}, {:.0}% new connections): {answered} of {expected} commands in {:.2} s = {:.0} command cycles/s; {} NotNow, {} Error, {} failed sessions",
            plan.pace,
            plan.new_connection_share * 100.0,
            total.seconds,
            total.commands_per_second(),
            total.not_now,
            total.errors,
            total.failed_sessions
        );
        print!("{}", stats::table(&messages));
        for why in &total.failures {
            println!("failure: {why}");
        }
    }
    anyhow::ensure!(
        total.failed_sessions == 0,
        "{} sessions failed",
        total.failed_sessions
    );
    Ok(())
}
