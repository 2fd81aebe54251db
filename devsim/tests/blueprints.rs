//! Blueprints on a real stack: a simulated device enrolled (direct profile, SCEP) with an
//! enrollment token that carries a blueprint gets the blueprint's commands in order at its first
//! TokenUpdate, and, waiting in Setup Assistant, DeviceConfigured once it has answered them all;
//! a device enrolled with another token gets none of it.
//!
//! Run: `cargo build --workspace --bins && cargo test -p devsim --test blueprints`.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::admin::{admin, enrolled, token};
use testkit::{Engine, Stack, StackOptions};

/// The blueprint's run for `udid`, once `ready` holds for it.
async fn run(stack: &Stack, blueprint: &str, udid: &str, ready: impl Fn(&Value) -> bool) -> Value {
    testkit::eventually(Duration::from_secs(20), "the blueprint run", || async {
        let runs = admin(
            stack,
            reqwest::Method::GET,
            &format!("/v1/blueprints/{blueprint}/runs?device={udid}"),
            None,
        )
        .await;
        runs["items"]
            .as_array()
            .and_then(|items| items.first().cloned())
            .filter(|run| ready(run))
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()))
}

async fn a_device_gets_its_blueprint_then_device_configured(engine: Engine) {
    let options = StackOptions {
        admin_env: vec![("MDM_ADMIN_EVENTS__POLL_MS", "100".into())],
        ..StackOptions::new(engine)
    };
    let Some(stack) = Stack::start(options).await.expect("the stack starts") else {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
        return;
    };
    let (with_blueprint, with_secret) = token(&stack, "setup: blueprint").await;
    let (_, other_secret) = token(&stack, "no blueprint").await;
    let blueprint = admin(
        &stack,
        reqwest::Method::POST,
        "/v1/blueprints",
        Some(json!({
            "name": "new iPhones",
            "commands": [
                {"request_type": "DeviceInformation", "queries": ["SerialNumber", "OSVersion"]},
                {"RequestType": "ProfileList"},
                {"request_type": "SecurityInfo"},
            ],
            "enrollment_tokens": [with_blueprint],
        })),
    )
    .await;
    let id = blueprint["id"].as_str().expect("id").to_owned();

    let mut device = enrolled(&stack, &with_secret, "SIM-BLUEPRINT-1", true).await;
    run(&stack, &id, "SIM-BLUEPRINT-1", |run| run["queued"] == 3).await;
    let handled = device
        .session()
        .await
        .unwrap_or_else(|e| panic!("session: {e}\n{}", stack.logs()));
    let order: Vec<&str> = handled.iter().map(|h| h.request_type.as_str()).collect();
    assert_eq!(
        order,
        ["DeviceInformation", "ProfileList", "SecurityInfo"],
        "{handled:?}"
    );
    assert!(
        handled.iter().all(|h| h.status == "Acknowledged"),
        "{handled:?}"
    );
    assert!(device.is_awaiting_configuration());

    // Every answer in: DeviceConfigured follows, and releases the device.
    run(&stack, &id, "SIM-BLUEPRINT-1", |run| {
        run["status"] == "done"
    })
    .await;
    device.reconnect().expect("new connection");
    let handled = device.session().await.expect("session");
    let order: Vec<&str> = handled.iter().map(|h| h.request_type.as_str()).collect();
    assert_eq!(order, ["DeviceConfigured"], "{handled:?}");
    assert!(!device.is_awaiting_configuration());
    let done = run(&stack, &id, "SIM-BLUEPRINT-1", |_| true).await;
    assert_eq!(
        (done["answered"].as_i64(), done["total"].as_i64()),
        (Some(3), Some(3)),
        "{done}"
    );
    assert_eq!(done["awaiting_configuration"], true);

    // The blueprint's commands name it as their author.
    let commands = admin(
        &stack,
        reqwest::Method::GET,
        "/v1/commands?requested_by=blueprint:new%20iPhones",
        None,
    )
    .await;
    assert_eq!(
        commands["items"].as_array().map(Vec::len),
        Some(4),
        "{commands}"
    );

    // Another token: no run, no commands.
    let mut other = enrolled(&stack, &other_secret, "SIM-BLUEPRINT-2", false).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(other.session().await.expect("session").is_empty());
    let runs = admin(
        &stack,
        reqwest::Method::GET,
        &format!("/v1/blueprints/{id}/runs"),
        None,
    )
    .await;
    assert_eq!(runs["items"].as_array().map(Vec::len), Some(1), "{runs}");
}

#[tokio::test]
async fn a_device_gets_its_blueprint_then_device_configured_on_sqlite() {
    a_device_gets_its_blueprint_then_device_configured(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_device_gets_its_blueprint_then_device_configured_on_postgres() {
    a_device_gets_its_blueprint_then_device_configured(Engine::Postgres).await;
}
