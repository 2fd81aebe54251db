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
    let command = run.json();
    assert_eq!(command["deliveries"][0]["status"], "queued", "{command}");
    let uuid = command["command_uuid"].as_str().expect("a UUID").to_owned();
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
    assert_eq!(run.json()["deliveries"][0]["status"], "cancelled");
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
    assert_eq!(
        device.idle().await,
        None,
        "a cancelled command is never served"
    );
    // Cancelling again withdraws nothing and says so.
    let run = ctl.run(&["commands", "cancel", &uuid]).await.expect_code(0);
    assert!(run.stdout.contains("nothing was waiting"), "{}", run.stdout);
}
