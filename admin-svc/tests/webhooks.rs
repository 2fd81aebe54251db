//! Events to webhooks on a real stack: a receiver that is down for 30 s while devices enroll and
//! answer commands gets, once it is back, every event exactly once, in order per enrollment,
//! signed; an event committed just before command-svc is killed (SIGKILL) is delivered after it
//! restarts; MicroMDM-compatible bodies have the example bodies' fields; dead letters are listed
//! and replayed; only the `webhooks` scope manages webhooks.

mod support;

use admin_svc::events::signature;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use support::receiver::{Delivery, Receiver};
use support::Admin;
use testkit::{Engine, Stack, StackOptions, TestDevice};

const SECRET: &str = "test-webhook-secret-0123456789";

/// A stack whose dispatcher polls often and retries within two seconds at most.
async fn stack(engine: Engine) -> Option<Stack> {
    let options = StackOptions {
        admin_env: vec![
            ("MDM_ADMIN_EVENTS__POLL_MS", "100".into()),
            ("MDM_ADMIN_EVENTS__RETRY_MIN_MS", "200".into()),
            ("MDM_ADMIN_EVENTS__RETRY_MAX_MS", "2000".into()),
        ],
        ..StackOptions::new(engine)
    };
    Stack::start(options).await.expect("the stack starts")
}

async fn register(ops: &Admin, url: &str, format: &str, events: Value) -> Value {
    let body = json!({"url": url, "format": format, "events": events, "secret": SECRET});
    ops.post("/v1/webhooks", &body)
        .await
        .expect(StatusCode::CREATED)
}

async fn device_information(ops: &Admin, devices: &[&str]) -> String {
    let body = json!({"devices": devices, "command": {"request_type": "DeviceInformation"}});
    let queued = ops
        .post("/v1/commands", &body)
        .await
        .expect(StatusCode::CREATED);
    queued["command_uuid"].as_str().expect("uuid").to_owned()
}

/// Runs a session: every queued command acknowledged.
async fn answer_all(stack: &Stack, device: &TestDevice) {
    let mut next = device.idle(stack).await.expect("idle");
    while let Some(command) = next {
        next = device
            .acknowledge(stack, &command.command_uuid, "")
            .await
            .expect("report");
    }
}

/// Checks a delivery's signature and that its body is the event its header names.
fn verified(delivery: &Delivery) -> Value {
    assert!(
        signature::verify(SECRET.as_bytes(), &delivery.signature, &delivery.body),
        "a bad signature: {}",
        delivery.signature
    );
    let body = delivery.json();
    assert_eq!(body["id"], delivery.event_id.as_str(), "{body}");
    body
}

/// Where each type falls in a device's life here: events of one enrollment must come in this
/// order (each service's own events, and a command's after the enrollment's).
fn stage(kind: &str) -> usize {
    [
        "enrollment.authenticated",
        "enrollment.token_update",
        "command.queued",
        "command.delivered",
        "command.acknowledged",
    ]
    .iter()
    .position(|k| *k == kind)
    .unwrap_or(usize::MAX)
}

