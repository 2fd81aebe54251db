//! Destructive commands: a reason is required, and without a terminal only `--yes` sends them.

use super::ctl::Ctl;
use super::device::{Device, CAPTURE_UDID};
use crate::start;
use testkit::Engine;

#[tokio::test]
async fn destructive_commands_need_a_reason_and_yes() {
    let Some(stack) = start(Engine::Sqlite).await else {
        return;
    };
    let device = Device::enroll(&stack, CAPTURE_UDID).await;
    let ctl = Ctl::for_stack(&stack);
    let erase = ["commands", "send", "EraseDevice", "--device", CAPTURE_UDID];

    let run = ctl.run(&erase).await.expect_code(2);
    assert!(run.stderr.contains("--reason"), "{}", run.stderr);
    // stdin is not a terminal: nobody to ask, so only --yes lets it through.
    let run = ctl
        .run(&[&erase[..], &["--reason", "reported stolen"]].concat())
        .await
        .expect_code(1);
    assert!(
        run.stderr.contains("stdin is not a terminal") && run.stderr.contains("--yes"),
        "{}",
        run.stderr
    );
    let run = ctl
        .run(&["commands", "list", "--device", CAPTURE_UDID, "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(run.json(), serde_json::json!([]), "nothing was sent");

    let run = ctl
        .run(
            &[
                &erase[..],
                &["--yes", "--reason", "reported stolen", "-o", "json"],
            ]
            .concat(),
        )
        .await
        .expect_code(0);
    let uuid = run.json()["command_uuid"]
        .as_str()
        .expect("a UUID")
        .to_owned();
    let received = device.idle().await.expect("the erase is served");
    assert_eq!(
        (
            received.command_uuid.as_str(),
            received.request_type.as_str()
        ),
        (uuid.as_str(), "EraseDevice")
    );
    let run = ctl
        .run(&["commands", "show", &uuid, "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(run.json()["command"]["reason"], "reported stolen");
    // The audit log keeps who erased which device, and why.
    let run = ctl
        .run(&["audit", "--device", CAPTURE_UDID, "-o", "json"])
        .await
        .expect_code(0);
    let entries = run.json();
    let erase = entries
        .as_array()
        .and_then(|all| all.iter().find(|e| e["command_uuid"] == uuid.as_str()))
        .unwrap_or_else(|| panic!("the erase is audited: {entries}"));
    assert_eq!(erase["actor"], "ops", "{erase}");
    assert_eq!(erase["request_type"], "EraseDevice", "{erase}");
    let run = ctl
        .run(&["audit", "--device", CAPTURE_UDID])
        .await
        .expect_code(0);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.contains("EraseDevice") && l.contains("reported stolen")),
        "{}",
        run.stdout
    );
}
