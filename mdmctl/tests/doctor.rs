//! `mdmctl doctor` as a real process against real stacks (every service, the proxy, admin-svc
//! and the mock APNs on loopback with TLS made for the test): a healthy stack passes every
//! check, and each stack broken on purpose fails exactly the check that names its fault, with
//! the fix that repairs it. Needs `cargo build --workspace --bins` first.

// The runner of the cli tests; not every helper of it is used here.
#[allow(dead_code)]
#[path = "cli/ctl.rs"]
mod ctl;

use ctl::{Ctl, Run};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;
use testkit::pki::PUSH_TOPIC;
use testkit::{Engine, Stack, StackOptions};

/// Every check, in report order.
const CHECKS: [&str; 12] = [
    "admin-api",
    "services",
    "databases",
    "clock",
    "enrollment-listener",
    "tls-enrollment",
    "tls-device",
    "service-config",
    "scep",
    "push-certificate",
    "push-topic",
    "apns",
];

async fn start(options: StackOptions) -> Stack {
    Stack::start(options)
        .await
        .expect("the stack starts")
        .expect("SQLite always runs")
}

/// A stack on `engine`; `None` when PostgreSQL is switched off for this run.
async fn start_on(engine: Engine) -> Option<Stack> {
    Stack::start(StackOptions::new(engine))
        .await
        .expect("the stack starts")
}

/// `mdmctl doctor -o json` against `stack`: the run and its report.
async fn doctor(stack: &Stack) -> (Run, Value) {
    let run = Ctl::for_stack(stack).run(&["doctor", "-o", "json"]).await;
    let report = run.json();
    (run, report)
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check {name} in {report:#}"))
}

fn with_status(report: &Value, status: &str) -> BTreeSet<String> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == status)
        .filter_map(|c| c["name"].as_str().map(str::to_owned))
        .collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|n| (*n).to_owned()).collect()
}

/// Exit 1, exactly `failing` failed, and `name`'s summary and fix say what they must.
fn assert_fails(
    (run, report): &(Run, Value),
    failing: &[&str],
    name: &str,
    summary: &str,
    hint: &str,
) {
    assert_eq!(run.code, 1, "exit code\n{run:?}");
    assert_eq!(report["ok"], false);
    assert_eq!(with_status(report, "fail"), names(failing), "{report:#}");
    let failed = check(report, name);
    let text = |field: &str| failed[field].as_str().unwrap_or_default().to_owned();
    assert!(text("summary").contains(summary), "{name}: {failed:#}");
    assert!(text("hint").contains(hint), "{name}: {failed:#}");
}

