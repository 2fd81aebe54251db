//! The system benchmark: the whole stack (proxy, enroll-svc, command-svc, push-svc, admin-svc
//! and the mock APNs as processes, real TLS, PostgreSQL by default) driven by simulated devices
//! from this process. Named scenarios (`--scenarios enroll,cycle,rate,ddm,fanout`, all by default):
//!
//! - `enroll`: N devices enroll (`--enroll-by preissued|profile|ota`: the profile and OTA
//!   flows fetch signed profiles and get their identities by SCEP, with RSA keys made before
//!   the clock starts, as a phone makes its own), then Authenticate and TokenUpdate.
//! - `cycle`: K commands queued to each of the N devices, then every device works through its
//!   queue in one session (Idle → command → Acknowledged → … → empty), closed-loop with
//!   `--concurrency` sessions in flight; `--new-connections` of the sessions open a new TLS
//!   connection, as after a push. Reports command cycles per second and latency per message.
//! - `rate`: the same with sessions started on a schedule, for `--rate` command cycles per
//!   second (default 640, four times the 160/s of the best-known open-source server on this
//!   machine): latency at a given load rather than at saturation.
//! - `console`: an administrator's console requests (the page, the dashboard summary, the device
//!   list's first page, a search, a filter) one at a time over a signed-in session, against the
//!   N enrolled devices: `--devices 10000 --scenarios console` is the 10,000-device fleet.
//! - `ddm`: a declaration set (a passcode configuration and its activation) assigned to the N
//!   devices in one request; each is pushed, syncs and reports it active; reports the time from
//!   the assignment to the last report (`--devices 10000 --scenarios ddm`).
//! - `fanout`: one command to M devices; each sleeps until the mock APNs's feed reports its
//!   push, wakes and answers; reports the time from enqueue to the last result.
//!
//! Every scenario prints where the CPU went, per process (PostgreSQL included), as cores and as
//! CPU milliseconds per device request (while the requests ran, and with the work they left
//! behind until the server was quiet), with the server's total (proxy, services, PostgreSQL),
//! and PostgreSQL's transactions per device request. In `cycle` and `rate` the window is the
//! device sessions only: the commands are queued before it opens. `--resume-tls` lets devices
//! resume their TLS sessions on new connections (abbreviated handshakes). `--history N` gives
//! every device N past commands (acknowledged, with results) before `cycle` and `rate`, written
//! straight into command-svc's database: the cycle should cost the same with a long history.
//! `--no-outbox` switches command-svc's event outbox off: run `cycle` with and without it to
//! see what recording (and dispatching) command events costs.
//! docs/benchmarks.md describes every flag and figure.
//!
//! ```sh
//! bench/run.sh --devices 1000 --commands 5 --fanout 10000
//! bench/run.sh --devices 1000 --commands 5 --fanout 0 --scenarios cycle --resume-tls --history 1000
//! ```

mod console;
mod cpu;
mod ddm;
mod history;
mod xacts;

use cpu::{CpuUse, CpuWatch};
use devsim::admin::AdminApi;
use devsim::sim::fleet::{self, FleetSpec, Provisioning};
use devsim::sim::load::{self, LoadPlan, Pace};
use devsim::sim::{stats, EnrollmentServer, SimConfig, SimDevice, Stats, Transport};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::stack::ADMIN_TOKEN;
use testkit::{Engine, Stack, StackOptions, TestCa};
use tokio::sync::Semaphore;
use xacts::Transactions;

struct Args {
    engine: Engine,
    transport: Transport,
    devices: usize,
    commands: usize,
    fanout: usize,
    concurrency: usize,
    rate: f64,
    new_connections: f64,
    enroll_by: String,
    resume_tls: bool,
    history: u64,
    /// `--no-outbox`: command-svc records no command events (the outbox's baseline).
    no_outbox: bool,
    scenarios: Vec<String>,
    json: bool,
}

