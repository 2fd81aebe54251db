//! `devices list|show` with filters and pagination, and `commands send --wait` while two
//! simulated devices answer DeviceInformation; on SQLite and on PostgreSQL.

use super::ctl::Ctl;
use super::device::{Device, CAPTURE_UDID};
use crate::{start, OTHER_UDID};
use std::time::Duration;
use testkit::Engine;

/// How long a simulated device waits for mdmctl's command to reach its queue.
const DEVICE_WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn list_devices_and_wait_for_device_information_on_sqlite() {
    list_devices_and_wait_for_device_information(Engine::Sqlite).await;
}

#[tokio::test]
async fn list_devices_and_wait_for_device_information_on_postgres() {
    list_devices_and_wait_for_device_information(Engine::Postgres).await;
}

async fn list_devices_and_wait_for_device_information(engine: Engine) {
    let Some(stack) = start(engine).await else {
        return;
    };
    let first = Device::enroll(&stack, CAPTURE_UDID).await;
    let second = Device::enroll(&stack, OTHER_UDID).await;
    let ctl = Ctl::for_stack(&stack);

    let run = ctl.run(&["devices", "list"]).await.expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two devices:\n{}", run.stdout);
    assert!(lines[0].starts_with("ENROLLMENT ID"), "{}", run.stdout);
    for (line, udid) in lines[1..].iter().zip([CAPTURE_UDID, OTHER_UDID]) {
        assert!(
            line.starts_with(udid) && line.contains("enrolled"),
            "{line}"
        );
        assert!(
            line.contains("Test iPhone") && line.contains("11.3.1"),
            "{line}"
        );
    }
    // Pages of one device each are followed to the end.
    let run = ctl
        .run(&["devices", "list", "--page-size", "1", "-o", "json"])
        .await
        .expect_code(0);
    let ids: Vec<String> = run
        .json()
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|d| d["enrollment_id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids, [CAPTURE_UDID, OTHER_UDID]);
    // Filters the server applies (and the OS version refined to whole components here).
    assert_eq!(
        listed(&ctl, &["--os", "11.3", "--last-seen-within", "1h"]).await,
        2
    );
    assert_eq!(listed(&ctl, &["--os-version", "11"]).await, 2);
    assert_eq!(listed(&ctl, &["--os-version", "1"]).await, 0, "not 11.x");
    assert_eq!(listed(&ctl, &["--os", "17"]).await, 0);
    assert_eq!(listed(&ctl, &["--not-seen-within", "1h"]).await, 0);
    assert_eq!(listed(&ctl, &["--status", "checked_out"]).await, 0);
    assert_eq!(listed(&ctl, &["--status", "enrolled"]).await, 2);
    assert_eq!(listed(&ctl, &["--serial", "C39TEST0001"]).await, 2);
    assert_eq!(listed(&ctl, &["--serial", "NO-SUCH-SERIAL"]).await, 0);
    assert_eq!(listed(&ctl, &["--model", "iPhone10,4"]).await, 2);
    assert_eq!(
        listed(&ctl, &["--name", "test iph", "--page-size", "1"]).await,
        2
    );
    assert_eq!(listed(&ctl, &["--name", "ipad"]).await, 0);
    let run = ctl
        .run(&["devices", "show", OTHER_UDID])
        .await
        .expect_code(0);
    assert!(run.stdout.contains("C39TEST0001"), "{}", run.stdout);
    assert!(
        run.stdout.lines().any(|l| l.starts_with("push.status")),
        "the push state, flattened:\n{}",
        run.stdout
    );
    let run = ctl
        .run(&["devices", "show", OTHER_UDID, "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(run.json()["serial_number"], "C39TEST0001");
    assert!(run.json()["inventory"].is_object(), "{}", run.stdout);
    let run = ctl
        .run(&["devices", "apps", OTHER_UDID, "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(
        run.json(),
        serde_json::json!([]),
        "no app list asked for yet"
    );

    // Both devices poll with Idle and answer with a capture while mdmctl waits.
    let answering = [first, second].map(|device| {
        tokio::spawn(async move {
            let received = device.next_command(DEVICE_WAIT).await;
            let next = device.answer_device_information(&received).await;
            assert_eq!(next, None, "nothing else is queued");
            received.command_uuid
        })
    });
    let mdmctl = ctl.run(&[
        "commands",
        "send",
        "DeviceInformation",
        "--device",
        CAPTURE_UDID,
        "--device",
        OTHER_UDID,
        "--query",
        "DeviceName",
        "--query",
        "OSVersion",
        "--wait",
        "--timeout",
        "60s",
    ]);
    tokio::pin!(mdmctl);
    let devices = futures::future::try_join_all(answering);
    tokio::pin!(devices);
    // A device that fails (its task panics) fails the test at once, not after mdmctl's timeout.
    let (run, answered) = tokio::select! {
        answered = &mut devices => match answered {
            Ok(answered) => (mdmctl.await, answered),
            Err(e) => panic!("a device did not answer ({e}):\n{}", stack.logs()),
        },
        run = &mut mdmctl => match devices.await {
            Ok(answered) => (run, answered),
            Err(e) => panic!(
                "a device did not answer ({e}); mdmctl exited {}:\n{}\n{}\n{}",
                run.code,
                run.stdout,
                run.stderr,
                stack.logs()
            ),
        },
    };
    let run = run.expect_code(0);
    assert_eq!(answered[0], answered[1], "one command for both");
    assert!(
        run.stderr.contains(&answered[0]),
        "the UUID is told: {}",
        run.stderr
    );
    for udid in [CAPTURE_UDID, OTHER_UDID] {
        let block = run
            .stdout
            .split(udid)
            .nth(1)
            .unwrap_or_else(|| panic!("{udid}:\n{}", run.stdout));
        assert!(
            block.trim_start().starts_with("Acknowledged"),
            "{}",
            run.stdout
        );
    }
    assert!(
        run.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("OSVersion") && l.ends_with("11.3.1")),
        "QueryResponses as key/value:\n{}",
        run.stdout
    );
    assert!(run.stdout.contains("DeviceName"), "{}", run.stdout);
    assert_eq!(
        run.stdout.lines().last(),
        Some("Acknowledged 2, Error 0, NotNow 0, pending 0"),
        "{}",
        run.stdout
    );

    // --all and --devices-file name the same two devices.
    let list = ctl.write_file(
        "devices.txt",
        &format!("# both\n{CAPTURE_UDID}\n\n{OTHER_UDID}\n"),
    );
    for targets in [
        vec!["--all"],
        vec!["--devices-file", list.to_str().expect("UTF-8 path")],
    ] {
        let args = [
            &["commands", "send", "ProfileList", "-o", "json"][..],
            &targets,
        ]
        .concat();
        let run = ctl.run(&args).await.expect_code(0);
        assert_eq!(run.json()["targets"], 2, "{targets:?}: {}", run.stdout);
    }
}

/// How many devices `devices list -o json <filters>` prints.
async fn listed(ctl: &Ctl, filters: &[&str]) -> usize {
    let args = [&["devices", "list", "-o", "json"][..], filters].concat();
    let run = ctl.run(&args).await.expect_code(0);
    run.json().as_array().map_or(0, Vec::len)
}
