//! PostgreSQL restarts under load: the services' database (a server of the test's own) is
//! restarted, stopped, and turned read-only (as writes reaching a standby in a failover) while
//! simulated devices work through their queues and an administrator reads the API. Devices and the administrator see 200 or 503 — never a 500, never a 401 — and when the
//! dust settles every command has been acknowledged by every device, each with its result.

use devsim::admin::{count, AdminApi};
use devsim::sim::fleet::FleetSpec;
use devsim::sim::Transport;
use mdm_api::commands::DeliveryStatus;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use support::{saw, work, Seen};
use testkit::stack::ADMIN_TOKEN;
use testkit::{Engine, PgCluster, PgClusterOptions, Stack, StackOptions, StopMode};
use tokio::time::Instant;

mod support;

const DEVICES: usize = 6;
const COMMANDS: usize = 12;
const DEADLINE: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_load_is_503_and_loses_nothing() {
    let cluster =
        Arc::new(PgCluster::start(PgClusterOptions::default()).expect("private PostgreSQL"));
    let stack = Stack::start(StackOptions {
        postgres_server: Some(cluster.admin_url()),
        ..StackOptions::new(Engine::Postgres)
    })
    .await
    .expect("stack starts")
    .expect("a private server always runs");
    let api = AdminApi::new(&stack.admin_url, ADMIN_TOKEN, &stack.device_ca.cert_pem())
        .expect("admin client");
    let spec = FleetSpec {
        devices: DEVICES,
        macs: 0,
        users_per_mac: 0,
        first: 0,
        udid_prefix: "RESTART-".into(),
        concurrency: DEVICES,
        resume_tls: false,
    };
    let devices = support::preissued_fleet(&stack, &stack.device_url, Transport::Mtls, spec).await;
    let udids: Vec<String> = devices.iter().map(|d| d.udid().to_owned()).collect();
    let mut commands = Vec::new();
    for _ in 0..COMMANDS {
        let uuid = api
            .enqueue_body(json!({
                "devices": udids,
                "command": {"request_type": "DeviceInformation"},
                "push": false,
            }))
            .await
            .expect("queued")
            .command_uuid;
        commands.push(uuid);
    }

    let seen: Seen = Arc::default();
    // The devices stop once their queue is empty after the restart is over.
    let restart_over = Instant::now() + Duration::from_secs(6);
    let workers: Vec<_> = devices
        .into_iter()
        .map(|device| tokio::spawn(work(device, Arc::clone(&seen), restart_over, DEADLINE)))
        .collect();
    let admin = {
        let (seen, client, url) = (
            Arc::clone(&seen),
            stack.admin_client(),
            stack.admin_url.clone(),
        );
        let first = commands[0].clone();
        tokio::spawn(async move {
            while Instant::now() < restart_over + Duration::from_secs(1) {
                for path in [
                    "/v1/devices".to_owned(),
                    format!("/v1/commands/{first}"),
                    format!("/v1/commands/{first}/deliveries"),
                ] {
                    match client
                        .get(format!("{url}{path}"))
                        .bearer_auth(ADMIN_TOKEN)
                        .send()
                        .await
                    {
                        Ok(response) => saw(&seen, format!("admin {}", response.status().as_u16())),
                        Err(e) => saw(&seen, format!("admin error: {e}")),
                    }
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        })
    };

    // Mid-run: a restart (every session cut, 57P01), then an outage (connections refused).
    // pg_ctl blocks: it runs off the runtime, so that the devices keep working meanwhile.
    let control = |action: fn(&PgCluster) -> anyhow::Result<()>| {
        let cluster = Arc::clone(&cluster);
        async move {
            tokio::task::spawn_blocking(move || action(&cluster))
                .await
                .expect("pg_ctl task")
                .expect("pg_ctl");
        }
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    control(PgCluster::restart).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    control(|cluster| cluster.stop(StopMode::Fast)).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    control(PgCluster::start_again).await;
    // A failover in progress: writes reach a read-only standby for a while.
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.set_read_only(true).await.expect("read-only");
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    cluster.set_read_only(false).await.expect("writable");

    let mut handled = 0;
    for worker in workers {
        handled += worker.await.expect("a device task");
    }
    admin.await.expect("the admin task");

    let seen = seen.lock().expect("seen").clone();
    let bad: Vec<_> = seen
        .iter()
        .filter(|(what, _)| !(what.ends_with(" 200") || what.ends_with(" 503")))
        .collect();
    assert!(
        bad.is_empty(),
        "only 200 and 503 may be seen: {seen:?}\n{}",
        stack.logs()
    );
    assert!(
        seen.keys().any(|what| what.ends_with(" 503")),
        "the outage was noticed: {seen:?}"
    );
    // `handled` is a lower bound: a session cut by a 503 after acknowledging some commands
    // reports none of them, though the server kept every answer. What the server kept is the
    // measure: every command acknowledged by every device, each with its result.
    assert!(handled > 0, "the devices worked: {seen:?}");
    for uuid in &commands {
        let command = api.command(uuid).await.expect("command");
        assert_eq!(
            count(&command, DeliveryStatus::Acknowledged) as usize,
            DEVICES,
            "every device's answer is kept ({handled} seen by the devices): {command:?}\n{}",
            stack.logs()
        );
        let deliveries = api.deliveries(uuid, None).await.expect("deliveries");
        assert_eq!(deliveries.len(), DEVICES, "{deliveries:?}");
        for delivery in deliveries {
            assert!(
                delivery.status == DeliveryStatus::Acknowledged && delivery.result.is_some(),
                "an acknowledged delivery has its result: {delivery:?}"
            );
        }
    }
}
