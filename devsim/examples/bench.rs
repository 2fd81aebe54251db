//! The system benchmark: the whole stack (proxy, enroll-svc, command-svc, push-svc as processes,
//! real TLS, PostgreSQL by default) driven by simulated devices from this process, which also
//! hosts the mock APNs. Scenarios:
//!
//! - `enroll`: N devices Authenticate and TokenUpdate.
//! - `cycle`: K commands queued to each of N devices, then every device works through its queue
//!   in sessions (a new TLS connection each, Idle → command → Acknowledged → … → empty);
//!   reports command cycles per second and latency per message type.
//! - `fanout`: one command to M devices; each sleeps until its push reaches the mock APNs, wakes
//!   and answers; reports the time from enqueue to the last result.
//!
//! Every scenario prints where the CPU went (per process, PostgreSQL included).
//!
//! ```sh
//! cargo build --release --workspace --bins
//! cargo run --release -p devsim --example bench -- --devices 1000 --commands 5 --fanout 10000
//! ```

use devsim::sim::{stats, SimConfig, SimDevice, Stats, Transport};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::stack::ADMIN_TOKEN;
use testkit::{Engine, Stack, StackOptions};
use tokio::sync::Semaphore;

struct Args {
    engine: Engine,
    transport: Transport,
    devices: usize,
    commands: usize,
    fanout: usize,
    concurrency: usize,
    json: bool,
}

fn args() -> Args {
    let mut a = Args {
        engine: Engine::Postgres,
        transport: Transport::Mtls,
        devices: 1000,
        commands: 5,
        fanout: 10_000,
        concurrency: 128,
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
            "--json" => a.json = true,
            other => eprintln!("ignoring unknown flag {other}"),
        }
    }
    a
}

/// CPU seconds (user + system) of a process, from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = fields
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    ticks / 100.0
}

/// CPU seconds of every PostgreSQL process (the server forks a backend per connection).
fn postgres_cpu() -> f64 {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
        })
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(cpu_seconds)
        .sum()
}

fn cpu_snapshot(stack: &Stack) -> BTreeMap<&'static str, f64> {
    BTreeMap::from([
        ("proxy", cpu_seconds(stack.proxy.id())),
        ("enroll-svc", cpu_seconds(stack.enroll.id())),
        ("command-svc", cpu_seconds(stack.command.id())),
        ("push-svc", cpu_seconds(stack.push.id())),
        ("postgres", postgres_cpu()),
        ("simulator + mock APNs", cpu_seconds(std::process::id())),
    ])
}

fn cpu_split(
    before: &BTreeMap<&'static str, f64>,
    after: &BTreeMap<&'static str, f64>,
    elapsed: Duration,
) -> serde_json::Value {
    let mut split = serde_json::Map::new();
    for (name, start) in before {
        let used = after.get(name).copied().unwrap_or(0.0) - start;
        split.insert(
            name.to_string(),
            json!({"cpu_seconds": used, "cores": used / elapsed.as_secs_f64()}),
        );
    }
    serde_json::Value::Object(split)
}

