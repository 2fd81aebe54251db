//! Devices moved from another MDM server without re-enrolling (NanoMDM's `/migration`): a real
//! device's Authenticate and TokenUpdate, as the old server stored them, are imported with HTTP
//! Basic and the `migrate` scope; a command for the device reaches the mock APNs with the
//! migrated token and topic (the old server's push certificate, added as a second topic); the
//! device then connects with its certificate from the old server's CA (which the edge trusts),
//! which binds at first use, and completes a command cycle. A certificate from any other CA, and a
//! second certificate from the old CA, are refused; importing an enrolled device again is refused.

mod support;

use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;
use support::Admin;
use testkit::stack::{ADMIN_TOKEN, READ_ONLY_TOKEN};
use testkit::{Engine, Stack, StackOptions, TestCa, TestDevice};

/// The device of the fixtures (an iPhone on iOS 11.3.1) and its old server's push topic.
const UDID: &str = "1c111c111c111c111c111c111c111c111c111c11";
const OLD_TOPIC: &str = "com.apple.mgmt.XServer.1c111c11-1c11-1c11-1c11-1c111c111c11";
const TOKEN: [u8; 32] = [0x5A; 32];

/// `PUT /migration` with `message`, authenticated as NanoMDM's tools do.
async fn import(stack: &Stack, token: &str, message: Vec<u8>) -> (StatusCode, String) {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("nanomdm:{token}"));
    let response = stack
        .admin_client()
        .put(format!("{}/migration", stack.admin_url))
        .header("authorization", format!("Basic {basic}"))
        .body(message)
        .send()
        .await
        .expect("admin-svc answers");
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

/// The fixture TokenUpdate with a usable push token and UnlockToken in place of its
/// placeholders (the capture's were redacted into text that is not base64 of anything).
fn token_update() -> Vec<u8> {
    let base64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    testkit::fixture_text("commandment/testdata/TokenUpdate/iOS-11.3.1.xml")
        .replace("Base64=", &base64(&TOKEN))
        .replace("base64==", &base64(b"unlock-token"))
        .into_bytes()
}

/// Refused by the edge: in the TLS handshake, or with 403 (never 401, never served).
async fn refused(stack: &Stack, device: &TestDevice) {
    match device.idle(stack).await {
        Err(error) => assert!(!error.to_string().contains("401"), "{error}"),
        Ok(answer) => panic!("served with {answer:?}"),
    }
}

async fn a_device_moves_here_without_reenrolling(engine: Engine) {
    let old_ca = TestCa::new("The old MDM server's CA");
    let options = StackOptions {
        extra_client_ca_pem: Some(old_ca.cert_pem()),
        ..StackOptions::new(engine)
    };
    let Some(stack) = Stack::start(options).await.expect("the stack starts") else {
        return;
    };
    let ops = Admin::ops(&stack);
    // The old server's push certificate, as another topic.
    let old_push = stack.apns.ca.issue_push(OLD_TOPIC);
    let pem = base64::engine::general_purpose::STANDARD.encode(old_push.identity_pem());
    ops.send(
        Method::PUT,
        "/v1/push-certificate",
        &json!({"pem": pem, "new_topic": true}),
    )
    .await
    .expect(StatusCode::OK);

    let authenticate = testkit::fixture("commandment/testdata/Authenticate/IOS-11.3.1.xml");
    let (status, _) = import(&stack, READ_ONLY_TOKEN, authenticate.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the migrate scope is needed");
    let (status, _) = import(&stack, "not-a-token", authenticate.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = import(&stack, ADMIN_TOKEN, token_update()).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a TokenUpdate before its Authenticate: {body}"
    );
    for message in [authenticate.clone(), token_update()] {
        let (status, body) = import(&stack, ADMIN_TOKEN, message).await;
        assert_eq!(status, StatusCode::OK, "{body}\n{}", stack.logs());
    }
    let (status, _) = import(&stack, ADMIN_TOKEN, authenticate).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "an enrolled device is not replaced"
    );
    let device = ops
        .get(&format!("/v1/devices/{UDID}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(device["status"], "enrolled", "{device}");

    // A command wakes it through the old topic, with the token the old server had.
    let queued = ops
        .post(
            "/v1/commands",
            &json!({"devices": [UDID], "command": {"request_type": "DeviceInformation"}}),
        )
        .await
        .expect(StatusCode::CREATED);
    let push = stack
        .apns
        .mock()
        .wait_for_push(&hex::encode(TOKEN), Duration::from_secs(10))
        .await
        .expect("a push to the migrated token");
    assert_eq!(push.topic, OLD_TOPIC);

    // Another CA's certificate naming the device: refused.
    let stranger = TestCa::new("Someone else's CA").issue_client(UDID);
    refused(&stack, &TestDevice::with_identity(&stack, UDID, stranger)).await;
    // The old CA's: bound at first use, and the command cycle completes.
    let moved = TestDevice::with_identity(&stack, UDID, old_ca.issue_client(UDID));
    let command = moved
        .idle(&stack)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()))
        .expect("the queued command");
    assert_eq!(
        command.command_uuid,
        queued["command_uuid"].as_str().expect("uuid")
    );
    let next = moved
        .acknowledge(&stack, &command.command_uuid, "")
        .await
        .expect("acknowledged");
    assert!(next.is_none());
    // A second certificate from the old CA for the same device: refused.
    refused(
        &stack,
        &TestDevice::with_identity(&stack, UDID, old_ca.issue_client(UDID)),
    )
    .await;
    // The import and the binding are events (and in enroll-svc's audit log).
    testkit::eventually(
        Duration::from_secs(20),
        "the migration's events",
        || async {
            let events = ops.all(&format!("/v1/events?device={UDID}"), 100).await;
            let kinds: Vec<String> = events
                .iter()
                .filter_map(|e| e["type"].as_str().map(str::to_owned))
                .collect();
            (kinds.iter().filter(|k| *k == "enrollment.migrated").count() == 2
                && kinds.iter().any(|k| k == "enrollment.migration_bound"))
            .then_some(())
        },
    )
    .await
    .expect("events");
}

#[tokio::test]
async fn a_device_moves_here_without_reenrolling_on_sqlite() {
    a_device_moves_here_without_reenrolling(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_device_moves_here_without_reenrolling_on_postgres() {
    a_device_moves_here_without_reenrolling(Engine::Postgres).await;
}
