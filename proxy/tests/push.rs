//! Push end to end, as processes: proxy, enroll-svc, command-svc, push-svc and admin-svc, with
//! the mock APNs standing in for Apple. A TokenUpdate through the proxy registers the device's
//! push target; a command queued through the admin API reaches the mock as a push for that
//! device (exact token, topic and PushMagic) and wakes it; after a CheckOut it does not. Runs
//! once on SQLite and once on PostgreSQL.

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use testkit::messages as msg;
use testkit::pki::PUSH_TOPIC;
use testkit::stack::{ADMIN_TOKEN, READ_ONLY_TOKEN};
use testkit::{Engine, Stack, StackOptions};

const UDID: &str = "PUSH-DEVICE-0001";
const TOKEN: [u8; 32] = [0x5A; 32];
const MAGIC: &str = "6BF09BE5-1C3C-4A5E-9E8A-0C4D1F4A0B77";

async fn admin(
    stack: &Stack,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("{}{path}", stack.admin_url);
    let client = stack.admin_client();
    let request = match method {
        "POST" => client.post(url),
        "PUT" => client.put(url),
        _ => client.get(url),
    }
    .bearer_auth(token);
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(body.to_string()),
        None => request,
    };
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()));
    let status = response.status();
    let value =
        serde_json::from_slice(&response.bytes().await.expect("body")).unwrap_or(Value::Null);
    (status, value)
}

async fn checkin(stack: &Stack, device: &reqwest::Client, body: Vec<u8>) -> StatusCode {
    device
        .put(format!("{}/checkin", stack.device_url))
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()))
        .status()
}

async fn enqueue(stack: &Stack) -> Value {
    let body = json!({"devices": [UDID], "command": {"request_type": "DeviceInformation", "queries": ["OSVersion"]}});
    let (status, answer) = admin(stack, "POST", "/v1/commands", ADMIN_TOKEN, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}\n{}", stack.logs());
    answer
}

macro_rules! on_both_engines {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $scenario() { super::$scenario(testkit::Engine::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $scenario() { super::$scenario(testkit::Engine::Postgres).await })*
        }
    };
}

on_both_engines!(a_queued_command_pushes_the_device_until_it_checks_out);