fn args() -> Args {
    let mut a = Args {
        engine: Engine::Postgres,
        transport: Transport::Mtls,
        devices: 1000,
        commands: 5,
        fanout: 10_000,
        concurrency: 64,
        rate: 640.0,
        new_connections: 1.0,
        enroll_by: "preissued".into(),
        resume_tls: false,
        history: 0,
        no_outbox: false,
        scenarios: ["enroll", "console", "cycle", "rate", "ddm", "fanout"]
            .map(String::from)
            .to_vec(),
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_default();
        match flag.as_str() {
            "--sqlite" => a.engine = Engine::Sqlite,
            "--signature" => a.transport = Transport::Signature,
            "--devices" => a.devices = value().parse().unwrap_or(a.devices),
            "--commands" => a.commands = value().parse().unwrap_or(a.commands),
            "--fanout" => a.fanout = value().parse().unwrap_or(a.fanout),
            "--concurrency" => a.concurrency = value().parse().unwrap_or(a.concurrency),
            "--rate" => a.rate = value().parse().unwrap_or(a.rate),
            "--new-connections" => a.new_connections = value().parse().unwrap_or(1.0),
            "--enroll-by" => a.enroll_by = value(),
            "--resume-tls" => a.resume_tls = true,
            "--history" => a.history = value().parse().unwrap_or(0),
            "--no-outbox" => a.no_outbox = true,
            "--scenarios" => a.scenarios = value().split(',').map(String::from).collect(),
            "--json" => a.json = true,
            other => eprintln!("ignoring unknown flag {other}"),
        }
    }
    a
}

struct Report {
    json: bool,
    scenarios: serde_json::Map<String, serde_json::Value>,
}

/// What a scenario's window saw besides the requests: the CPU, and PostgreSQL's transaction
/// count before and after (none on SQLite).
struct Costs {
    cpu: CpuUse,
    transactions: Option<(xacts::Counts, xacts::Counts)>,
}

impl Report {
    fn add(&mut self, title: &str, note: String, seconds: f64, stats: &Stats, costs: &Costs) {
        let summaries = stats.summarize(Duration::from_secs_f64(seconds));
        // Device requests: every request recorded, not the whole-session series.
        let requests: usize = summaries
            .iter()
            .filter(|s| s.message_type != load::SESSION)
            .map(|s| s.count + usize::try_from(s.errors).unwrap_or(0))
            .sum();
        let transactions = costs
            .transactions
            .as_ref()
            .map(|(before, after)| xacts::per_request(before, after, requests));
        if !self.json {
            println!("\n== {title}: {note}");
            print!("{}", stats::table(&summaries));
            print!("{}", costs.cpu.table(requests));
            if let Some(figures) = &transactions {
                println!("{}", xacts::line(figures));
            }
        }
        self.scenarios.insert(
            title.into(),
            json!({"seconds": seconds, "note": note, "messages": summaries,
                   "cpu": costs.cpu.json(requests), "postgres_transactions": transactions}),
        );
    }
}

/// Closes a scenario's window, called as the last request is answered: the CPU then and once
/// the server is quiet again, and PostgreSQL's count once it has settled after that.
async fn costs(
    cpu: CpuWatch<'_>,
    counter: &mut Transactions,
    before: Option<xacts::Counts>,
) -> anyhow::Result<Costs> {
    let cpu = cpu.finish().await;
    counter.busy();
    let after = counter.settled().await?;
    Ok(Costs {
        cpu,
        transactions: before.zip(after),
    })
}

fn key_pair(ca: &TestCa) -> anyhow::Result<fleet::KeyPair> {
    Ok(fleet::key_pair(&ca.cert_pem(), &ca.key_pem())?)
}