async fn a_receiver_down_for_30_seconds_gets_everything_after(engine: Engine) {
    let Some(stack) = stack(engine).await else {
        return;
    };
    let ops = Admin::ops(&stack);
    let mut receiver = Receiver::down();
    let went_down = Instant::now();
    let webhook = register(&ops, &receiver.url, "mdm", json!(["*"])).await;
    let id = webhook["webhook"]["id"].as_str().expect("id").to_owned();

    let udids: Vec<String> = (0..4).map(|n| format!("UDID-HOOKED-{n}")).collect();
    let mut devices = Vec::new();
    for udid in &udids {
        devices.push(TestDevice::enroll(&stack, udid).await.expect("enrolls"));
    }
    let targets: Vec<&str> = udids.iter().map(String::as_str).collect();
    device_information(&ops, &targets).await;
    for device in &devices {
        answer_all(&stack, device).await;
    }
    // Everything happened while the receiver was down; it stays down for 30 s in all.
    tokio::time::sleep(Duration::from_secs(30).saturating_sub(went_down.elapsed())).await;
    let waiting = ops
        .get(&format!("/v1/webhooks/{id}"))
        .await
        .expect(StatusCode::OK);
    assert!(waiting["pending"].as_i64() > Some(0), "{waiting}");
    assert!(
        waiting["consecutive_failures"].as_i64() > Some(0),
        "{waiting}"
    );
    assert!(waiting["last_error"].is_string(), "{waiting}");
    assert!(receiver.received().is_empty());
    receiver.up().await;

    // Every stored event of these devices, as the API lists them.
    let expected = |received: &[Delivery]| {
        let ids: HashSet<&str> = received.iter().map(|d| d.event_id.as_str()).collect();
        udids.iter().all(|udid| {
            let kinds: HashSet<String> = received
                .iter()
                .map(Delivery::json)
                .filter(|b| b["enrollment_id"] == udid.as_str())
                .filter_map(|b| b["type"].as_str().map(str::to_owned))
                .collect();
            (0..5).all(|stage_index| kinds.iter().any(|k| stage(k) == stage_index))
                && kinds.contains("push.delivered")
        }) && !ids.is_empty()
    };
    let received = receiver
        .until(Duration::from_secs(60), "every event", expected)
        .await;
    // Exactly once each: nothing was lost, and nothing was repeated (no attempt succeeded
    // without the dispatcher knowing).
    let mut seen = HashSet::new();
    for delivery in &received {
        assert!(
            seen.insert(delivery.event_id.clone()),
            "delivered twice: {}",
            delivery.event_id
        );
    }
    let stored: Vec<Value> = ops.all("/v1/events", 1000).await;
    for event in &stored {
        let device = event["enrollment_id"].as_str().unwrap_or_default();
        if udids.iter().any(|u| u == device) {
            assert!(
                seen.contains(event["id"].as_str().unwrap_or_default()),
                "never delivered: {event}"
            );
        }
    }
    // In order per enrollment, signed.
    let mut last_stage: HashMap<String, usize> = HashMap::new();
    for delivery in &received {
        let body = verified(delivery);
        let kind = body["type"].as_str().unwrap_or_default();
        let device = body["enrollment_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let stage = stage(kind);
        if stage == usize::MAX {
            continue;
        }
        let last = last_stage.entry(device.clone()).or_insert(0);
        assert!(stage >= *last, "{kind} after stage {last} for {device}");
        *last = stage;
        if kind == "command.acknowledged" {
            let raw = body["data"]["raw_payload"].as_str().expect("raw_payload");
            let raw = base64::engine::general_purpose::STANDARD
                .decode(raw)
                .expect("base64");
            assert!(String::from_utf8_lossy(&raw).contains("Acknowledged"));
            assert_eq!(body["data"]["request_type"], "DeviceInformation");
        }
    }
    let caught_up = testkit::eventually(Duration::from_secs(10), "nothing pending", || async {
        let webhook = ops.get(&format!("/v1/webhooks/{id}")).await.body;
        (webhook["pending"] == 0).then_some(webhook)
    })
    .await
    .expect("caught up");
    assert_eq!(caught_up["consecutive_failures"], 0, "{caught_up}");
    assert!(caught_up["last_success_at"].is_string());
}

#[tokio::test]
async fn a_receiver_down_for_30_seconds_gets_everything_after_on_sqlite() {
    a_receiver_down_for_30_seconds_gets_everything_after(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_receiver_down_for_30_seconds_gets_everything_after_on_postgres() {
    a_receiver_down_for_30_seconds_gets_everything_after(Engine::Postgres).await;
}

/// The dispatcher stopped, a device answers (command-svc commits the result and its event),
/// command-svc is killed: once both are back, the event is delivered.
#[tokio::test]
async fn an_event_committed_before_command_svc_is_killed_is_delivered_after_restart() {
    let Some(mut stack) = stack(Engine::Sqlite).await else {
        return;
    };
    let ops = Admin::ops(&stack);
    let receiver = Receiver::listening().await;
    register(&ops, &receiver.url, "mdm", json!(["command.*"])).await;
    let device = TestDevice::enroll(&stack, "UDID-KILLED")
        .await
        .expect("enrolls");
    let uuid = device_information(&ops, &["UDID-KILLED"]).await;
    let of_type = |kind: &'static str, uuid: String| {
        move |received: &[Delivery]| {
            received.iter().any(|d| {
                let body = d.json();
                body["type"] == kind && body["data"]["command_uuid"] == uuid.as_str()
            })
        }
    };
    receiver
        .until(
            Duration::from_secs(20),
            "command.queued",
            of_type("command.queued", uuid.clone()),
        )
        .await;

    stack.kill_admin();
    answer_all(&stack, &device).await;
    stack.kill_command();
    stack.restart_command().await.expect("command-svc restarts");
    stack.restart_admin().await.expect("admin-svc restarts");
    let received = receiver
        .until(
            Duration::from_secs(30),
            "command.acknowledged after the restarts",
            of_type("command.acknowledged", uuid.clone()),
        )
        .await;
    for delivery in &received {
        verified(delivery);
    }
    let acknowledged = received
        .iter()
        .map(Delivery::json)
        .find(|b| b["type"] == "command.acknowledged")
        .expect("acknowledged");
    assert_eq!(acknowledged["data"]["status"], "Acknowledged");
    assert_eq!(acknowledged["source"], "command-svc");
}

/// A webhook in MicroMDM's format gets an Authenticate and an acknowledged DeviceInformation
/// with the fields and types of NanoMDM's example bodies, and nothing it has no body for.
#[tokio::test]
async fn micromdm_bodies_have_the_example_bodies_fields() {
    let Some(stack) = stack(Engine::Sqlite).await else {
        return;
    };
    let ops = Admin::ops(&stack);
    let receiver = Receiver::listening().await;
    register(&ops, &receiver.url, "micromdm", json!(["*"])).await;
    let device = TestDevice::enroll(&stack, "UDID-MICROMDM")
        .await
        .expect("enrolls");
    device_information(&ops, &["UDID-MICROMDM"]).await;
    answer_all(&stack, &device).await;
    let received = receiver
        .until(Duration::from_secs(20), "Authenticate and Connect", |r| {
            let topics: Vec<Value> = r.iter().map(|d| d.json()["topic"].clone()).collect();
            topics.contains(&json!("mdm.Authenticate")) && topics.contains(&json!("mdm.Connect"))
        })
        .await;
    let example = |name: &str| -> Value {
        serde_json::from_str(&testkit::fixture_text(&format!(
            "nanomdm/service/webhook/testdata/{name}"
        )))
        .expect("JSON")
    };
    let bodies: Vec<Value> = received.iter().map(verified_any).collect();
    let authenticate = bodies
        .iter()
        .find(|b| b["topic"] == "mdm.Authenticate")
        .expect("Authenticate");
    testkit::json::same_shape(authenticate, &example("Authenticate.2.json"), "body")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(authenticate["checkin_event"]["udid"], "UDID-MICROMDM");
    let connect = bodies
        .iter()
        .find(|b| b["topic"] == "mdm.Connect")
        .expect("Connect");
    testkit::json::same_shape(connect, &example("DeviceInformation.1.json"), "body")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(connect["acknowledge_event"]["status"], "Acknowledged");
    let topics: HashSet<&str> = bodies.iter().filter_map(|b| b["topic"].as_str()).collect();
    assert!(
        topics
            .iter()
            .all(|t| ["mdm.Authenticate", "mdm.TokenUpdate", "mdm.Connect"].contains(t)),
        "{topics:?}"
    );
}

/// A MicroMDM body has no `id` of ours: the signature and the header are what is checked.
fn verified_any(delivery: &Delivery) -> Value {
    assert!(signature::verify(
        SECRET.as_bytes(),
        &delivery.signature,
        &delivery.body
    ));
    let body = delivery.json();
    assert_eq!(body["event_id"], delivery.event_id.as_str());
    body
}

/// Deliveries a receiver refuses die after the configured attempts, are listed as dead, and
/// are delivered when replayed; pausing a webhook holds its deliveries back.
#[tokio::test]
async fn dead_letters_are_listed_and_replayed() {
    let options = StackOptions {
        admin_env: vec![
            ("MDM_ADMIN_EVENTS__POLL_MS", "100".into()),
            ("MDM_ADMIN_EVENTS__RETRY_MIN_MS", "100".into()),
            ("MDM_ADMIN_EVENTS__RETRY_MAX_MS", "200".into()),
            ("MDM_ADMIN_EVENTS__MAX_ATTEMPTS", "2".into()),
        ],
        ..StackOptions::new(Engine::Sqlite)
    };
    let Some(stack) = Stack::start(options).await.expect("the stack starts") else {
        return;
    };
    let ops = Admin::ops(&stack);
    let receiver = Receiver::listening().await;
    receiver.answer(500);
    let webhook = register(&ops, &receiver.url, "mdm", json!(["enrollment.*"])).await;
    let id = webhook["webhook"]["id"].as_str().expect("id").to_owned();
    TestDevice::enroll(&stack, "UDID-DEAD")
        .await
        .expect("enrolls");
    let dead = testkit::eventually(Duration::from_secs(30), "two dead deliveries", || async {
        let page = ops
            .get(&format!("/v1/webhooks/{id}/deliveries?status=dead"))
            .await
            .body;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        (items.len() == 2).then_some(items)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()));
    for delivery in &dead {
        assert_eq!(delivery["attempts"], 2, "{delivery}");
        assert_eq!(delivery["response_status"], 500, "{delivery}");
        assert_eq!(delivery["device"], "UDID-DEAD");
    }
    let shown = ops
        .get(&format!("/v1/webhooks/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(shown["dead"], 2, "{shown}");

    receiver.answer(200);
    let replayed = ops
        .post(&format!("/v1/webhooks/{id}/replay"), &json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(replayed["replayed"], 2);
    let received = receiver
        .until(Duration::from_secs(20), "the replayed deliveries", |r| {
            r.len() == 2
        })
        .await;
    let kinds: Vec<Value> = received
        .iter()
        .map(|d| verified(d)["type"].clone())
        .collect();
    assert_eq!(
        kinds,
        [
            json!("enrollment.authenticated"),
            json!("enrollment.token_update")
        ],
        "in order"
    );

    // Paused: nothing is sent; resumed: it is.
    ops.send(
        Method::PATCH,
        &format!("/v1/webhooks/{id}"),
        &json!({"enabled": false}),
    )
    .await
    .expect(StatusCode::OK);
    TestDevice::enroll(&stack, "UDID-PAUSED")
        .await
        .expect("enrolls");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        receiver.received().len(),
        2,
        "a paused webhook got a delivery"
    );
    ops.send(
        Method::PATCH,
        &format!("/v1/webhooks/{id}"),
        &json!({"enabled": true}),
    )
    .await
    .expect(StatusCode::OK);
    receiver
        .until(Duration::from_secs(20), "the held deliveries", |r| {
            r.len() == 4
        })
        .await;
    // Deleted: gone, with its deliveries.
    ops.raw(
        Method::DELETE,
        &format!("/v1/webhooks/{id}"),
        None,
        Vec::new(),
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    assert_eq!(
        ops.get(&format!("/v1/webhooks/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Registering, reading and replaying webhooks takes the `webhooks` scope; a secret is shown
/// once; bad URLs and patterns are refused; events are readable with `read`.
#[tokio::test]
async fn webhooks_take_their_own_scope_and_check_what_they_are_given() {
    let Some(stack) = stack(Engine::Sqlite).await else {
        return;
    };
    let ops = Admin::ops(&stack);
    let auditor = Admin::auditor(&stack);
    let body = json!({"url": "https://hooks.example.com/mdm"});
    let refused = auditor.post("/v1/webhooks", &body).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        auditor.get("/v1/webhooks").await.status,
        StatusCode::FORBIDDEN
    );

    let made = ops
        .post("/v1/webhooks", &body)
        .await
        .expect(StatusCode::CREATED);
    let secret = made["secret"].as_str().expect("a secret made for it");
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    let id = made["webhook"]["id"].as_str().expect("id");
    assert_eq!(made["webhook"]["events"], json!(["*"]));
    assert_eq!(made["webhook"]["format"], "mdm");
    let shown = ops
        .get(&format!("/v1/webhooks/{id}"))
        .await
        .expect(StatusCode::OK);
    assert!(shown.get("secret").is_none(), "{shown}");
    assert!(
        !shown.to_string().contains(secret),
        "the secret is shown once"
    );
    let rotated = ops
        .raw(
            Method::POST,
            &format!("/v1/webhooks/{id}/secret"),
            None,
            Vec::new(),
        )
        .await
        .expect(StatusCode::OK);
    assert_ne!(rotated["secret"], made["secret"]);

    for bad in [
        json!({"url": "ftp://example.com/x"}),
        json!({"url": "https://user:pass@example.com/x"}),
        json!({"url": "https://example.com/x", "events": ["nope"]}),
        json!({"url": "https://example.com/x", "secret": "short"}),
        json!({"url": "https://example.com/x", "format": "xml"}),
    ] {
        let answer = ops.post("/v1/webhooks", &bad).await;
        assert!(
            matches!(answer.status.as_u16(), 400 | 422),
            "{bad}: {answer:?}"
        );
    }
    // The audit log names who registered it.
    let audit = ops.all("/v1/audit", 100).await;
    assert!(
        audit
            .iter()
            .any(|e| e.to_string().contains("webhook.created")),
        "{audit:?}"
    );
    TestDevice::enroll(&stack, "UDID-EVENTS")
        .await
        .expect("enrolls");
    let events = testkit::eventually(Duration::from_secs(20), "the device's events", || async {
        let page = auditor
            .get("/v1/events?device=UDID-EVENTS&type=enrollment.token_update")
            .await
            .body;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        (!items.is_empty()).then_some(items)
    })
    .await
    .expect("events");
    let token_update = &events[0];
    assert_eq!(token_update["data"]["first"], true, "{token_update}");
    assert_eq!(token_update["source"], "enroll-svc");
    let raw = token_update["data"]["raw_payload"].as_str().expect("raw");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .expect("base64");
    let raw = String::from_utf8_lossy(&raw);
    assert!(
        raw.contains("TokenUpdate") && !raw.contains("UnlockToken"),
        "{raw}"
    );
    let one = auditor
        .get(&format!(
            "/v1/events/{}",
            token_update["id"].as_str().expect("id")
        ))
        .await
        .expect(StatusCode::OK);
    assert_eq!(&one, token_update);
}
