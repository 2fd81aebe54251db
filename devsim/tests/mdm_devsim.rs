//! The `mdm-devsim` binary against the whole stack (every service and the mock APNs as
//! processes): `bench` with each way of enrolling, in mTLS and Mdm-Signature mode, Macs with
//! user channels among the devices; `run` with devices that sleep until their push arrives on
//! the mock APNs's feed, answer, and check out at SIGTERM.
//!
//! Run: `cargo build --workspace --bins && cargo nextest run -p devsim --test mdm_devsim`.

use devsim::admin::{count, AdminApi};
use mdm_api::commands::DeliveryStatus;
use mdm_api::devices::EnrollmentStatus;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use testkit::stack::ADMIN_TOKEN;
use testkit::{eventually, workspace_bin, ChildProcess, Engine, Stack, StackOptions};

const DEADLINE: Duration = Duration::from_secs(60);

async fn stack(engine: Engine, device_mode: &'static str) -> Option<Stack> {
    let mut options = StackOptions::new(engine);
    options.apns_process = true;
    options.device_mode = device_mode;
    let stack = Stack::start(options).await.expect("stack starts");
    if stack.is_none() {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
    }
    stack
}

/// The flags that point the simulator at `stack`.
fn server_flags(stack: &Stack) -> Vec<String> {
    let file = |name: &str, pem: String| stack.pki.write(name, &pem).display().to_string();
    [
        ("--server", stack.device_url.clone()),
        ("--ca-file", file("sim-ca.pem", stack.device_ca.cert_pem())),
        ("--topic", testkit::pki::PUSH_TOPIC.to_owned()),
        ("--admin-url", stack.admin_url.clone()),
        ("--admin-token", ADMIN_TOKEN.to_owned()),
        ("--enrollment-url", stack.enrollment_url.clone()),
        (
            "--device-ca-cert",
            file("sim-device-ca.pem", stack.device_ca.cert_pem()),
        ),
        (
            "--device-ca-key",
            file("sim-device-ca.key", stack.device_ca.key_pem()),
        ),
        (
            "--apple-device-ca-cert",
            file("sim-apple-ca.pem", stack.apple_device_ca.cert_pem()),
        ),
        (
            "--apple-device-ca-key",
            file("sim-apple-ca.key", stack.apple_device_ca.key_pem()),
        ),
    ]
    .into_iter()
    .flat_map(|(flag, value)| [flag.to_owned(), value])
    .collect()
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

/// Runs `mdm-devsim bench ... --json` to completion; answers its report (its standard output).
async fn bench(stack: &Stack, extra: &[&str]) -> Value {
    let mut all = args(&["bench", "--json"]);
    all.extend(server_flags(stack));
    all.extend(args(extra));
    let run = tokio::process::Command::new(workspace_bin("mdm-devsim"))
        .args(&all)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(DEADLINE, run)
        .await
        .unwrap_or_else(|_| panic!("mdm-devsim bench did not finish\n{}", stack.logs()))
        .expect("mdm-devsim runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}\n{}", stack.logs());
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"))
}

fn check_load(report: &Value, channels: u64) {
    let load = &report["load"];
    assert_eq!(report["enrollment"]["channels"], channels, "{report}");
    assert_eq!(load["outcome"]["failed_sessions"], 0, "{report}");
    assert_eq!(
        load["outcome"]["acknowledged"], load["commands_expected"],
        "every queued command answered: {report}"
    );
    let messages = load["messages"].as_array().expect("messages");
    let idle = messages
        .iter()
        .find(|m| m["message_type"] == "Idle")
        .expect("Idle figures");
    assert!(idle["p99_ms"].as_f64().is_some_and(|p| p > 0.0), "{report}");
}

#[tokio::test]
async fn bench_with_preissued_identities_and_user_channels_in_mtls() {
    let Some(stack) = stack(Engine::Sqlite, "mtls").await else {
        return;
    };
    let report = bench(
        &stack,
        &[
            "--devices",
            "12",
            "--macs",
            "2",
            "--users-per-mac",
            "2",
            "--commands",
            "2",
            "--rounds",
            "2",
            "--concurrency",
            "4",
            "--new-connections",
            "0.5",
        ],
    )
    .await;
    check_load(&report, 12 + 2 * 2);
    assert_eq!(report["load"]["commands_expected"], 16 * 2 * 2);
}

#[tokio::test]
async fn bench_at_a_fixed_rate_after_ota_enrollment_on_postgres() {
    let Some(stack) = stack(Engine::Postgres, "mtls").await else {
        return;
    };
    let report = bench(
        &stack,
        &[
            "--enroll",
            "ota",
            "--devices",
            "3",
            "--rounds",
            "2",
            "--rate",
            "20",
        ],
    )
    .await;
    check_load(&report, 3);
    assert!(report["load"]["pace"]
        .as_str()
        .is_some_and(|p| p.starts_with("Rate")));
}

#[tokio::test]
async fn bench_after_direct_profile_enrollment_in_signature_mode() {
    let Some(stack) = stack(Engine::Sqlite, "signature").await else {
        return;
    };
    let report = bench(
        &stack,
        &[
            "--enroll",
            "profile",
            "--transport",
            "signature",
            "--devices",
            "3",
            "--macs",
            "1",
            "--users-per-mac",
            "1",
            "--not-now-rate",
            "0",
            "--rounds",
            "1",
        ],
    )
    .await;
    check_load(&report, 4);
}

#[tokio::test]
async fn run_mode_devices_wake_on_their_push_and_check_out_at_sigterm() {
    let Some(stack) = stack(Engine::Sqlite, "mtls").await else {
        return;
    };
    let ids_file: PathBuf = stack.pki.path().join("ids.txt");
    let feed_url = stack.apns.feed().url().to_owned();
    let mut all = args(&[
        "run",
        "--devices",
        "4",
        "--macs",
        "1",
        "--users-per-mac",
        "1",
    ]);
    all.extend(server_flags(&stack));
    all.extend(args(&[
        "--push-feed",
        &feed_url,
        "--check-out",
        "--ids-file",
    ]));
    all.push(ids_file.display().to_string());
    let mut sim = ChildProcess::spawn("mdm-devsim", &workspace_bin("mdm-devsim"), &all, &[])
        .await
        .expect("spawn");
    sim.wait_for_line("waiting for commands", DEADLINE)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()));
    let ids: Vec<String> = std::fs::read_to_string(&ids_file)
        .expect("ids file")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(ids.len(), 5, "4 devices and one user channel: {ids:?}");

    // Queued through the admin API: pushed, woken, answered; no session was started by hand.
    let api = AdminApi::new(&stack.admin_url, ADMIN_TOKEN, &stack.device_ca.cert_pem())
        .expect("admin API client");
    let command = json!({"request_type": "DeviceInformation", "queries": ["DeviceName"]});
    let uuid = api.enqueue(&ids, command).await.expect("queued");
    eventually(DEADLINE, "every channel to answer", || async {
        let command = api.command(&uuid).await.expect("the command");
        (count(&command, DeliveryStatus::Acknowledged) == 5).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}\n{}", sim.logs(), stack.logs()));

    let status = sim.terminate(DEADLINE).await.expect("stops at SIGTERM");
    assert!(status.success(), "{}", sim.logs());
    assert!(sim.logs().contains("sessions in"), "{}", sim.logs());
    // Checked out: the device channels are no longer enrolled.
    let device = api.device(&ids[0]).await.expect("the device");
    assert_eq!(device.status, EnrollmentStatus::CheckedOut, "{device:?}");
}
