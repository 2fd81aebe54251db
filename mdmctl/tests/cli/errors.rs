//! Exit codes and messages: failures are 1 with a hint, usage errors 2 before anything is
//! sent; and the completion script.

use super::ctl::Ctl;
use crate::start;
use testkit::stack::{ADMIN_TOKEN, READ_ONLY_TOKEN};
use testkit::{free_port, Engine};

#[tokio::test]
async fn failures_exit_1_and_say_what_to_do() {
    let Some(stack) = start(Engine::Sqlite).await else {
        return;
    };
    let mut ctl = Ctl::for_stack(&stack);

    ctl.set("MDM_TOKEN", "not-a-token");
    let run = ctl.run(&["devices", "list"]).await.expect_code(1);
    assert!(run.stderr.contains("HTTP 401"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("hint: check the token (MDM_TOKEN / mdmctl config set token)"),
        "{}",
        run.stderr
    );

    ctl.set("MDM_TOKEN", READ_ONLY_TOKEN);
    let run = ctl
        .run(&["commands", "send", "ProfileList", "--device", "UDID-1"])
        .await
        .expect_code(1);
    assert!(
        run.stderr.contains("HTTP 403") && run.stderr.contains("scope"),
        "{}",
        run.stderr
    );

    ctl.set("MDM_TOKEN", ADMIN_TOKEN);
    let run = ctl
        .run(&["commands", "show", "no-such-command"])
        .await
        .expect_code(1);
    assert!(run.stderr.contains("HTTP 404"), "{}", run.stderr);

    // A device the server does not know fails the send, named; nothing is queued.
    let run = ctl
        .run(&[
            "commands",
            "send",
            "ProfileList",
            "--device",
            "does-not-exist",
        ])
        .await
        .expect_code(1);
    assert!(
        run.stderr.contains("does-not-exist") && !run.stdout.contains("queued"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    // Unless the command is meant for when it enrolls.
    let run = ctl
        .run(&[
            "commands",
            "send",
            "ProfileList",
            "--device",
            "does-not-exist",
            "--allow-unknown",
        ])
        .await
        .expect_code(0);
    assert!(run.stdout.contains("queued ProfileList"), "{}", run.stdout);

    // The test CA is not a public root: without --ca-file the certificate is not trusted.
    ctl.unset("MDM_CA_FILE");
    let run = ctl.run(&["devices", "list"]).await.expect_code(1);
    assert!(
        run.stderr.contains("hint: pass --ca-file"),
        "{}",
        run.stderr
    );

    let nobody = format!("https://127.0.0.1:{}", free_port());
    let run = ctl
        .run(&["devices", "list", "--url", &nobody])
        .await
        .expect_code(1);
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "hint: is the server running at {nobody}? check MDM_URL"
        )),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn usage_errors_exit_2_before_anything_is_sent() {
    let mut ctl = Ctl::bare();
    // Nothing listens here: reaching the network would be exit code 1, not 2.
    ctl.set("MDM_URL", &format!("https://127.0.0.1:{}", free_port()));
    ctl.set("MDM_TOKEN", "t");
    for args in [
        &["commands", "send", "DeviceInformation"][..],
        &["devices", "list", "--last-seen-within", "soon"],
        &["devices", "list", "--status", "lost"],
        &[
            "commands",
            "send",
            "DeviceLock",
            "--device",
            "U",
            "--pin",
            "12",
            "--reason",
            "r",
        ],
        &[
            "commands",
            "send",
            "RestartDevice",
            "--device",
            "U",
            "--pin",
            "123456",
        ],
        &["commands", "send", "Settings", "--device", "U"],
        &[
            "commands",
            "send",
            "ProfileList",
            "--device",
            "U",
            "--timeout",
            "5s",
        ],
        &[
            "commands",
            "send",
            "ProfileList",
            "--device",
            "U",
            "--device",
            "U",
        ],
        &["frobnicate"],
    ] {
        let run = ctl.run(args).await;
        assert_eq!(run.code, 2, "{args:?}:\n{}", run.stderr);
        assert!(
            run.stderr.starts_with("error:"),
            "{args:?}:\n{}",
            run.stderr
        );
    }
    ctl.unset("MDM_URL");
    let run = ctl.run(&["devices", "list"]).await.expect_code(2);
    assert!(
        run.stderr.contains("hint: pass --url, set MDM_URL"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn completions_are_printed() {
    let run = Ctl::bare()
        .run(&["completions", "bash"])
        .await
        .expect_code(0);
    assert!(run.stdout.contains("_mdmctl()"), "{}", run.stdout);
    assert!(run.stdout.contains("complete -F _mdmctl"), "{}", run.stdout);
    assert!(run.stdout.contains("devices") && run.stdout.contains("--devices-file"));
    for word in [
        "webhooks",
        "rotate-secret",
        "events",
        "blueprints",
        "--commands-file",
    ] {
        assert!(run.stdout.contains(word), "{word} completed");
    }
}

/// The request types come from Apple's schema (the command catalogue), not from a list kept in
/// mdmctl: the help names every one, where it runs and its keys.
#[tokio::test]
async fn the_send_help_lists_every_request_type_of_apples_schema() {
    let run = Ctl::bare()
        .run(&["commands", "send", "--help"])
        .await
        .expect_code(0);
    let catalogue = mdm_core::catalogue::catalogue();
    assert_eq!(catalogue.commands.len(), 66);
    for request_type in catalogue.commands.keys() {
        assert!(
            run.stdout.contains(&format!("  {request_type}  (")),
            "{request_type} missing from:\n{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("--set <KEY=VALUE>"), "{}", run.stdout);
    assert!(
        run.stdout.contains("keys: Identifier*"),
        "required keys are marked:\n{}",
        run.stdout
    );
    // One request type in detail, offline; a misspelled one is a usage error with the fix.
    let run = Ctl::bare()
        .run(&["commands", "describe", "settings"])
        .await
        .expect_code(0);
    assert!(
        run.stdout.starts_with("Settings: runs on iOS 5.0"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Settings[Bluetooth].Enabled"),
        "{}",
        run.stdout
    );
    let run = Ctl::bare()
        .run(&["commands", "describe", "RestartDevise"])
        .await
        .expect_code(2);
    assert!(
        run.stderr.contains("did you mean RestartDevice?"),
        "{}",
        run.stderr
    );
}
