//! `mdmctl push`, `push-cert` and `enroll` as a real process against the real stack (SQLite):
//! the push certificate the stack installed, a push to a device enrolled over mTLS, the life of
//! an enrollment token, and the direct enrollment profile. Needs `cargo build --workspace
//! --bins` first.

#[allow(dead_code)]
#[path = "cli/ctl.rs"]
mod ctl;
#[allow(dead_code)]
#[path = "cli/device.rs"]
mod device;

use ctl::Ctl;
use device::{Device, CAPTURE_UDID};
use testkit::pki::PUSH_TOPIC;
use testkit::{Engine, Stack, StackOptions};

async fn sqlite_stack() -> Stack {
    Stack::start(StackOptions::new(Engine::Sqlite))
        .await
        .expect("the stack starts")
        .expect("SQLite always runs")
}

#[tokio::test]
async fn push_certificate_and_push_to_an_enrolled_device() {
    let stack = sqlite_stack().await;
    let ctl = Ctl::for_stack(&stack);

    let run = ctl.run(&["push-cert", "show"]).await.expect_code(0);
    assert!(run.stdout.contains(PUSH_TOPIC), "{}", run.stdout);
    assert!(run.stdout.contains("days_left"), "{}", run.stdout);
    let run = ctl
        .run(&["push-cert", "show", "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(run.json()["topic"], PUSH_TOPIC);

    // Uploading the same certificate again is a renewal with the same topic.
    let pem = ctl.write_file("push.pem", &stack.apns.push_pem());
    let run = ctl
        .run(&["push-cert", "upload", "--cert", &pem.display().to_string()])
        .await
        .expect_code(0);
    assert!(run.stdout.contains(PUSH_TOPIC), "{}", run.stdout);
    // Neither --cert nor --p12: a usage error before anything is sent.
    ctl.run(&["push-cert", "upload"]).await.expect_code(2);
    // A second topic: refused as a renewal, installed with --new-topic, then listed.
    let other = "com.apple.mgmt.External.99999999-8888-7777-6666-555555555555";
    let second = ctl.write_file("other.pem", &stack.apns.ca.issue_push(other).identity_pem());
    let second = second.display().to_string();
    let run = ctl
        .run(&["push-cert", "upload", "--cert", &second])
        .await
        .expect_code(1);
    assert!(run.stderr.contains(PUSH_TOPIC), "{}", run.stderr);
    ctl.run(&["push-cert", "upload", "--cert", &second, "--new-topic"])
        .await
        .expect_code(0);
    let run = ctl.run(&["push-cert", "list"]).await.expect_code(0);
    let rows: Vec<&str> = run.stdout.lines().skip(1).collect();
    assert!(
        rows.len() == 2 && rows[0].starts_with(PUSH_TOPIC) && rows[1].starts_with(other),
        "{}",
        run.stdout
    );
    let run = ctl
        .run(&["push-cert", "list", "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(run.json()[1]["topic"], other);

    let _device = Device::enroll(&stack, CAPTURE_UDID).await;
    let run = ctl.run(&["push", CAPTURE_UDID]).await.expect_code(0);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with(CAPTURE_UDID))
        .unwrap_or_else(|| panic!("a line for the device:\n{}", run.stdout));
    assert!(line.contains("delivered"), "{line}\n{}", stack.logs());

    // A device that never enrolled is reported and fails the run.
    let run = ctl
        .run(&["push", CAPTURE_UDID, "NOT-ENROLLED"])
        .await
        .expect_code(1);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("NOT-ENROLLED") && !l.contains("delivered")),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("1 of 2"), "{}", run.stderr);
}

#[tokio::test]
async fn enrollment_tokens_and_the_direct_profile() {
    let stack = sqlite_stack().await;
    let ctl = Ctl::for_stack(&stack);

    let run = ctl
        .run(&[
            "enroll",
            "token",
            "create",
            "--uses",
            "3",
            "--expires-in",
            "7d",
            "--user",
            "alice",
            "-o",
            "json",
        ])
        .await
        .expect_code(0);
    let created = run.json();
    let id = created["token"]["id"].as_str().expect("id").to_owned();
    let secret = created["secret"].as_str().expect("secret").to_owned();
    assert_eq!(created["token"]["max_uses"], 3);
    assert_eq!(created["token"]["user_name"], "alice");
    assert!(created["profile_url"]
        .as_str()
        .is_some_and(|u| u.contains(&secret)));

    let run = ctl.run(&["enroll", "token", "list"]).await.expect_code(0);
    let row = |stdout: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&id))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("token {id} is listed:\n{stdout}"))
    };
    let line = row(&run.stdout);
    assert!(line.contains("active") && line.contains("alice"), "{line}");

    // The profile, downloaded with the secret from the enrollment listener.
    let out = ctl.home().join("enroll.mobileconfig");
    let mut with_url = Ctl::for_stack(&stack);
    with_url.set("MDM_ENROLLMENT_URL", &stack.enrollment_url);
    let out_arg = out.display().to_string();
    // No enrollment URL: a usage error.
    ctl.run(&["enroll", "profile", "--token", &secret, "--out", &out_arg])
        .await
        .expect_code(2);
    with_url
        .run(&["enroll", "profile", "--token", &secret, "--out", &out_arg])
        .await
        .expect_code(0);
    let profile = std::fs::read(&out).expect("the profile was written");
    assert_eq!(profile.first(), Some(&0x30), "a DER signed profile");
    let needle = b"PayloadContent";
    assert!(
        profile.windows(needle.len()).any(|w| w == needle),
        "the signed content is the profile"
    );

    ctl.run(&["enroll", "token", "revoke", &id])
        .await
        .expect_code(0);
    let run = ctl.run(&["enroll", "token", "list"]).await.expect_code(0);
    assert!(!run.stdout.contains(&id), "{}", run.stdout);
    let run = ctl
        .run(&["enroll", "token", "list", "--all"])
        .await
        .expect_code(0);
    assert!(row(&run.stdout).contains("revoked"), "{}", run.stdout);
    // A revoked token no longer opens the profile.
    with_url
        .run(&["enroll", "profile", "--token", &secret, "--out", &out_arg])
        .await
        .expect_code(1);
}
