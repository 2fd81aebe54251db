//! `--wait` running out of time, NotNow in `commands show`, and `commands cancel|list`.

use super::ctl::Ctl;
use super::device::{Device, CAPTURE_UDID};
use crate::start;
use testkit::Engine;

#[tokio::test]
async fn a_command_is_followed_until_timeout_then_cancelled() {
    let Some(stack) = start(Engine::Sqlite).await else {
        return;
    };
    let device = Device::enroll(&stack, CAPTURE_UDID).await;
    let ctl = Ctl::for_stack(&stack);
    // The device does not poll yet: --wait gives up after its timeout, with exit code 1.
    let run = ctl
        .run(&[
            "commands",
            "send",
            "ProfileList",
            "--device",
            CAPTURE_UDID,
            "--wait",
            "--timeout",
            "1s",
            "-o",
            "json",
        ])
        .await
        .expect_code(1);
    assert!(
        run.stderr
            .contains("timed out after 1s: 1 of 1 devices have not answered"),
        "{}",
        run.stderr
    );
    // The command and its deliveries, each as the API sent it.
    let waited = run.json();
    assert_eq!(waited["deliveries"][0]["status"], "queued", "{waited}");
    assert_eq!(waited["command"]["status_counts"]["queued"], 1, "{waited}");
    let uuid = waited["command"]["command_uuid"]
        .as_str()
        .expect("a UUID")
        .to_owned();
    assert!(
        run.stderr.contains(&format!("commands show {uuid}")),
        "{}",
        run.stderr
    );

    let received = device.idle().await.expect("served");
    assert_eq!(received.command_uuid, uuid);
    assert_eq!(device.answer(&received, "NotNow").await, None);
    let run = ctl.run(&["commands", "show", &uuid]).await.expect_code(0);
    assert!(
        run.stdout.contains("NotNow (once), still queued"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .ends_with("Acknowledged 0, Error 0, NotNow 1, pending 0\n"),
        "{}",
        run.stdout
    );

    let run = ctl.run(&["commands", "cancel", &uuid]).await.expect_code(0);
    assert!(
        run.stdout.contains("withdrawn from 1 queue"),
        "{}",
        run.stdout
    );
    let run = ctl
        .run(&["commands", "show", &uuid, "-o", "json"])
        .await
        .expect_code(0);
    let shown = run.json();
    assert_eq!(shown["deliveries"][0]["status"], "cancelled", "{shown}");
    assert_eq!(shown["command"]["cancelled_by"], "ops", "{shown}");
    // Listed by status, on the server.
    let run = ctl
        .run(&["commands", "show", &uuid, "--status", "queued"])
        .await
        .expect_code(0);
    assert!(!run.stdout.contains(CAPTURE_UDID), "{}", run.stdout);
    assert!(
        run.stdout.contains("cancelled_by  ops"),
        "who cancelled it:\n{}",
        run.stdout
    );
    let run = ctl
        .run(&["commands", "list", "--device", CAPTURE_UDID])
        .await
        .expect_code(0);
    let row = run
        .stdout
        .lines()
        .find(|l| l.starts_with(&uuid))
        .expect("listed");
    assert!(
        row.contains("ProfileList") && row.contains("cancelled"),
        "{row}"
    );
    // Among every command, newest first, filtered by request type on the server.
    let run = ctl
        .run(&["commands", "list", "--request-type", "ProfileList"])
        .await
        .expect_code(0);
    let row = run
        .stdout
        .lines()
        .find(|l| l.starts_with(&uuid))
        .unwrap_or_else(|| panic!("listed:\n{}", run.stdout));
    assert!(row.contains("ops"), "{row}");
    let run = ctl
        .run(&[
            "commands",
            "list",
            "--request-type",
            "EraseDevice",
            "-o",
            "json",
        ])
        .await
        .expect_code(0);
    assert_eq!(run.json(), serde_json::json!([]));
    assert_eq!(
        device.idle().await,
        None,
        "a cancelled command is never served"
    );
    // Cancelling again withdraws nothing and says so.
    let run = ctl.run(&["commands", "cancel", &uuid]).await.expect_code(0);
    assert!(run.stdout.contains("nothing was waiting"), "{}", run.stdout);
}
