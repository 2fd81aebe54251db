//! The inventory schedule on a real stack with two command-svc replicas: every enrolled device is
//! asked again for DeviceInformation, SecurityInfo and InstalledApplicationList without an
//! administrator, one slice of the fleet per tick (never all at once), each slice by one
//! replica only, continuing where the last one stopped.

mod support;

use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;
use support::Admin;
use testkit::{Engine, Stack, StackOptions, TestDevice};

const DEVICES: usize = 4;

/// The schedule's DeviceInformation commands queued at or after `since` (Unix ms), oldest
/// first, with their targets.
async fn asked(ops: &Admin, since: i64) -> Vec<(String, Vec<String>)> {
    let mut commands: Vec<Value> = ops
        .all(
            "/v1/commands?requested_by=inventory-schedule&request_type=DeviceInformation",
            100,
        )
        .await;
    commands.reverse();
    let mut asked = Vec::new();
    for command in commands {
        let created = command["created_at"]
            .as_str()
            .and_then(admin_svc::convert::parse_time);
        if created.is_none_or(|at| at < since) {
            continue;
        }
        let uuid = command["command_uuid"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let targets = ops
            .all(&format!("/v1/commands/{uuid}/deliveries"), 100)
            .await
            .iter()
            .filter_map(|d| d["enrollment_id"].as_str().map(str::to_owned))
            .collect();
        asked.push((uuid, targets));
    }
    asked
}

async fn every_device_is_asked_again_one_slice_at_a_time(engine: Engine) {
    // Four devices over a 4 s interval, a tick a second: one device a tick.
    let options = StackOptions {
        replicas: 2,
        command_env: vec![
            ("MDM_COMMAND_INVENTORY_SCHEDULE__INTERVAL_SECS", "4".into()),
            ("MDM_COMMAND_INVENTORY_SCHEDULE__TICK_SECS", "1".into()),
        ],
        ..StackOptions::new(engine)
    };
    let Some(stack) = Stack::start(options).await.expect("the stack starts") else {
        return;
    };
    let mut devices = Vec::new();
    for n in 0..DEVICES {
        let udid = format!("UDID-SCHEDULED-{n}");
        devices.push(TestDevice::enroll(&stack, &udid).await.expect("enrolls"));
    }
    // Slices begun while devices were still enrolling saw a smaller fleet: look from the first
    // tick that saw them all.
    let since = service_kit::now_ms() + 1_000;
    let ops = Admin::ops(&stack);
    let first_round = testkit::eventually(
        Duration::from_secs(20),
        "every device to be asked",
        || async {
            let asked = asked(&ops, since).await;
            let devices: HashSet<&String> = asked.iter().flat_map(|(_, t)| t).collect();
            (devices.len() == DEVICES).then_some(asked)
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()));
    // One device per slice; the first round names each device once, in enrollment-ID order
    // from where the walk began: no slice was run twice, none skipped a device.
    assert!(
        first_round.iter().all(|(_, targets)| targets.len() == 1),
        "{first_round:?}"
    );
    let order: Vec<&str> = first_round
        .iter()
        .take(DEVICES)
        .map(|(_, t)| t[0].as_str())
        .collect();
    let distinct: HashSet<&str> = order.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        DEVICES,
        "a device asked twice in a round: {order:?}"
    );

    // A device that checks in gets the three, in order, as a low-priority batch.
    let device = &devices[0];
    let mut seen = Vec::new();
    let mut next = device.idle(&stack).await.expect("idle");
    while let Some(command) = next {
        seen.push(command.request_type.clone());
        next = device
            .acknowledge(&stack, &command.command_uuid, "")
            .await
            .expect("report");
        if seen.len() == 3 {
            break;
        }
    }
    assert_eq!(
        seen,
        [
            "DeviceInformation",
            "SecurityInfo",
            "InstalledApplicationList"
        ]
    );
    let command = ops
        .get(&format!("/v1/commands/{}", first_round[0].0))
        .await
        .expect(StatusCode::OK);
    assert_eq!(command["priority"], -10, "{command}");
    assert!(
        command["expires_at"].is_string(),
        "expires after an interval"
    );
}

#[tokio::test]
async fn every_device_is_asked_again_one_slice_at_a_time_on_sqlite() {
    every_device_is_asked_again_one_slice_at_a_time(Engine::Sqlite).await;
}

#[tokio::test]
async fn every_device_is_asked_again_one_slice_at_a_time_on_postgres() {
    every_device_is_asked_again_one_slice_at_a_time(Engine::Postgres).await;
}
