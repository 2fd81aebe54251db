//! `mdm-devsim run`: enrolled devices that live like real ones. Each sleeps until the mock
//! APNs's feed reports a push to its token (or its poll timer fires), then opens a new
//! connection and runs a session: Idle, every command, its answer. At Ctrl-C or after --for,
//! the devices optionally check out and the figures are printed. A device whose MDM profile the
//! administrator removes (RemoveProfile) checks out at once and stops. SIGTERM stops it like Ctrl-C.

use crate::options::RunArgs;
use crate::setup;
use devsim::sim::{stats, SimDevice};
use mock_apns::PushFeed;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A wait long enough to mean "until woken".
const FOREVER: Duration = Duration::from_secs(86_400);

/// What one device did.
#[derive(Default)]
struct Tally {
    sessions: usize,
    failed_sessions: usize,
    by_status: BTreeMap<&'static str, usize>,
    last_failure: Option<String>,
}

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.push_feed.is_some() || args.poll_secs > 0,
        "nothing would wake the devices: give --push-feed (the mock APNs's feed) or --poll-secs"
    );
    let fleet = setup::enroll(&args.fleet).await?;
    // Before the line below: a script that waits for it reads the file next.
    if let Some(path) = &args.ids_file {
        let ids: Vec<String> = fleet.devices.iter().map(SimDevice::enrollment_id).collect();
        std::fs::write(path, ids.join("\n") + "\n")
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    }
    eprintln!(
        "enrolled {} channels of {} devices in {:.2} s; waiting for commands{}",
        fleet.devices.len(),
        args.fleet.devices,
        fleet.enroll_seconds,
        if args.run_for > 0 {
            format!(" for {} s", args.run_for)
        } else {
            " (Ctrl-C stops)".into()
        }
    );
    let feed = args
        .push_feed
        .as_deref()
        .map(|url| Arc::new(PushFeed::follow(url)));
    let poll = (args.poll_secs > 0).then(|| Duration::from_secs(args.poll_secs));
    let (stop, stopped) = watch::channel(false);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for device in fleet.devices {
        tasks.spawn(live(device, feed.clone(), poll, stopped.clone()));
    }
    wait_for_stop(args.run_for).await;
    let _ = stop.send(true);
    let mut devices = Vec::new();
    let mut total = Tally::default();
    while let Some(joined) = tasks.join_next().await {
        let (device, tally) = joined?;
        total.sessions += tally.sessions;
        total.failed_sessions += tally.failed_sessions;
        for (status, n) in tally.by_status {
            *total.by_status.entry(status).or_default() += n;
        }
        total.last_failure = tally.last_failure.or(total.last_failure);
        devices.push(device);
    }
    let elapsed = started.elapsed();
    if args.check_out {
        for device in devices
            .iter_mut()
            .filter(|d| d.user.is_none() && !d.is_unenrolled())
        {
            if let Err(e) = device.check_out().await {
                eprintln!("{}: CheckOut failed: {e}", device.enrollment_id());
            }
        }
    }
    let messages = fleet.stats.summarize(elapsed);
    if args.json {
        let report = json!({"seconds": elapsed.as_secs_f64(), "sessions": total.sessions,
            "failed_sessions": total.failed_sessions, "commands": total.by_status,
            "push_feed_failures": feed.as_ref().map(|f| f.failures().0), "messages": messages});
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} sessions in {:.1} s ({} failed); commands answered: {:?}",
            total.sessions,
            elapsed.as_secs_f64(),
            total.failed_sessions,
            total.by_status
        );
        print!("{}", stats::table(&messages));
        if let Some(why) = &total.last_failure {
            println!("last failure: {why}");
        }
        if let Some((failures, Some(why))) = feed.as_ref().map(|f| f.failures()) {
            println!("push feed: {failures} failed polls, the last: {why}");
        }
    }
    Ok(())
}

async fn wait_for_stop(run_for: u64) {
    let deadline = async {
        if run_for > 0 {
            tokio::time::sleep(Duration::from_secs(run_for)).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
        () = deadline => {}
    }
}

/// One device's life: a session at start (commands may be waiting), then one per wake-up.
async fn live(
    mut device: SimDevice,
    feed: Option<Arc<PushFeed>>,
    poll: Option<Duration>,
    mut stopped: watch::Receiver<bool>,
) -> (SimDevice, Tally) {
    let mut tally = Tally::default();
    let token = device.token_hex();
    let mut seen = feed.as_ref().map_or(0, |f| f.pushes_to(&token));
    loop {
        match device.session().await {
            Ok(handled) => {
                tally.sessions += 1;
                for h in handled {
                    *tally.by_status.entry(h.status).or_default() += 1;
                }
            }
            Err(e) => {
                tally.failed_sessions += 1;
                tally.last_failure = Some(format!("{}: {e}", device.enrollment_id()));
            }
        }
        if device.is_unenrolled() {
            // Its MDM profile was removed: it checked out and waits for nothing more.
            return (device, tally);
        }
        let pushed = async {
            match &feed {
                Some(feed) => feed.wait_for_push(&token, seen, FOREVER).await,
                None => std::future::pending().await,
            }
        };
        let timer = async {
            match poll {
                Some(every) => tokio::time::sleep(every).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stopped.wait_for(|stop| *stop) => return (device, tally),
            count = pushed => seen = count.unwrap_or(seen),
            () = timer => {}
        }
        // Woken: a new connection, as a device opens after a push.
        if let Err(e) = device.reconnect() {
            tally.last_failure = Some(format!("{}: {e}", device.enrollment_id()));
        }
    }
}