/// Every check passes on either database: the services' migrations and clocks are read from
/// each engine's own tables.
#[tokio::test]
async fn a_healthy_stack_passes_every_check_on_sqlite() {
    a_healthy_stack_passes_every_check(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_healthy_stack_passes_every_check_on_postgres() {
    a_healthy_stack_passes_every_check(Engine::Postgres).await;
}

async fn a_healthy_stack_passes_every_check(engine: Engine) {
    let Some(stack) = start_on(engine).await else {
        return;
    };
    let (run, report) = doctor(&stack).await;
    assert_eq!(run.code, 0, "{run:?}\n{}", stack.logs());
    let listed: Vec<&str> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(listed, CHECKS);
    assert_eq!(with_status(&report, "pass"), names(&CHECKS), "{report:#}");
    assert!(check(&report, "tls-enrollment")["summary"]
        .as_str()
        .is_some_and(|s| s.contains("trusted through the trust profile")));
    assert!(check(&report, "push-topic")["summary"]
        .as_str()
        .is_some_and(|s| s.contains(PUSH_TOPIC)));

    // The same for people: a ✓ line per check, and the guide's next commands work.
    let ctl = Ctl::for_stack(&stack);
    let table = ctl.run(&["doctor"]).await.expect_code(0);
    for name in CHECKS {
        assert!(
            table
                .stdout
                .lines()
                .any(|l| l.starts_with(&format!("✓ {name} "))),
            "{name}:\n{}",
            table.stdout
        );
    }
    let certs = ctl.run(&["push-cert", "list"]).await.expect_code(0);
    assert!(certs.stdout.contains(PUSH_TOPIC), "{}", certs.stdout);
    let token = ctl
        .run(&[
            "enroll",
            "token",
            "create",
            "--single-use",
            "--expires-in",
            "7d",
        ])
        .await
        .expect_code(0);
    let url = token.field("enrollment_url");
    assert!(
        url.starts_with(&format!("{}/enroll?token=", stack.enrollment_url)),
        "{url}"
    );
}

#[tokio::test]
async fn a_certificate_for_another_host_fails_the_tls_checks() {
    let mut options = StackOptions::new(Engine::Sqlite);
    options.proxy_server_names = Some(vec!["mdm.other.example"]);
    let stack = start(options).await;
    let outcome = doctor(&stack).await;
    assert_fails(
        &outcome,
        &["tls-enrollment", "tls-device"],
        "tls-enrollment",
        "is for mdm.other.example, not 127.0.0.1",
        "issue the proxy's enrollment.cert_file for 127.0.0.1",
    );
    let device = check(&outcome.1, "tls-device");
    assert!(device["hint"]
        .as_str()
        .is_some_and(|h| h.contains("device.cert_file")));
    // The listener itself serves: only the certificate is wrong, and only it is reported.
    assert_eq!(check(&outcome.1, "service-config")["status"], "pass");
}

#[tokio::test]
async fn profiles_naming_another_topic_fail_push_topic() {
    let other = "com.apple.mgmt.External.00000000-0000-0000-0000-0000000000ff";
    let mut options = StackOptions::new(Engine::Sqlite);
    options.enrollment_topic = Some(other.into());
    let stack = start(options).await;
    assert_fails(
        &doctor(&stack).await,
        &["push-topic"],
        "push-topic",
        &format!(
            "enrollment profiles name topic {other}, but the certificates are for {PUSH_TOPIC}"
        ),
        "set enroll-svc's enrollment.topic (MDM_ENROLL_ENROLLMENT__TOPIC)",
    );
}

#[tokio::test]
async fn an_expired_push_certificate_fails_push_certificate() {
    let stack = start(StackOptions::new(Engine::Sqlite)).await;
    // A renewal that lapses a few seconds after it is installed (an expired one is refused).
    let lifetime = Duration::from_secs(3);
    let short = stack.apns.ca.issue_push_expiring(PUSH_TOPIC, lifetime);
    stack
        .upload_push_certificate(&short.identity_pem())
        .await
        .expect("upload");
    tokio::time::sleep(lifetime + Duration::from_secs(2)).await;
    let outcome = doctor(&stack).await;
    // APNs (the mock, as Apple's) refuses the expired certificate's connection: push-svc's
    // probe reports it too.
    assert_fails(
        &outcome,
        &["push-certificate", "apns"],
        "push-certificate",
        &format!("the certificate of {PUSH_TOPIC} expired at"),
        "renew it at Apple's Push Certificates Portal with the Apple Account that made it",
    );
    let apns = check(&outcome.1, "apns");
    assert!(
        apns["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with(&format!("{PUSH_TOPIC}: "))),
        "{apns:#}"
    );
}

#[tokio::test]
async fn a_stopped_enroll_svc_fails_services() {
    let mut stack = start(StackOptions::new(Engine::Sqlite)).await;
    stack.stop_enroll();
    let outcome = doctor(&stack).await;
    assert_fails(
        &outcome,
        &["services"],
        "services",
        "enroll-svc does not answer admin-svc",
        "start enroll-svc",
    );
    // What needs enroll-svc's settings is not run, and says why.
    for name in ["enrollment-listener", "scep", "push-topic"] {
        let skipped = check(&outcome.1, name);
        assert_eq!(skipped["status"], "skip", "{skipped:#}");
        assert_eq!(
            skipped["summary"],
            "enroll-svc did not answer (see `services`)"
        );
    }
}

#[tokio::test]
async fn no_enrollment_listener_fails_enrollment_listener() {
    let mut options = StackOptions::new(Engine::Sqlite);
    options.enrollment_listener = false;
    let stack = start(options).await;
    let outcome = doctor(&stack).await;
    assert_fails(
        &outcome,
        &["enrollment-listener"],
        "enrollment-listener",
        &format!("nothing answers at {}: ", stack.enrollment_url),
        "turn on the proxy's enrollment listener ([enrollment] listen, cert_file, key_file; MDM_PROXY_ENROLLMENT__LISTEN",
    );
    for name in ["tls-enrollment", "service-config", "scep"] {
        assert_eq!(check(&outcome.1, name)["status"], "skip");
    }
    assert_eq!(check(&outcome.1, "tls-device")["status"], "pass");
}
