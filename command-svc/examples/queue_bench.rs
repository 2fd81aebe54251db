//! Queue benchmark: enqueue one command to N enrollments through the real gRPC API, then drain
//! it as N devices would (Idle → command → Acknowledged → nothing), and report the times.
//!
//! command-svc runs in this process on a loopback listener, with an enroll-svc it asks which
//! targets exist (none do: the command is queued with `allow_unknown` for enrollments to come);
//! every call crosses real gRPC over TCP. On PostgreSQL fresh databases are created and dropped.
//!
//! ```sh
//! cargo run --release -p command-svc --example queue_bench -- \
//!     --postgres postgres://postgres@127.0.0.1:5432/postgres --devices 100000
//! cargo run --release -p command-svc --example queue_bench -- --devices 100000   # SQLite
//! ```

use mdm_proto::report::ReportFacts;
use mdm_proto::v1::commands_client::CommandsClient;
use mdm_proto::v1::{DeviceIdentity, EnqueueRequest, ReportRequest};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

struct Args {
    postgres: Option<String>,
    devices: usize,
    concurrency: usize,
}

fn args() -> Args {
    let mut parsed = Args {
        postgres: None,
        devices: 100_000,
        concurrency: 64,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--postgres" => parsed.postgres = Some(value),
            "--devices" => parsed.devices = value.parse().unwrap_or(parsed.devices),
            "--concurrency" => parsed.concurrency = value.parse().unwrap_or(parsed.concurrency),
            other => eprintln!("ignoring unknown flag {other}"),
        }
    }
    parsed
}

fn report(udid: &str, status: &str, command_uuid: Option<&str>) -> Vec<u8> {
    let uuid = command_uuid
        .map(|u| format!("<key>CommandUUID</key><string>{u}</string>"))
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>\
         <key>Status</key><string>{status}</string><key>UDID</key><string>{udid}</string>{uuid}\
         <key>QueryResponses</key><dict><key>DeviceName</key><string>bench</string></dict></dict></plist>"
    )
    .into_bytes()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = args();
    let dir = tempfile::tempdir()?;
    let mut databases = Vec::new();
    let url = |name: &str| -> anyhow::Result<String> {
        Ok(format!(
            "sqlite://{}",
            dir.path().join(format!("{name}.db")).display()
        ))
    };
    let (command_url, enroll_url) = match &args.postgres {
        Some(admin) => {
            let command = testkit::TempDatabase::create_on(admin).await?;
            let enroll = testkit::TempDatabase::create_on(admin).await?;
            let urls = (command.url.clone(), enroll.url.clone());
            databases.extend([command, enroll]);
            urls
        }
        None => (url("command")?, url("enroll")?),
    };
    let engine = if args.postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let enroll_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let enroll_addr = enroll_listener.local_addr()?;
    let enroll_env = std::collections::HashMap::from([
        ("MDM_ENROLL_DATABASE__URL".to_string(), enroll_url),
        (
            "MDM_ENROLL_SECRET_KEY".to_string(),
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_string(),
        ),
        (
            "MDM_ENROLL_METRICS_LISTEN".to_string(),
            "127.0.0.1:0".to_string(),
        ),
    ]);
    let enroll_config: enroll_svc::Config = service_kit::config::load_from(None, &enroll_env)?;
    let (stop_enroll, enroll_stopped) = oneshot::channel::<()>();
    let enroll = tokio::spawn(enroll_svc::run(enroll_listener, enroll_config, async {
        let _ = enroll_stopped.await;
    }));
    let mut env = std::collections::HashMap::new();
    env.insert("MDM_COMMAND_DATABASE__URL".to_string(), command_url);
    env.insert(
        "MDM_COMMAND_DATABASE__MAX_CONNECTIONS".to_string(),
        "32".to_string(),
    );
    env.insert(
        "MDM_COMMAND_ENROLL_URL".to_string(),
        format!("http://{enroll_addr}"),
    );
    env.insert(
        "MDM_COMMAND_METRICS_LISTEN".to_string(),
        "127.0.0.1:0".to_string(),
    );
    let config: command_svc::Config = service_kit::config::load_from(None, &env)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(command_svc::run(listener, config, async {
        let _ = stopped.await;
    }));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .tcp_nodelay(true)
        .connect_lazy();
    let client = CommandsClient::new(channel)
        .max_encoding_message_size(64 << 20)
        .max_decoding_message_size(64 << 20);

    let udids: Vec<String> = (0..args.devices).map(|i| format!("BENCH-{i:08}")).collect();
    let command = b"<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>RequestType</key>\
        <string>DeviceInformation</string><key>Queries</key><array><string>DeviceName</string></array></dict></plist>";
    let started = Instant::now();
    let queued = client
        .clone()
        .enqueue(EnqueueRequest {
            enrollment_ids: udids.clone(),
            command_plist: command.to_vec(),
            requested_by: "bench".into(),
            // The queue alone is measured here; push-svc has its own benchmark.
            no_push: true,
            allow_unknown: true,
            ..Default::default()
        })
        .await?
        .into_inner();
    let enqueue_time = started.elapsed();
    println!("engine: {engine}");
    println!(
        "enqueue of 1 command to {} enrollments: {:.2} s",
        queued.targets,
        enqueue_time.as_secs_f64()
    );

    let started = Instant::now();
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(args.concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    let mut latencies = Vec::with_capacity(args.devices);
    for udid in udids {
        let permit = semaphore.clone().acquire_owned().await?;
        let mut client = client.clone();
        tasks.spawn(async move {
            let _permit = permit;
            let identity = DeviceIdentity {
                enrollment_id: udid.clone(),
                device_id: udid.clone(),
                ..Default::default()
            };
            let cycle = Instant::now();
            let first = client
                .report(as_the_edge_sends(
                    identity.clone(),
                    report(&udid, "Idle", None),
                    &udid,
                )?)
                .await?
                .into_inner();
            anyhow::ensure!(
                !first.command_uuid.is_empty(),
                "{udid}: Idle got no command"
            );
            let second = client
                .report(as_the_edge_sends(
                    identity,
                    report(&udid, "Acknowledged", Some(&first.command_uuid)),
                    &udid,
                )?)
                .await?
                .into_inner();
            anyhow::ensure!(second.body.is_empty(), "{udid}: queue not drained");
            Ok::<Duration, anyhow::Error>(cycle.elapsed())
        });
        while let Some(done) = tasks.try_join_next() {
            latencies.push(done??);
        }
    }
    while let Some(done) = tasks.join_next().await {
        latencies.push(done??);
    }
    let drain_time = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "drain: {} command cycles (Idle → command → Acknowledged → empty) in {:.2} s = {:.0} cycles/s, concurrency {}",
        latencies.len(),
        drain_time.as_secs_f64(),
        latencies.len() as f64 / drain_time.as_secs_f64(),
        args.concurrency
    );
    println!(
        "cycle latency: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        pct(1.0).as_secs_f64() * 1e3
    );
    let _ = stop.send(());
    server.await??;
    let _ = stop_enroll.send(());
    enroll.await??;
    drop(databases);
    Ok(())
}

/// The request the edge sends for a report body: the body with what it read from it.
fn as_the_edge_sends(
    identity: DeviceIdentity,
    body: Vec<u8>,
    connection_id: &str,
) -> anyhow::Result<ReportRequest> {
    let facts = ReportFacts::of(&mdm_core::parse_report(&body)?);
    Ok(facts.into_request(identity, body, connection_id.to_owned()))
}
