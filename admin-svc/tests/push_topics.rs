//! Several push topics on a real stack: a certificate for a second topic is installed only when
//! the upload asks for a new topic; both are listed; each device is pushed with the certificate
//! of its own topic (the mock APNs checks `apns-topic` against the client certificate it was
//! sent with); a TokenUpdate on a topic without a certificate is refused.

mod support;

use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::Admin;
use testkit::messages::token_update_on;
use testkit::pki::PUSH_TOPIC;
use testkit::{Engine, TestDevice};

const OTHER_TOPIC: &str = "com.apple.mgmt.External.99999999-8888-7777-6666-555555555555";

async fn each_device_is_pushed_with_its_own_topics_certificate(engine: Engine) {
    let Some(stack) = support::start(engine).await else {
        return;
    };
    let ops = Admin::ops(&stack);
    let second = stack.apns.ca.issue_push(OTHER_TOPIC);
    let pem = base64::engine::general_purpose::STANDARD.encode(second.identity_pem());
    let refused = ops
        .send(Method::PUT, "/v1/push-certificate", &json!({"pem": pem}))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
    assert!(refused.body["detail"]
        .as_str()
        .unwrap_or_default()
        .contains(PUSH_TOPIC));
    let installed = ops
        .send(
            Method::PUT,
            "/v1/push-certificate",
            &json!({"pem": pem, "new_topic": true}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(installed["topic"], OTHER_TOPIC);
    let listed = ops
        .get("/v1/push-certificates")
        .await
        .expect(StatusCode::OK);
    let topics: Vec<&Value> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| &c["topic"])
        .collect();
    assert_eq!(
        topics,
        [PUSH_TOPIC, OTHER_TOPIC],
        "the first topic stays first"
    );
    let first = ops.get("/v1/push-certificate").await.expect(StatusCode::OK);
    assert_eq!(first["topic"], PUSH_TOPIC);

    let a = TestDevice::enroll(&stack, "UDID-TOPIC-A").await.expect("A");
    let b = TestDevice::enroll(&stack, "UDID-TOPIC-B").await.expect("B");
    let token_b = [0xB2u8; 32];
    let (status, _) = b
        .put(
            &stack,
            "/checkin",
            token_update_on("UDID-TOPIC-B", &token_b, "magic-b", OTHER_TOPIC),
        )
        .await
        .expect("TokenUpdate");
    assert_eq!(status, StatusCode::OK, "{}", stack.logs());
    // A topic no certificate has: the device could never be woken, so it is told at once.
    let (status, _) = a
        .put(
            &stack,
            "/checkin",
            token_update_on("UDID-TOPIC-A", &[7; 32], "magic", "com.apple.mgmt.none"),
        )
        .await
        .expect("TokenUpdate");
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let pushed = ops
        .post(
            "/v1/push",
            &json!({"devices": ["UDID-TOPIC-A", "UDID-TOPIC-B"]}),
        )
        .await
        .expect(StatusCode::OK);
    let outcomes: Vec<&Value> = pushed["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| &r["outcome"])
        .collect();
    assert_eq!(
        outcomes,
        ["delivered", "delivered"],
        "{pushed}\n{}",
        stack.logs()
    );
    let mock = stack.apns.mock();
    let to_a = mock.deliveries_to(&hex::encode([7u8; 32]));
    let to_b = mock.deliveries_to(&hex::encode(token_b));
    assert_eq!(to_a.last().map(|d| d.topic.as_str()), Some(PUSH_TOPIC));
    assert_eq!(to_b.last().map(|d| d.topic.as_str()), Some(OTHER_TOPIC));
    assert!(mock.refusals().is_empty(), "{:?}", mock.refusals());
}

#[tokio::test]
async fn each_device_is_pushed_with_its_own_topics_certificate_on_sqlite() {
    each_device_is_pushed_with_its_own_topics_certificate(Engine::Sqlite).await;
}

#[tokio::test]
async fn each_device_is_pushed_with_its_own_topics_certificate_on_postgres() {
    each_device_is_pushed_with_its_own_topics_certificate(Engine::Postgres).await;
}