async fn enroll(
    stack: &Stack,
    base: &Arc<SimConfig>,
    provisioning: &Provisioning,
    (first, count, concurrency, resume_tls): (usize, usize, usize, bool),
    stats: &Stats,
) -> anyhow::Result<Vec<SimDevice>> {
    let spec = FleetSpec {
        devices: count,
        macs: 0,
        users_per_mac: 0,
        first,
        udid_prefix: "BENCH-".into(),
        concurrency,
        resume_tls,
    };
    let (devices, failures) = fleet::enroll_fleet(&spec, provisioning, base, stats).await;
    if let Some(first) = failures.first() {
        anyhow::bail!(
            "{} enrollments failed; the first: {first}\n{}",
            failures.len(),
            stack.logs()
        );
    }
    Ok(devices)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let a = args();
    let wants = |name: &str| a.scenarios.iter().any(|s| s == name);
    let stack = Stack::start(StackOptions {
        device_mode: if a.transport == Transport::Mtls {
            "mtls"
        } else {
            "signature"
        },
        apns_process: true,
        command_env: if a.no_outbox {
            vec![("MDM_COMMAND_EVENTS__OUTBOX", "false".into())]
        } else {
            Vec::new()
        },
        ..StackOptions::new(a.engine)
    })
    .await?
    .ok_or_else(|| anyhow::anyhow!("PostgreSQL is switched off (MDM_TEST_POSTGRES=off)"))?;
    let ca_pem = stack.device_ca.cert_pem();
    let admin = AdminApi::new(&stack.admin_url, ADMIN_TOKEN, &ca_pem)?;
    let base = Arc::new(SimConfig::new(
        &stack.device_url,
        &ca_pem,
        a.transport,
        testkit::pki::PUSH_TOPIC,
    ));
    let preissued = Provisioning::Preissued {
        ca: key_pair(&stack.device_ca)?,
    };
    let server = EnrollmentServer {
        enrollment_url: stack.enrollment_url.clone(),
        server_ca_pem: ca_pem.clone(),
    };
    let provisioning = match a.enroll_by.as_str() {
        "profile" => Provisioning::DirectProfile {
            server,
            token: admin.enrollment_token("bench", a.devices).await?,
        },
        "ota" => Provisioning::Ota {
            server,
            token: admin.enrollment_token("bench", a.devices).await?,
            apple_device_ca: key_pair(&stack.apple_device_ca)?,
        },
        _ => preissued.clone(),
    };
    let mut report = Report {
        json: a.json,
        scenarios: serde_json::Map::new(),
    };

    // Device keys for the SCEP flows are made before the clock starts: a phone makes its own.
    let keys_per_device = match a.enroll_by.as_str() {
        "profile" => 1,
        "ota" => 2,
        _ => 0,
    };
    if keys_per_device > 0 {
        let started = Instant::now();
        devsim::sim::enroll::keys::prepare(2048, keys_per_device * a.devices)?;
        eprintln!(
            "made {} device RSA keys up front in {:.1} s",
            keys_per_device * a.devices,
            started.elapsed().as_secs_f64()
        );
    }

    // enroll: the first N devices, measured.
    let mut counter = Transactions::connect(&stack).await?;
    let before = if wants("enroll") {
        counter.settled().await?
    } else {
        None
    };
    let stats = Stats::default();
    let cpu = CpuWatch::start(&stack);
    let started = Instant::now();
    let devices = enroll(
        &stack,
        &base,
        &provisioning,
        (0, a.devices, a.concurrency, a.resume_tls),
        &stats,
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    if wants("enroll") {
        let note = format!(
            "{} devices by {} in {seconds:.2} s = {:.0} enrollments/s",
            devices.len(),
            a.enroll_by,
            devices.len() as f64 / seconds
        );
        let costs = costs(cpu, &mut counter, before).await?;
        report.add("enroll", note, seconds, &stats, &costs);
    }
    counter.busy();

    // console: an administrator browsing the fleet just enrolled.
    if wants("console") {
        let serial = format!("SIM{:09}", devices.len() / 2);
        let figures = console::run(&stack, ADMIN_TOKEN, &serial, 200).await?;
        if !a.json {
            println!(
                "\n== console: {} devices, one request at a time",
                devices.len()
            );
            print!("{}", stats::table(&figures));
        }
        report.scenarios.insert("console".into(), json!(figures));
        counter.busy();
    }

    // --history: past commands for every device, before the cycles are measured.
    if a.history > 0 && (wants("cycle") || wants("rate")) {
        let (seeded, seconds) = history::seed(&stack, &devices, a.history).await?;
        counter.busy();
        let note = format!(
            "{} past commands for each of {} devices ({} deliveries) seeded in {seconds:.1} s",
            seeded.commands,
            devices.len(),
            seeded.deliveries
        );
        if !a.json {
            println!("\n== history: {note}");
        }
        eprintln!("{note}");
        report.scenarios.insert(
            "history".into(),
            json!({"commands_per_device": seeded.commands, "devices": devices.len(),
                   "deliveries": seeded.deliveries, "seed_seconds": seconds}),
        );
    }

    // cycle and rate: K commands to each of the N devices, one session each.
    let command = json!({"request_type": "SecurityInfo"});
    let mut devices = devices;
    let paces = [
        (
            "cycle",
            Pace::Closed {
                concurrency: a.concurrency,
            },
        ),
        (
            "rate",
            Pace::Rate {
                // Each session answers `commands` commands.
                per_second: a.rate / a.commands.max(1) as f64,
                max_in_flight: 4 * a.concurrency,
            },
        ),
    ];
    for (name, pace) in paces {
        if !wants(name) {
            continue;
        }
        let plan = LoadPlan {
            pace,
            new_connection_share: a.new_connections,
        };
        // Queued before the window opens: it measures the device sessions only.
        let ids: Vec<String> = devices.iter().map(SimDevice::enrollment_id).collect();
        for _ in 0..a.commands {
            admin.enqueue(&ids, command.clone()).await?;
        }
        counter.busy();
        let before = counter.settled().await?;
        let stats = Stats::default();
        let sessions: Vec<SimDevice> = devices
            .into_iter()
            .map(|d| d.with_stats(stats.clone()))
            .collect();
        let cpu = CpuWatch::start(&stack);
        let (back, outcome) = load::run_sessions(sessions, &plan, &stats).await;
        let costs = costs(cpu, &mut counter, before).await?;
        devices = back;
        let note = format!(
            "{} command cycles over {} devices in {:.2} s = {:.0} cycles/s ({pace:?}, {:.0}% of sessions on a new TLS connection; {} failed sessions)",
            outcome.acknowledged,
            devices.len(),
            outcome.seconds,
            outcome.commands_per_second(),
            a.new_connections * 100.0,
            outcome.failed_sessions
        );
        report.add(name, note, outcome.seconds, &stats, &costs);
        for why in &outcome.failures {
            eprintln!("{name} failure: {why}");
        }
    }

    // ddm: one declaration set to every device, until each reports it active.
    if wants("ddm") {
        counter.busy();
        let before = counter.settled().await?;
        let stats = Stats::default();
        let sessions: Vec<SimDevice> = devices
            .into_iter()
            .map(|d| d.with_stats(stats.clone()))
            .collect();
        let count = sessions.len();
        let cpu = CpuWatch::start(&stack);
        let outcome = ddm::run(&admin, stack.apns.feed(), sessions, a.concurrency).await?;
        let costs = costs(cpu, &mut counter, before).await?;
        devices = outcome.devices;
        let note = format!(
            "a declaration set assigned to {count} devices: assignment to the last device reporting it active {:.2} s; {} failed",
            outcome.seconds,
            outcome.failures.len()
        );
        report.add("ddm", note, outcome.seconds, &stats, &costs);
        for why in outcome.failures.iter().take(5) {
            eprintln!("ddm failure: {why}");
        }
    }

    // fanout: enroll the rest (not measured), then one command to M devices via push.
    if wants("fanout") && a.fanout > 0 {
        let more = a.fanout.saturating_sub(devices.len());
        let extra = enroll(
            &stack,
            &base,
            &preissued,
            (a.devices, more, a.concurrency, a.resume_tls),
            &Stats::default(),
        )
        .await?;
        counter.busy();
        let before = counter.settled().await?;
        let stats = Stats::default();
        let all: Vec<SimDevice> = devices
            .into_iter()
            .chain(extra)
            .take(a.fanout)
            .map(|d| d.with_stats(stats.clone()))
            .collect();
        let ids: Vec<String> = all.iter().map(SimDevice::enrollment_id).collect();
        let feed = stack.apns.feed();
        let cpu = CpuWatch::start(&stack);
        let started = Instant::now();
        let uuid = admin
            .enqueue(
                &ids,
                json!({"request_type": "DeviceInformation", "queries": ["OSVersion"]}),
            )
            .await?;
        let uuid = uuid.as_str();
        let gate = Arc::new(Semaphore::new(a.concurrency));
        let results = futures::future::join_all(all.into_iter().map(|mut d| {
            let gate = Arc::clone(&gate);
            async move {
                let pushed = feed
                    .wait_for_push(&d.token_hex(), 0, Duration::from_secs(600))
                    .await;
                anyhow::ensure!(pushed.is_some(), "{} was never pushed", d.udid());
                let _permit = gate.acquire().await?;
                d.reconnect()?;
                let handled = d.session().await?;
                anyhow::ensure!(
                    handled.iter().any(|h| h.command_uuid == uuid),
                    "{} did not get the command",
                    d.udid()
                );
                Ok(())
            }
        }))
        .await;
        let seconds = started.elapsed().as_secs_f64();
        let failed: Vec<String> = results
            .iter()
            .filter_map(|r| r.as_ref().err().map(ToString::to_string))
            .collect();
        let note = format!(
            "one command to {} devices, enqueue to the last result {seconds:.2} s; {} failed",
            results.len(),
            failed.len()
        );
        let costs = costs(cpu, &mut counter, before).await?;
        report.add("fanout", note, seconds, &stats, &costs);
        for why in failed.iter().take(5) {
            eprintln!("fanout failure: {why}");
        }
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report.scenarios)?);
    }
    Ok(())
}