async fn enqueue(stack: &Stack, devices: &[String], request_type: &str) -> anyhow::Result<String> {
    let body = json!({"devices": devices, "command": {"request_type": request_type}});
    let response = stack
        .admin_client()
        .post(format!("{}/v1/commands", stack.admin_url))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "enqueue answered {}",
        response.status()
    );
    let answer: serde_json::Value = serde_json::from_slice(&response.bytes().await?)?;
    Ok(answer["command_uuid"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// Runs `work` on every device with bounded concurrency; returns the devices and the time taken.
async fn on_all<F, Fut>(
    devices: Vec<SimDevice>,
    concurrency: usize,
    work: F,
) -> anyhow::Result<(Vec<SimDevice>, Duration)>
where
    F: Fn(SimDevice) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = anyhow::Result<SimDevice>> + Send + 'static,
{
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for device in devices {
        let permit = gate.clone().acquire_owned().await?;
        let work = work.clone();
        tasks.spawn(async move {
            let _permit = permit;
            work(device).await
        });
    }
    let mut done = Vec::new();
    while let Some(result) = tasks.join_next().await {
        done.push(result??);
    }
    Ok((done, started.elapsed()))
}

fn print(
    title: &str,
    elapsed: Duration,
    stats: &Stats,
    cpu: &serde_json::Value,
    extra: &str,
    json_out: bool,
    report: &mut serde_json::Map<String, serde_json::Value>,
) {
    let summaries = stats.summarize(elapsed);
    if !json_out {
        println!("\n== {title}: {:.2} s {extra}", elapsed.as_secs_f64());
        print!("{}", stats::table(&summaries));
        println!("CPU: {}", cpu);
    }
    report.insert(
        title.into(),
        json!({"seconds": elapsed.as_secs_f64(), "note": extra, "messages": summaries, "cpu": cpu}),
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let a = args();
    let stack = Stack::start(StackOptions {
        device_mode: if a.transport == Transport::Mtls {
            "mtls"
        } else {
            "signature"
        },
        ..StackOptions::new(a.engine)
    })
    .await?
    .ok_or_else(|| anyhow::anyhow!("PostgreSQL is switched off (MDM_TEST_POSTGRES=off)"))?;
    let config = Arc::new(SimConfig {
        server: stack.device_url.clone(),
        checkin_path: "/checkin".into(),
        server_path: "/mdm".into(),
        server_ca_pem: stack.device_ca.cert_pem(),
        transport: a.transport,
        topic: testkit::pki::PUSH_TOPIC.into(),
        not_now_rate: 0.0,
        error_rate: 0.0,
    });
    let total = a.devices.max(a.fanout);
    let mut report = serde_json::Map::new();

    // Certificates are issued up front (not measured): the scenarios measure the server.
    let mut devices = Vec::with_capacity(total);
    for index in 0..total {
        let udid = format!("BENCH-{index:06}-{}", uuid::Uuid::new_v4().simple());
        let cert = stack.device_ca.issue_client(&udid);
        devices.push(SimDevice::new(
            index,
            &udid,
            &cert.cert_pem,
            &cert.key_pem,
            config.clone(),
        )?);
    }

    // enroll: the first N devices.
    let stats = Stats::default();
    let rest = devices.split_off(a.devices.min(total));
    let devices: Vec<SimDevice> = devices
        .into_iter()
        .map(|d| d.with_stats(stats.clone()))
        .collect();
    let before = cpu_snapshot(&stack);
    let (devices, elapsed) = on_all(devices, a.concurrency, |mut d| async move {
        d.enroll().await?;
        Ok(d)
    })
    .await?;
    let cpu = cpu_split(&before, &cpu_snapshot(&stack), elapsed);
    let rate = format!(
        "({} devices, {:.0} enrollments/s)",
        devices.len(),
        devices.len() as f64 / elapsed.as_secs_f64()
    );
    print("enroll", elapsed, &stats, &cpu, &rate, a.json, &mut report);

    // cycle: K commands to each of the N devices, drained in sessions.
    let udids: Vec<String> = devices.iter().map(|d| d.udid().to_string()).collect();
    for _ in 0..a.commands {
        enqueue(&stack, &udids, "SecurityInfo").await?;
    }
    let stats = Stats::default();
    let devices: Vec<SimDevice> = devices
        .into_iter()
        .map(|d| d.with_stats(stats.clone()))
        .collect();
    let before = cpu_snapshot(&stack);
    let (devices, elapsed) = on_all(devices, a.concurrency, |mut d| async move {
        d.reconnect()?;
        let handled = d.session().await?;
        anyhow::ensure!(
            handled.len()
                == handled
                    .iter()
                    .filter(|h| h.status == "Acknowledged")
                    .count(),
            "unexpected answers"
        );
        Ok(d)
    })
    .await?;
    let cpu = cpu_split(&before, &cpu_snapshot(&stack), elapsed);
    let cycles = devices.len() * a.commands;
    let rate = format!(
        "({cycles} command cycles with {} devices = {:.0} cycles/s)",
        devices.len(),
        cycles as f64 / elapsed.as_secs_f64()
    );
    print("cycle", elapsed, &stats, &cpu, &rate, a.json, &mut report);

    // fanout: enroll the rest (not measured here), then one command to all M devices via push.
    let (more, _) = on_all(rest, a.concurrency, |mut d| async move {
        d.enroll().await?;
        Ok(d)
    })
    .await?;
    let mut all: Vec<SimDevice> = devices.into_iter().chain(more).take(a.fanout).collect();
    let stats = Stats::default();
    all = all
        .into_iter()
        .map(|d| d.with_stats(stats.clone()))
        .collect();
    let udids: Vec<String> = all.iter().map(|d| d.udid().to_string()).collect();
    let before = cpu_snapshot(&stack);
    let started = Instant::now();
    let uuid = enqueue(&stack, &udids, "DeviceInformation").await?;
    let apns = &stack.apns.mock();
    let uuid = uuid.as_str();
    let gate = Arc::new(Semaphore::new(a.concurrency));
    let results = futures::future::join_all(all.into_iter().map(|mut d| {
        let gate = gate.clone();
        async move {
            let pushed = apns
                .wait_for_push(&d.token_hex(), Duration::from_secs(600))
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
    let elapsed = started.elapsed();
    let failed = results.iter().filter(|r| r.is_err()).count();
    let cpu = cpu_split(&before, &cpu_snapshot(&stack), elapsed);
    let note = format!(
        "(enqueue to the last of {} results; {failed} failed)",
        results.len()
    );
    print("fanout", elapsed, &stats, &cpu, &note, a.json, &mut report);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}
