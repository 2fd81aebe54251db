//! `declarations` and `declaration-sets` (and `devices declarations|status-items`): a passcode
//! declaration and an activation put (from a file, and from stdin with `--identifier`), listed
//! and shown; an invalid one refused before anything is sent, naming the key; a set holding
//! both, assigned to an enrolled device (which is sent DeclarativeManagement), listed with its
//! devices and each declaration's status, resynced, unassigned; a declaration's deletion refused
//! while a set holds it; the set deleted, then the declarations. On SQLite and PostgreSQL.

use super::ctl::Ctl;
use super::device::{Device, CAPTURE_UDID};
use crate::{start, OTHER_UDID};
use serde_json::{json, Value};
use std::time::Duration;
use testkit::{free_port, Engine};

/// How long the sync command may take to reach the device's queue.
const SYNC_WAIT: Duration = Duration::from_secs(30);

const PASSCODE: &str = r#"{"Type":"com.apple.configuration.passcode.settings",
    "Identifier":"passcode","Payload":{"MinimumLength":6}}"#;
/// The activation without its Identifier: `--identifier` supplies it.
const ACTIVATION: &str =
    r#"{"Type":"com.apple.activation.simple","Payload":{"StandardConfigurations":["passcode"]}}"#;
const INVALID: &str = r#"{"Type":"com.apple.configuration.passcode.settings",
    "Identifier":"passcode","Payload":{"MinimumLength":"six"}}"#;

#[tokio::test]
async fn declarations_and_sets_on_sqlite() {
    declarations_and_sets(Engine::Sqlite).await;
}

#[tokio::test]
async fn declarations_and_sets_on_postgres() {
    declarations_and_sets(Engine::Postgres).await;
}

