//! Replicas that really share the load: two proxies and two replicas of each of enroll-svc,
//! command-svc and push-svc on one PostgreSQL, simulated devices spread over both proxies.
//! Every replica of every service serves calls (its `mdm_grpc_requests_total` says so); then one
//! replica of each service is killed with SIGKILL mid-run. Devices see 200 or 503, never a 401;
//! every command ends acknowledged by every device, each result stored once; the run completes
//! on the survivors.

use devsim::admin::{count, AdminApi};
use devsim::sim::fleet::FleetSpec;
use devsim::sim::{SimDevice, Transport};
use mdm_api::commands::DeliveryStatus;
use serde_json::json;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use support::{work, Seen};
use testkit::stack::ADMIN_TOKEN;
use testkit::{Engine, Stack, StackOptions};
use tokio::time::Instant;

mod support;

const DEVICES_PER_PROXY: usize = 4;
const COMMANDS: usize = 16;
const DEADLINE: Duration = Duration::from_secs(90);

/// The calls a process received: the sum of its `mdm_grpc_requests_total` samples.
async fn calls(metrics: SocketAddr) -> f64 {
    let text = reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .filter(|line| line.starts_with("mdm_grpc_requests_total{"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn enroll(stack: &Stack, device_url: &str, first: usize) -> Vec<SimDevice> {
    let spec = FleetSpec {
        devices: DEVICES_PER_PROXY,
        macs: 0,
        users_per_mac: 0,
        first,
        udid_prefix: "REPLICA-".into(),
        concurrency: DEVICES_PER_PROXY,
        resume_tls: false,
    };
    support::preissued_fleet(stack, device_url, Transport::Mtls, spec).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_everything_share_the_load_and_survive_losing_one() {
    let Some(mut stack) = Stack::start(StackOptions {
        replicas: 2,
        proxies: 2,
        ..StackOptions::new(Engine::Postgres)
    })
    .await
    .expect("stack starts") else {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
        return;
    };
    let api = AdminApi::new(&stack.admin_url, ADMIN_TOKEN, &stack.device_ca.cert_pem())
        .expect("admin client");
    let second_proxy = stack.proxies[0].device_url.clone();
    let mut devices = enroll(&stack, &stack.device_url.clone(), 0).await;
    devices.extend(enroll(&stack, &second_proxy, DEVICES_PER_PROXY).await);
    let udids: Vec<String> = devices.iter().map(|d| d.udid().to_owned()).collect();
    let mut commands = Vec::new();
    for _ in 0..COMMANDS {
        let queued = api
            .enqueue_body(json!({
                "devices": udids,
                "command": {"request_type": "DeviceInformation"},
                "push": false,
            }))
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()));
        commands.push(queued.command_uuid);
    }

    let seen: Seen = Arc::default();
    let stop_after = Instant::now() + Duration::from_secs(4);
    let workers: Vec<_> = devices
        .into_iter()
        .map(|device| tokio::spawn(work(device, Arc::clone(&seen), stop_after, DEADLINE)))
        .collect();

    // Every replica of every service serves calls.
    let mut every = vec![
        ("enroll-svc", stack.enroll_metrics_addr),
        ("command-svc", stack.command_metrics_addr),
        ("push-svc", stack.push_metrics_addr),
    ];
    every.extend(stack.replicas.iter().map(|r| (r.service, r.metrics_addr)));
    testkit::eventually(
        Duration::from_secs(20),
        "every replica to serve calls",
        || {
            let every = every.clone();
            async move {
                for (_, metrics) in &every {
                    if calls(*metrics).await < 1.0 {
                        return None;
                    }
                }
                Some(())
            }
        },
    )
    .await
    .unwrap_or_else(|e| {
        panic!("{e}: {every:?}\n{}", stack.logs());
    });
    let killed: HashSet<&str> = stack.replicas.iter().map(|r| r.service).collect();
    assert_eq!(killed.len(), 3, "a second replica of each service");

    // One replica of each service dies, as abruptly as a crash, while devices work.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for replica in &mut stack.replicas {
        replica.process.kill();
    }

    for worker in workers {
        worker.await.expect("a device task");
    }
    let seen = seen.lock().expect("seen").clone();
    let bad: Vec<_> = seen
        .keys()
        .filter(|what| !(what.ends_with(" 200") || what.ends_with(" 503")))
        .collect();
    assert!(
        bad.is_empty(),
        "only 200 and 503: {seen:?}\n{}",
        stack.logs()
    );
    for uuid in &commands {
        let command = api
            .command(uuid)
            .await
            .expect("the command, from the survivors");
        assert_eq!(
            count(&command, DeliveryStatus::Acknowledged) as usize,
            udids.len(),
            "{command:?}\n{seen:?}\n{}",
            stack.logs()
        );
        let deliveries = api.deliveries(uuid, None).await.expect("deliveries");
        assert_eq!(deliveries.len(), udids.len(), "one result per device, once");
        assert!(
            deliveries.iter().all(|d| d.result.is_some()),
            "{deliveries:?}"
        );
    }
}
