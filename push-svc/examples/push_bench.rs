//! Push throughput end to end through the Push RPC: the mock APNs (real TLS and HTTP/2, client
//! certificate required) and push-svc in this process, 100,000 targets registered, then pushed
//! through gRPC in one Push call; every push is checked to have reached the mock.
//!
//! ```sh
//! cargo run --release -p push-svc --example push_bench -- --targets 100000
//! cargo run --release -p push-svc --example push_bench -- --postgres postgres://postgres@127.0.0.1:5432/postgres
//! ```

use anyhow::{ensure, Context};
use clap::Parser;
use mdm_proto::v1::push_client::PushClient;
use mdm_proto::v1::{PushOutcome, PushRequest, RegisterTargetRequest, UploadCertificateRequest};
use std::collections::HashMap;
use std::time::Instant;
use testkit::pki::PUSH_TOPIC;
use testkit::ApnsFixture;
use tonic::transport::Channel;

/// Push benchmark options.
#[derive(Debug, Parser)]
struct Args {
    /// Targets registered and pushed.
    #[arg(long, default_value_t = 100_000)]
    targets: usize,
    /// IDs per Push RPC (default: all in one call).
    #[arg(long)]
    batch: Option<usize>,
    /// HTTP/2 connections to the mock APNs.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Pushes in flight.
    #[arg(long, default_value_t = 2_000)]
    in_flight: usize,
    /// How many times the whole push is repeated (the first run includes the TLS handshakes).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Worker threads of the mock APNs (it shares the machine with push-svc).
    #[arg(long, default_value_t = 1)]
    mock_threads: usize,
    /// A PostgreSQL server URL (a fresh database is created); SQLite when absent.
    #[arg(long)]
    postgres: Option<String>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    service_kit::telemetry::init(&service_kit::telemetry::LogConfig {
        filter: "warn,push_svc::deliver=info".into(),
        ..Default::default()
    });
    let apns = ApnsFixture::start_with(|config| {
        config.record_deliveries = false;
        config.worker_threads = args.mock_threads;
    });
    let dir = tempfile::tempdir()?;
    let (url, _pg) = match &args.postgres {
        Some(admin) => {
            let db = testkit::TempDatabase::create_on(admin).await?;
            (db.url.clone(), Some(db))
        }
        None => (
            format!("sqlite://{}", dir.path().join("push.db").display()),
            None,
        ),
    };
    let env: HashMap<String, String> = [
        (
            "MDM_PUSH_SECRET_KEY",
            "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"".to_string(),
        ),
        ("MDM_PUSH_DATABASE__URL", url),
        ("MDM_PUSH_DATABASE__MAX_CONNECTIONS", "8".into()),
        ("MDM_PUSH_METRICS_LISTEN", "127.0.0.1:0".into()),
        ("MDM_PUSH_APNS__PRODUCTION_URL", apns.mock().url()),
        (
            "MDM_PUSH_APNS__CA_FILES",
            format!("[{:?}]", apns.ca_file.display().to_string()),
        ),
        ("MDM_PUSH_APNS__CONNECTIONS", args.connections.to_string()),
        ("MDM_PUSH_APNS__MAX_IN_FLIGHT", args.in_flight.to_string()),
        ("MDM_PUSH_LOG__FILTER", "warn".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let config: push_svc::Config = service_kit::config::load_from(None, &env)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(push_svc::run(listener, config, async {
        let _ = stopped.await;
    }));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .tcp_nodelay(true)
        .connect_lazy();
    let client = PushClient::new(channel)
        .max_encoding_message_size(64 << 20)
        .max_decoding_message_size(64 << 20);
    wait_until_serving(&client).await?;
    client
        .clone()
        .upload_certificate(UploadCertificateRequest {
            pem: apns.push_pem().into_bytes(),
            uploaded_by: "bench".into(),
            ..Default::default()
        })
        .await?;

    let ids: Vec<String> = (0..args.targets).map(|i| format!("BENCH-{i:08}")).collect();
    let started = Instant::now();
    register_all(&client, &ids).await?;
    println!(
        "engine: {}, targets: {}, connections: {}, in flight: {}",
        if args.postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        },
        ids.len(),
        args.connections,
        args.in_flight
    );
    println!(
        "register {} targets (64 concurrent RPCs): {:.2} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );

    let batch = args.batch.unwrap_or(ids.len()).max(1);
    for round in 1..=args.rounds {
        let before = apns.mock().delivered_count();
        let started = Instant::now();
        let mut delivered = 0usize;
        for chunk in ids.chunks(batch) {
            let results = client
                .clone()
                .push(PushRequest {
                    enrollment_ids: chunk.to_vec(),
                    reason: "bench".into(),
                })
                .await?
                .into_inner()
                .results;
            delivered += results
                .iter()
                .filter(|r| r.outcome == PushOutcome::Delivered as i32)
                .count();
        }
        let elapsed = started.elapsed().as_secs_f64();
        let reached = apns.mock().delivered_count() - before;
        ensure!(
            delivered == ids.len(),
            "round {round}: {delivered} of {} delivered",
            ids.len()
        );
        ensure!(
            reached as usize == ids.len(),
            "round {round}: the mock counted {reached}"
        );
        println!(
            "round {round}: {} pushes through the Push RPC in {elapsed:.2} s = {:.0} pushes/s",
            ids.len(),
            ids.len() as f64 / elapsed
        );
    }
    let _ = stop.send(());
    server.await??;
    Ok(())
}

async fn wait_until_serving(client: &PushClient<Channel>) -> anyhow::Result<()> {
    testkit::eventually(
        std::time::Duration::from_secs(20),
        "push-svc serving",
        || {
            let mut client = client.clone();
            async move {
                client
                    .get_target(mdm_proto::v1::GetTargetRequest {
                        enrollment_id: "x".into(),
                    })
                    .await
                    .err()
                    .filter(|s| s.code() == tonic::Code::NotFound)
                    .map(|_| ())
            }
        },
    )
    .await
}

async fn register_all(client: &PushClient<Channel>, ids: &[String]) -> anyhow::Result<()> {
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = tokio::task::JoinSet::new();
    for (n, id) in ids.iter().enumerate() {
        let permit = semaphore.clone().acquire_owned().await?;
        let mut client = client.clone();
        let mut token = vec![0x42u8; 32];
        token[..8].copy_from_slice(&(n as u64).to_be_bytes());
        let request = RegisterTargetRequest {
            enrollment_id: id.clone(),
            device_id: id.clone(),
            token,
            push_magic: format!("MAGIC-{n}"),
            topic: PUSH_TOPIC.into(),
        };
        tasks.spawn(async move {
            let _permit = permit;
            client.register_target(request).await.map(|_| ())
        });
        while let Some(done) = tasks.try_join_next() {
            done.context("register task")??;
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.context("register task")??;
    }
    Ok(())
}