async fn a_queued_command_pushes_the_device_until_it_checks_out(engine: Engine) {
    let Some(stack) = Stack::start(StackOptions::new(engine))
        .await
        .expect("stack starts")
    else {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
        return;
    };
    let token_hex = hex::encode(TOKEN);
    let cert = stack.device_ca.issue_client(UDID);
    let device = stack.device_client(Some(&cert));
    assert_eq!(
        checkin(&stack, &device, msg::authenticate(UDID)).await,
        StatusCode::OK
    );
    assert_eq!(
        checkin(&stack, &device, msg::token_update(UDID, &TOKEN, MAGIC)).await,
        StatusCode::OK,
        "{}",
        stack.logs()
    );

    // The TokenUpdate registered the target: the device API shows it.
    let (status, info) = admin(
        &stack,
        "GET",
        &format!("/v1/devices/{UDID}"),
        READ_ONLY_TOKEN,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["push"]["status"], "active", "{info}");
    assert_eq!(info["push"]["token"], token_hex.as_str());
    assert_eq!(info["push"]["topic"], PUSH_TOPIC);

    // A command queued through the admin API reaches the mock APNs as this device's push.
    let answer = enqueue(&stack).await;
    assert_eq!(answer["push"]["delivered"], 1, "{answer}\n{}", stack.logs());
    let delivery = stack
        .apns
        .mock()
        .wait_for_push(&token_hex, Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("no push reached the mock APNs\n{}", stack.logs()));
    assert_eq!(delivery.path, format!("/3/device/{token_hex}"));
    assert_eq!(delivery.topic, PUSH_TOPIC);
    assert_eq!(
        delivery.body,
        format!("{{\"mdm\":\"{MAGIC}\"}}").into_bytes()
    );
    // Woken, the device fetches the command.
    let response = device
        .put(format!("{}/mdm", stack.device_url))
        .body(msg::idle(UDID))
        .send()
        .await
        .expect("idle");
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.bytes().await.expect("body");
    assert!(
        String::from_utf8_lossy(&body).contains("DeviceInformation"),
        "the woken device gets its command"
    );
    let (_, info) = admin(
        &stack,
        "GET",
        &format!("/v1/devices/{UDID}"),
        READ_ONLY_TOKEN,
        None,
    )
    .await;
    assert_eq!(info["push"]["last_outcome"], "delivered", "{info}");

    // `push: false` queues without waking.
    let body =
        json!({"devices": [UDID], "push": false, "command": {"request_type": "ProfileList"}});
    let (status, answer) = admin(&stack, "POST", "/v1/commands", ADMIN_TOKEN, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(answer["push"]["attempted"], false, "{answer}");

    // After a CheckOut the target is gone: a new command is not pushed.
    assert_eq!(
        checkin(&stack, &device, msg::check_out(UDID)).await,
        StatusCode::OK,
        "{}",
        stack.logs()
    );
    let pushes = stack.apns.mock().deliveries_to(&token_hex).len();
    // Queueing for a checked-out device is refused unless asked for (allow_unknown): the body
    // is well formed, its device unusable, so 422.
    let body = json!({"devices": [UDID], "command": {"request_type": "ProfileList"}});
    let (status, answer) = admin(&stack, "POST", "/v1/commands", ADMIN_TOKEN, Some(body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "invalid_request", "{answer}");
    assert!(
        answer["detail"].as_str().is_some_and(|m| m.contains(UDID)),
        "the refusal names the device: {answer}"
    );
    let body = json!({"devices": [UDID], "allow_unknown": true,
        "command": {"request_type": "DeviceInformation", "queries": ["OSVersion"]}});
    let (status, answer) = admin(&stack, "POST", "/v1/commands", ADMIN_TOKEN, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["push"]["delivered"], 0, "{answer}");
    assert_eq!(answer["push"]["outcomes"]["no_target"], 1, "{answer}");
    assert_eq!(
        stack.apns.mock().deliveries_to(&token_hex).len(),
        pushes,
        "no push after CheckOut"
    );

    // The admin API's own push and certificate endpoints.
    let (status, cert) = admin(&stack, "GET", "/v1/push-certificate", READ_ONLY_TOKEN, None).await;
    assert_eq!(status, StatusCode::OK, "{cert}");
    assert_eq!(cert["topic"], PUSH_TOPIC);
    assert_eq!(
        cert["uploaded_by"], "ops",
        "installed by the stack at start: {cert}"
    );
    assert!(
        cert["days_left"].as_i64().is_some_and(|d| d > 300),
        "{cert}"
    );
    let (status, pushed) = admin(
        &stack,
        "POST",
        "/v1/push",
        ADMIN_TOKEN,
        Some(json!({"devices": [UDID]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{pushed}");
    assert_eq!(pushed["results"][0]["outcome"], "no_target");
    let (status, _) = admin(
        &stack,
        "POST",
        "/v1/push",
        READ_ONLY_TOKEN,
        Some(json!({"devices": [UDID]})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// A TokenUpdate while push-svc is down answers 503 and records nothing, so the device's retry
/// is a clean first attempt.
#[tokio::test]
async fn a_push_svc_fault_answers_503_and_applies_nothing() {
    let mut stack = Stack::start(StackOptions::new(Engine::Sqlite))
        .await
        .expect("stack")
        .expect("sqlite");
    let cert = stack.device_ca.issue_client(UDID);
    let device = stack.device_client(Some(&cert));
    assert_eq!(
        checkin(&stack, &device, msg::authenticate(UDID)).await,
        StatusCode::OK
    );
    stack.push.kill();
    let status = checkin(&stack, &device, msg::token_update(UDID, &TOKEN, MAGIC)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{}", stack.logs());
    // push-svc is down, so the device API cannot show push state: a 503 to retry, not a 500;
    // enroll-svc's row is checked through the enrollment listing instead.
    let (status, info) = admin(
        &stack,
        "GET",
        &format!("/v1/devices/{UDID}"),
        READ_ONLY_TOKEN,
        None,
    )
    .await;
    assert_eq!(
        (status, info["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable")),
        "{info}"
    );
    let (status, list) = admin(&stack, "GET", "/v1/devices", READ_ONLY_TOKEN, None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    let row = &list["items"][0];
    assert_eq!(
        row["status"], "authenticated",
        "TokenUpdate not recorded: {row} / {info}"
    );
    assert_eq!(row["push_token"], Value::Null);
}
