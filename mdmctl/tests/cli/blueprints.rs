//! `blueprints`: made from JSON commands of either form (flags or a file), listed, disabled and
//! enabled, applied to a device that enrolls afterwards (its run listed, its first command
//! received), and deleted; commands a blueprint may not hold are usage errors before anything
//! is sent, and a refusal is exit 1 with the server's detail.

use super::ctl::Ctl;
use super::device::{Device, CAPTURE_UDID};
use crate::{start, OTHER_UDID};
use serde_json::{json, Value};
use std::time::Duration;
use testkit::stack::READ_ONLY_TOKEN;
use testkit::{eventually, Engine};

/// How long the enrollment may take to start the blueprint's run and queue its commands.
const RUN_WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn blueprints_are_made_applied_and_removed() {
    let Some(stack) = start(Engine::Sqlite).await else {
        return;
    };
    let ctl = Ctl::for_stack(&stack);

    let run = ctl
        .run(&[
            "blueprints",
            "create",
            "base",
            "--description",
            "every new device",
            "--command",
            r#"{"request_type":"DeviceInformation","queries":["OSVersion"]}"#,
            "--command",
            r#"{"RequestType":"ProfileList"}"#,
        ])
        .await
        .expect_code(0);
    assert!(run.stdout.starts_with("id "), "{}", run.stdout);
    let base = run.field("id");
    assert_eq!(
        (run.field("name"), run.field("enabled")),
        ("base".to_owned(), "true".to_owned())
    );
    assert_eq!(run.field("device_configured"), "true");

    let token = ctl
        .run(&["enroll", "token", "create", "-o", "json"])
        .await
        .expect_code(0)
        .json()["token"]["id"]
        .as_str()
        .expect("a token ID")
        .to_owned();
    let file = ctl.write_file(
        "commands.json",
        r#"[{"request_type":"SecurityInfo"}, {"RequestType":"CertificateList"}]"#,
    );
    let run = ctl
        .run(&[
            "blueprints",
            "create",
            "lab",
            "--commands-file",
            &file.display().to_string(),
            "--enrollment-token",
            &token,
            "--no-device-configured",
            "--disabled",
            "-o",
            "json",
        ])
        .await
        .expect_code(0);
    let lab = run.json();
    let lab_id = lab["id"].as_str().expect("an ID").to_owned();
    assert_eq!(
        lab["commands"],
        json!([{"request_type": "SecurityInfo"}, {"RequestType": "CertificateList"}])
    );
    assert_eq!(
        (
            &lab["enrollment_tokens"],
            &lab["device_configured"],
            &lab["enabled"]
        ),
        (&json!([token]), &Value::from(false), &Value::from(false))
    );

    // What a blueprint may not hold is refused before anything is sent.
    for command in [
        r#"{"request_type":"EraseDevice"}"#,
        r#"{"RequestType":"DeviceLock"}"#,
        r#"["ProfileList"]"#,
        r#"{"queries":["OSVersion"]}"#,
    ] {
        let run = ctl
            .run(&["blueprints", "create", "bad", "--command", command])
            .await
            .expect_code(2);
        assert!(
            run.stderr.starts_with("error: "),
            "{command}: {}",
            run.stderr
        );
    }

    let run = ctl.run(&["blueprints", "list"]).await.expect_code(0);
    assert!(run.stdout.starts_with("ID"), "{}", run.stdout);
    let row = run.row(&base);
    assert!(
        row.contains("enabled")
            && row.contains("DeviceInformation,ProfileList")
            && row.contains("(every device)"),
        "{row}"
    );
    let row = run.row(&lab_id);
    assert!(
        row.contains("disabled")
            && row.contains("SecurityInfo,CertificateList")
            && row.contains(&token),
        "{row}"
    );
    let run = ctl
        .run(&["blueprints", "list", "-o", "json"])
        .await
        .expect_code(0);
    let names: Vec<Value> = run
        .json()
        .as_array()
        .expect("an array")
        .iter()
        .map(|b| b["name"].clone())
        .collect();
    assert_eq!(names, [json!("base"), json!("lab")]);

    let run = ctl
        .run(&["blueprints", "disable", &base])
        .await
        .expect_code(0);
    assert_eq!(
        run.stdout.trim(),
        format!("disabled blueprint {base} (base)")
    );
    let run = ctl.run(&["blueprints", "show", &base]).await.expect_code(0);
    assert_eq!(run.field("enabled"), "false");
    let run = ctl
        .run(&["blueprints", "enable", &base, "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(run.json()["enabled"], true);

    // A device that enrolls now gets `base` (not `lab`: disabled, and for another token).
    let run = ctl.run(&["blueprints", "runs", &base]).await.expect_code(0);
    assert!(run.stderr.contains("no runs"), "{}", run.stderr);
    let device = Device::enroll(&stack, CAPTURE_UDID).await;
    let received = device.next_command(RUN_WAIT).await;
    assert_eq!(received.request_type, "DeviceInformation");
    let (runs_of, base_ref) = (&ctl, base.as_str());
    let runs = eventually(RUN_WAIT, "the run of base", move || async move {
        let run = runs_of
            .run(&["blueprints", "runs", base_ref, "-o", "json"])
            .await
            .expect_code(0);
        let runs = run.json();
        (runs.as_array().map(Vec::len) == Some(1)).then_some(runs)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()));
    assert_eq!(
        (&runs[0]["device"], &runs[0]["total"]),
        (&json!(CAPTURE_UDID), &json!(2))
    );
    let run = ctl.run(&["blueprints", "runs", &base]).await.expect_code(0);
    assert!(run.stdout.starts_with("DEVICE"), "{}", run.stdout);
    let row = run.row(CAPTURE_UDID);
    assert!(row.contains("/2"), "{row}");
    let run = ctl
        .run(&[
            "blueprints",
            "runs",
            &base,
            "--device",
            OTHER_UDID,
            "--limit",
            "5",
        ])
        .await
        .expect_code(0);
    assert_eq!(
        run.stdout.lines().count(),
        1,
        "a header only:\n{}",
        run.stdout
    );
    let run = ctl
        .run(&["blueprints", "runs", &lab_id, "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(run.json(), json!([]));

    // Reading needs `read`; making needs `commands`.
    let mut auditor = Ctl::for_stack(&stack);
    auditor.set("MDM_TOKEN", READ_ONLY_TOKEN);
    auditor.run(&["blueprints", "list"]).await.expect_code(0);
    let run = auditor
        .run(&[
            "blueprints",
            "create",
            "nope",
            "--command",
            r#"{"RequestType":"ProfileList"}"#,
        ])
        .await
        .expect_code(1);
    assert!(run.stderr.contains("HTTP 403"), "{}", run.stderr);

    let run = ctl
        .run(&["blueprints", "delete", &base])
        .await
        .expect_code(0);
    assert_eq!(run.stdout.trim(), format!("deleted blueprint {base}"));
    let run = ctl
        .run(&["blueprints", "delete", &lab_id, "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(run.stdout, "", "204 has no document to print");
    let run = ctl.run(&["blueprints", "list"]).await.expect_code(0);
    assert!(run.stderr.contains("no blueprints"), "{}", run.stderr);
    for args in [
        &["blueprints", "show", &base][..],
        &["blueprints", "runs", &base],
        &["blueprints", "disable", &base],
        &["blueprints", "delete", &base],
    ] {
        let run = ctl.run(args).await.expect_code(1);
        assert!(
            run.stderr.contains("HTTP 404")
                && run.stderr.contains(&format!("no blueprint \"{base}\""))
                && run.stderr.contains("hint: check the ID"),
            "{args:?}: {}",
            run.stderr
        );
    }
}