async fn declarations_and_sets(engine: Engine) {
    let Some(stack) = start(engine).await else {
        return;
    };
    let ctl = Ctl::for_stack(&stack);

    let run = ctl.run(&["declarations", "list"]).await.expect_code(0);
    assert!(run.stderr.contains("no declarations"), "{}", run.stderr);

    // Put from a file, then the same content again: nothing changes.
    let passcode = ctl.write_file("passcode.json", PASSCODE);
    let passcode = passcode.display().to_string();
    let run = ctl
        .run(&["declarations", "put", &passcode])
        .await
        .expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].starts_with(
            "declaration passcode (com.apple.configuration.passcode.settings) stored: ServerToken "
        ) && lines[0].ends_with(", in no set yet"),
        "{}",
        run.stdout
    );
    assert_eq!(lines[1], "no device told to sync", "{}", run.stdout);
    let run = ctl
        .run(&["declarations", "put", &passcode, "-o", "json"])
        .await
        .expect_code(0);
    let unchanged = run.json();
    assert_eq!(unchanged["changed"], false);
    assert_eq!(unchanged["sync"]["devices"], 0);
    let first_token = unchanged["declaration"]["server_token"].clone();

    // From stdin, the identifier from the flag.
    let run = ctl
        .run_with_stdin(
            &[
                "declarations",
                "put",
                "-",
                "--identifier",
                "activation",
                "-o",
                "json",
            ],
            Some(ACTIVATION),
        )
        .await
        .expect_code(0);
    let activation = run.json();
    assert_eq!(
        (
            &activation["changed"],
            &activation["declaration"]["identifier"],
            &activation["declaration"]["type"],
        ),
        (
            &json!(true),
            &json!("activation"),
            &json!("com.apple.activation.simple")
        )
    );

    // A payload Apple's schema refuses is a usage error naming the key; nothing is sent.
    let invalid = ctl.write_file("invalid.json", INVALID);
    let run = ctl
        .run(&["declarations", "put", &invalid.display().to_string()])
        .await
        .expect_code(2);
    assert!(
        run.stderr.starts_with("error: ") && run.stderr.contains("Payload.MinimumLength"),
        "{}",
        run.stderr
    );
    let run = ctl
        .run_with_stdin(&["declarations", "put", "-"], Some(ACTIVATION))
        .await
        .expect_code(2);
    assert!(
        run.stderr.contains("stdin has no Identifier") && run.stderr.contains("--identifier"),
        "{}",
        run.stderr
    );
    let run = ctl
        .run(&["declarations", "show", "passcode", "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(
        (&run.json()["payload"], &run.json()["server_token"]),
        (&json!({"MinimumLength": 6}), &first_token)
    );

    // A set holding both.
    let run = ctl
        .run(&[
            "declaration-sets",
            "put",
            "base",
            "--declaration",
            "passcode",
            "--declaration",
            "activation",
        ])
        .await
        .expect_code(0);
    assert_eq!(
        run.stdout,
        "declaration set base stored: declarations passcode, activation, assigned to no device\n\
         no device told to sync\n"
    );
    let run = ctl
        .run(&[
            "declaration-sets",
            "put",
            "base",
            "--declaration",
            "passcode",
            "--declaration",
            "activation",
            "-o",
            "json",
        ])
        .await
        .expect_code(0);
    assert_eq!(run.json()["changed"], false);

    let run = ctl.run(&["declarations", "list"]).await.expect_code(0);
    assert!(run.stdout.starts_with("IDENTIFIER"), "{}", run.stdout);
    assert_eq!(
        cells(run.row("activation"))[..3],
        ["activation", "com.apple.activation.simple", "base"]
    );
    assert_eq!(
        cells(run.row("passcode"))[..3],
        [
            "passcode",
            "com.apple.configuration.passcode.settings",
            "base"
        ]
    );
    // Pages of one are followed to the end.
    let run = ctl
        .run(&["declarations", "list", "--page-size", "1", "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(
        identifiers(&run.json(), "identifier"),
        ["activation", "passcode"]
    );
    let run = ctl
        .run(&["declarations", "show", "passcode"])
        .await
        .expect_code(0);
    assert!(run.stdout.starts_with("identifier "), "{}", run.stdout);
    assert_eq!(run.field("sets"), "base");
    assert_eq!(run.field("payload.MinimumLength"), "6");
    let run = ctl.run(&["declaration-sets", "list"]).await.expect_code(0);
    assert_eq!(
        cells(run.row("base"))[..3],
        ["base", "passcode,activation", "0"]
    );
    let run = ctl
        .run(&["declaration-sets", "show", "base", "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(
        run.json()["declarations"],
        json!(["passcode", "activation"])
    );

    // A declaration in a set cannot be deleted.
    let run = ctl
        .run(&["declarations", "delete", "passcode"])
        .await
        .expect_code(1);
    assert!(
        run.stderr.contains("HTTP 409") && run.stderr.contains("base"),
        "{}",
        run.stderr
    );

    // Assigned: an unknown device is refused by name, an enrolled one is told to sync.
    let run = ctl
        .run(&["declaration-sets", "assign", "base", "--device", OTHER_UDID])
        .await
        .expect_code(1);
    assert!(
        run.stderr.contains("the server refused") && run.stderr.contains(OTHER_UDID),
        "{}",
        run.stderr
    );
    let device = Device::enroll(&stack, CAPTURE_UDID).await;
    let run = ctl
        .run(&[
            "declaration-sets",
            "assign",
            "base",
            "--device",
            CAPTURE_UDID,
        ])
        .await
        .expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "declaration set base changed: declarations passcode, activation, assigned to 1 device",
        "{}",
        run.stdout
    );
    assert!(
        lines[1].starts_with("1 device told to sync (DeclarativeManagement command "),
        "{}",
        run.stdout
    );
    // The simulated device runs iOS 11.3.1: told all the same, with a warning.
    assert!(
        run.stderr.starts_with(&format!(
            "warning: told to sync anyway: {CAPTURE_UDID}: DeclarativeManagement needs iOS 15"
        )),
        "{}",
        run.stderr
    );
    let received = device.next_command(SYNC_WAIT).await;
    assert_eq!(received.request_type, "DeclarativeManagement");
    device.answer(&received, "Acknowledged").await;

    let run = ctl
        .run(&["declaration-sets", "devices", "base"])
        .await
        .expect_code(0);
    assert_eq!(run.stdout, format!("DEVICE\n{CAPTURE_UDID}\n"));
    let run = ctl
        .run(&["declaration-sets", "devices", "base", "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(run.json(), json!([CAPTURE_UDID]));

    // Served, not reported yet: pending.
    let run = ctl
        .run(&["declarations", "status", "passcode"])
        .await
        .expect_code(0);
    assert!(run.stdout.starts_with("DEVICE"), "{}", run.stdout);
    assert_eq!(
        cells(run.row(CAPTURE_UDID)),
        [CAPTURE_UDID, "no", "-", "-", "-", "-"]
    );
    let run = ctl
        .run(&[
            "declarations",
            "status",
            "passcode",
            "--state",
            "pending",
            "-o",
            "json",
        ])
        .await
        .expect_code(0);
    assert_eq!(identifiers(&run.json(), "device"), [CAPTURE_UDID]);
    let run = ctl
        .run(&["declarations", "status", "passcode", "--state", "applied"])
        .await
        .expect_code(0);
    assert!(run.stderr.contains("no devices match"), "{}", run.stderr);
    let run = ctl
        .run(&["devices", "declarations", CAPTURE_UDID, "--page-size", "1"])
        .await
        .expect_code(0);
    assert!(run.stdout.starts_with("IDENTIFIER"), "{}", run.stdout);
    for (identifier, declaration_type) in [
        ("activation", "com.apple.activation.simple"),
        ("passcode", "com.apple.configuration.passcode.settings"),
    ] {
        assert_eq!(
            cells(run.row(identifier)),
            [identifier, declaration_type, "no", "-", "-", "-", "-"]
        );
    }
    let run = ctl
        .run(&["devices", "status-items", CAPTURE_UDID])
        .await
        .expect_code(0);
    assert!(
        run.stderr.contains("has reported no status items"),
        "{}",
        run.stderr
    );
    let run = ctl
        .run(&["devices", "status-items", CAPTURE_UDID, "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(run.json(), json!({"items": [], "full_report_at": null}));

    // New content: a new token, and the set's device told to sync.
    let run = ctl
        .run_with_stdin(
            &["declarations", "put", "-"],
            Some(&PASSCODE.replace("6", "8")),
        )
        .await
        .expect_code(0);
    assert!(
        run.stdout.contains("stored: ServerToken ")
            && run.stdout.contains(", in set base\n1 device told to sync"),
        "{}",
        run.stdout
    );
    let run = ctl
        .run(&["declaration-sets", "sync", "base", "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(run.json()["devices"], 1);

    let run = ctl
        .run(&[
            "declaration-sets",
            "unassign",
            "base",
            "--device",
            CAPTURE_UDID,
        ])
        .await
        .expect_code(0);
    assert!(
        run.stdout
            .contains("assigned to no device\n1 device told to sync"),
        "{}",
        run.stdout
    );
    let run = ctl
        .run(&["declaration-sets", "devices", "base"])
        .await
        .expect_code(0);
    assert!(
        run.stderr.contains("assigned to no device"),
        "{}",
        run.stderr
    );

    // The set, then its declarations.
    let run = ctl
        .run(&["declaration-sets", "delete", "base"])
        .await
        .expect_code(0);
    assert_eq!(
        run.stdout,
        "deleted declaration set base\nno device told to sync\n"
    );
    let run = ctl
        .run(&["declarations", "delete", "passcode"])
        .await
        .expect_code(0);
    assert_eq!(run.stdout, "deleted declaration passcode\n");
    let run = ctl
        .run(&["declarations", "delete", "activation", "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(run.stdout, "", "204 has no document to print");

    // An asset whose data the server keeps: stored from a file, shown with the data's size and
    // digest, never the data.
    let data = ctl.write_file("mail.json", r#"{"UserName": "u", "Password": "hunter2"}"#);
    let run = ctl
        .run(&[
            "declarations",
            "asset",
            "mail",
            "--data",
            &data.display().to_string(),
            "-o",
            "json",
        ])
        .await
        .expect_code(0);
    let stored = run.json();
    assert_eq!(
        stored["declaration"]["type"],
        "com.apple.asset.credential.userpassword"
    );
    let reference = &stored["declaration"]["payload"]["Reference"];
    assert!(
        reference["DataURL"]
            .as_str()
            .is_some_and(|url| url.ends_with("/assets/mail")),
        "{stored}"
    );
    assert_eq!(reference["Size"], 40);
    let run = ctl
        .run(&["declarations", "show", "mail"])
        .await
        .expect_code(0);
    assert!(!run.stdout.contains("hunter2"), "{}", run.stdout);
    ctl.run(&["declarations", "delete", "mail"])
        .await
        .expect_code(0);
    let run = ctl
        .run(&["declarations", "list", "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(run.json(), json!([]));
    for args in [
        &["declarations", "show", "passcode"][..],
        &["declaration-sets", "show", "base"],
        &["declaration-sets", "delete", "base"],
    ] {
        let run = ctl.run(args).await.expect_code(1);
        assert!(
            run.stderr.contains("HTTP 404") && run.stderr.contains("hint: check the ID"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[tokio::test]
async fn mistakes_exit_2_before_anything_is_sent() {
    let mut ctl = Ctl::bare();
    // Nothing listens here: reaching the network would be exit code 1, not 2.
    ctl.set("MDM_URL", &format!("https://127.0.0.1:{}", free_port()));
    ctl.set("MDM_TOKEN", "t");
    let invalid = ctl.write_file("invalid.json", INVALID);
    let invalid = invalid.display().to_string();
    let run = ctl
        .run(&["declarations", "put", &invalid])
        .await
        .expect_code(2);
    assert_eq!(
        run.stderr,
        format!(
            "error: {invalid}: com.apple.configuration.passcode.settings: \
             Payload.MinimumLength must be an integer, not a string\n"
        )
    );
    for (args, stdin) in [
        (&["declarations", "put", "-"][..], Some(ACTIVATION)),
        (
            &["declarations", "put", "-", "--identifier", "a/b"],
            Some(ACTIVATION),
        ),
        (&["declarations", "put", "-"], Some("not json")),
        (
            &["declarations", "status", "passcode", "--state", "done"],
            None,
        ),
        (&["declaration-sets", "put", "base"], None),
        (&["declaration-sets", "assign", "base"], None),
        (
            &[
                "declaration-sets",
                "unassign",
                "base",
                "--device",
                "U",
                "--device",
                "U",
            ],
            None,
        ),
        (&["devices", "declarations", "U", "--state", "done"], None),
    ] {
        let run = ctl.run_with_stdin(args, stdin).await;
        assert_eq!(run.code, 2, "{args:?}:\n{}", run.stderr);
        assert!(
            run.stderr.starts_with("error:"),
            "{args:?}:\n{}",
            run.stderr
        );
    }
}

/// The cells of a table row (none of these holds a space).
fn cells(row: &str) -> Vec<&str> {
    row.split_whitespace().collect()
}

/// The `field` of each item of a JSON array.
fn identifiers(items: &Value, field: &str) -> Vec<String> {
    items
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|item| item[field].as_str().map(str::to_owned))
        .collect()
}
