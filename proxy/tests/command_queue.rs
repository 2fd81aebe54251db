//! The command queue end to end: proxy, enroll-svc and command-svc as processes with real TLS,
//! commands queued through admin-svc's API, a device fetching and answering them over mTLS with
//! results taken from real device captures, and the outcome read back through the admin API.
//! Each scenario runs once on SQLite and once on PostgreSQL.

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use testkit::messages as msg;
use testkit::stack::{scrape, ADMIN_TOKEN, READ_ONLY_TOKEN};
use testkit::{eventually, Engine, Issued, Stack, StackOptions};

/// The UDID in the real captures; our device uses it so the captures are sent unchanged.
const UDID: &str = "1c111c111c111c111c111c111c111c111c111c11";

/// A real device's report from the captures, answering `command_uuid`.
fn captured(file: &str, command_uuid: &str) -> Vec<u8> {
    let text = testkit::fixture_text(&format!("commandment/testdata/{file}"));
    let start = text
        .find("<key>CommandUUID</key>")
        .expect("has a CommandUUID");
    let open = start + text[start..].find("<string>").expect("value") + "<string>".len();
    let close = open + text[open..].find("</string>").expect("end");
    format!("{}{command_uuid}{}", &text[..open], &text[close..]).into_bytes()
}

fn report(status: &str, command_uuid: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>\
         <key>Status</key><string>{status}</string><key>UDID</key><string>{UDID}</string>\
         <key>CommandUUID</key><string>{command_uuid}</string></dict></plist>"
    )
    .into_bytes()
}

/// A device: its certificate and one HTTPS client (one keep-alive connection).
struct Device {
    cert: Issued,
    client: reqwest::Client,
}

impl Device {
    async fn enroll(stack: &Stack, udid: &str) -> Device {
        let cert = stack.device_ca.issue_client(udid);
        let device = Device {
            client: stack.device_client(Some(&cert)),
            cert,
        };
        for body in [
            msg::authenticate(udid),
            msg::token_update(udid, &[7; 32], "magic"),
        ] {
            let (status, _) = device.put(stack, "/checkin", body).await;
            assert_eq!(status, StatusCode::OK, "{}", stack.logs());
        }
        device
    }

    /// A new connection, as after a push.
    fn reconnect(&mut self, stack: &Stack) {
        self.client = stack.device_client(Some(&self.cert));
    }

    async fn put(&self, stack: &Stack, path: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        let response = self
            .client
            .put(format!("{}{path}", stack.device_url))
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()));
        let status = response.status();
        (status, response.bytes().await.expect("body").to_vec())
    }

    /// Sends a report to the ServerURL; returns the CommandUUID and RequestType answered, if any.
    async fn report(&self, stack: &Stack, body: Vec<u8>) -> Option<(String, String, Vec<u8>)> {
        let (status, body) = self.put(stack, "/mdm", body).await;
        assert_eq!(status, StatusCode::OK, "{}", stack.logs());
        if body.is_empty() {
            return None;
        }
        let plist = plist::Value::from_reader_xml(body.as_slice()).expect("command plist");
        let dict = plist.as_dictionary().expect("dict");
        let uuid = dict
            .get("CommandUUID")
            .and_then(|v| v.as_string())
            .expect("uuid")
            .to_string();
        let request_type = dict
            .get("Command")
            .and_then(|c| c.as_dictionary())
            .and_then(|c| c.get("RequestType"))
            .and_then(|v| v.as_string())
            .expect("RequestType")
            .to_string();
        Some((uuid, request_type, body))
    }

    async fn idle(&self, stack: &Stack) -> Option<(String, String, Vec<u8>)> {
        self.report(stack, msg::idle(UDID)).await
    }
}

async fn admin(
    stack: &Stack,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("{}{path}", stack.admin_url);
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let request = stack.admin_client().request(method, url).bearer_auth(token);
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
    let bytes = response.bytes().await.expect("body");
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

async fn enqueue(stack: &Stack, command: Value, extra: Value) -> String {
    let mut body = json!({"devices": [UDID], "command": command});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let response = stack
        .admin_client()
        .post(format!("{}/v1/commands", stack.admin_url))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()));
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    let answer: Value =
        serde_json::from_slice(&response.bytes().await.expect("body")).unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::CREATED, "{answer}\n{}", stack.logs());
    let uuid = answer["command_uuid"].as_str().expect("uuid").to_string();
    // The Location names the command.
    let location = location.expect("a Location");
    let (status, read) = admin(stack, "GET", &location, READ_ONLY_TOKEN, None).await;
    assert_eq!(
        (status, read["command_uuid"].as_str()),
        (StatusCode::OK, Some(uuid.as_str())),
        "{location}: {read}"
    );
    uuid
}

/// The command's one delivery (to [`UDID`]), from its deliveries page.
async fn delivery(stack: &Stack, uuid: &str) -> Value {
    let (status, page) = admin(
        stack,
        "GET",
        &format!("/v1/commands/{uuid}/deliveries"),
        READ_ONLY_TOKEN,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["next_cursor"], Value::Null, "one page: {page}");
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{page}");
    items[0].clone()
}

/// `GET /v1/commands/<uuid>`: the command with its delivery counts.
async fn command(stack: &Stack, uuid: &str) -> Value {
    let (status, command) = admin(
        stack,
        "GET",
        &format!("/v1/commands/{uuid}"),
        READ_ONLY_TOKEN,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{command}");
    command
}

/// A refusal is an RFC 9457 problem document with this status and code.
fn assert_problem(answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    let (got, problem) = answer;
    assert_eq!(*got, status, "{problem}");
    assert_eq!(problem["status"], status.as_u16(), "{problem}");
    assert_eq!(problem["code"], code, "{problem}");
    assert_eq!(
        problem["type"],
        format!("urn:mdm:problem:{code}"),
        "{problem}"
    );
    assert!(
        problem["title"].is_string() && problem["detail"].is_string(),
        "{problem}"
    );
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

on_both_engines!(
    the_command_cycle,
    priority_expiry_and_cancel,
    re_enrollment_supersedes_the_queue,
    only_managed_devices_use_the_command_channel,
    admin_guard_rails,
);

async fn start(options: StackOptions) -> Option<Stack> {
    let stack = Stack::start(options).await.expect("stack starts");
    if stack.is_none() {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
    }
    stack
}

async fn the_command_cycle(engine: Engine) {
    let Some(stack) = start(StackOptions::new(engine)).await else {
        return;
    };
    let mut device = Device::enroll(&stack, UDID).await;
    let info = enqueue(
        &stack,
        json!({"request_type": "DeviceInformation", "queries": ["DeviceName", "OSVersion"]}),
        json!({}),
    )
    .await;
    let profiles = enqueue(&stack, json!({"request_type": "ProfileList"}), json!({})).await;
    assert_eq!(delivery(&stack, &info).await["status"], "queued");

    // Idle gets the first command, with the queries asked for.
    let (uuid, request_type, body) = device.idle(&stack).await.expect("a command");
    assert_eq!(
        (uuid.as_str(), request_type.as_str()),
        (info.as_str(), "DeviceInformation")
    );
    assert!(String::from_utf8_lossy(&body).contains("<string>OSVersion</string>"));
    // Acknowledged with a real device's result gets the second.
    let (uuid, request_type, _) = device
        .report(&stack, captured("DeviceInformation/iOS-11.3.1.xml", &info))
        .await
        .expect("the next command");
    assert_eq!(
        (uuid.as_str(), request_type.as_str()),
        (profiles.as_str(), "ProfileList")
    );
    // A duplicate Acknowledged is harmless: the result stays, the queue is unchanged.
    let again = device
        .report(&stack, captured("DeviceInformation/iOS-11.3.1.xml", &info))
        .await;
    assert_eq!(again.map(|a| a.0).as_deref(), Some(profiles.as_str()));

    // NotNow: nothing more on this connection; the next Idle gets it again.
    assert_eq!(
        device.report(&stack, report("NotNow", &profiles)).await,
        None
    );
    assert_eq!(
        device.report(&stack, report("NotNow", &profiles)).await,
        None,
        "still skipped on this connection"
    );
    let busy = command(&stack, &profiles).await;
    assert_eq!(busy["status_counts"]["queued"], 1, "{busy}");
    assert_eq!(
        busy["status_counts"]["not_now"], 1,
        "queued, and the device said NotNow"
    );
    device.reconnect(&stack);
    let (uuid, _, _) = device.idle(&stack).await.expect("served again after Idle");
    assert_eq!(uuid, profiles);
    // An Error with an ErrorChain is stored as the result.
    assert_eq!(
        device
            .report(
                &stack,
                captured("Errors/iOS-11.3.1-RemoveProfile-Unmanaged.xml", &profiles)
            )
            .await,
        None
    );
    assert_eq!(device.idle(&stack).await, None, "the queue is empty");

    let info_delivery = delivery(&stack, &info).await;
    assert_eq!(info_delivery["status"], "acknowledged");
    assert_eq!(info_delivery["enrollment_id"], UDID);
    let answers = &info_delivery["result"]["QueryResponses"];
    assert!(
        answers["DeviceName"].is_string() && answers["OSVersion"] == "11.3.1",
        "{info_delivery}"
    );
    assert!(!info_delivery["sent_at"].is_null() && !info_delivery["completed_at"].is_null());
    let profile_delivery = delivery(&stack, &profiles).await;
    assert_eq!(profile_delivery["status"], "error");
    assert_eq!(profile_delivery["not_now_count"], 2);
    let chain = profile_delivery["result"]["ErrorChain"]
        .as_array()
        .expect("ErrorChain kept");
    assert!(
        !chain.is_empty() && chain[0]["ErrorCode"].is_number(),
        "{profile_delivery}"
    );

    // The device's history, newest first.
    let (status, history) = admin(
        &stack,
        "GET",
        &format!("/v1/devices/{UDID}/commands"),
        READ_ONLY_TOKEN,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history["next_cursor"], Value::Null, "{history}");
    let uuids: Vec<&str> = history["items"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|d| d["command_uuid"].as_str())
        .collect();
    assert_eq!(uuids, vec![profiles.as_str(), info.as_str()]);
    // The same, a page at a time: the cursor continues where the first page ended.
    let path = format!("/v1/devices/{UDID}/commands?limit=1");
    let (status, first) = admin(&stack, "GET", &path, READ_ONLY_TOKEN, None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(
        first["items"][0]["command_uuid"],
        profiles.as_str(),
        "{first}"
    );
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (status, second) = admin(
        &stack,
        "GET",
        &format!("{path}&cursor={cursor}"),
        READ_ONLY_TOKEN,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(
        second["items"][0]["command_uuid"],
        info.as_str(),
        "{second}"
    );
    // A cursor is for the list that made it: elsewhere, or made up, it is refused (422), never
    // a wrong page; `after` is not a parameter any more (400).
    for (path, status, code) in [
        (
            format!("/v1/devices?cursor={cursor}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            format!("/v1/devices/{UDID}/commands?cursor=bm90LWEtY3Vyc29y"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            format!("/v1/devices?after={UDID}"),
            StatusCode::BAD_REQUEST,
            "malformed_request",
        ),
        (
            "/v1/devices?limit=0".to_owned(),
            StatusCode::BAD_REQUEST,
            "malformed_request",
        ),
    ] {
        let refused = admin(&stack, "GET", &path, READ_ONLY_TOKEN, None).await;
        assert_problem(&refused, status, code);
    }
    let (status, listed) = admin(
        &stack,
        "GET",
        "/v1/devices?status=enrolled",
        READ_ONLY_TOKEN,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["items"][0]["enrollment_id"], UDID, "{listed}");
    // Authenticate said C39TEST0001; the DeviceInformation answer (from the capture) is folded
    // into the record since, so the device shows what it reported last. Inventory travels
    // through command-svc's outbox in batches: it arrives shortly after the answer.
    let one = eventually(
        Duration::from_secs(10),
        "the DeviceInformation answer in the device record",
        || async {
            let (status, one) = admin(
                &stack,
                "GET",
                &format!("/v1/devices/{UDID}"),
                READ_ONLY_TOKEN,
                None,
            )
            .await;
            (status == StatusCode::OK && one["serial_number"] == "C00000000004").then_some(one)
        },
    )
    .await
    .expect("inventory applied");
    assert_eq!(
        (one["os_version"].as_str(), one["device_name"].as_str()),
        (Some("11.3.1"), Some("iPad")),
        "{one}"
    );
    assert!(one["inventory"]["updated_at"].is_string(), "{one}");

    // The round trip moved the counters of every process it crossed.
    let metric =
        |addr, sample: &'static str| async move { scrape(addr, sample).await.expect("scrape") };
    let proxy = stack.health_addr;
    assert_eq!(
        metric(
            proxy,
            r#"mdm_device_messages_total{kind="report",message_type="NotNow"}"#
        )
        .await,
        2.0
    );
    assert!(
        metric(
            proxy,
            r#"mdm_http_requests_total{listener="device",status="200"}"#
        )
        .await
            >= 9.0
    );
    let enroll = stack.enroll_metrics_addr;
    assert_eq!(
        metric(
            enroll,
            r#"mdm_checkins_total{message_type="TokenUpdate",outcome="ok"}"#
        )
        .await,
        1.0
    );
    let command = stack.command_metrics_addr;
    assert_eq!(
        metric(
            command,
            r#"mdm_command_reports_total{status="Acknowledged",outcome="ok"}"#
        )
        .await,
        2.0
    );
    assert_eq!(
        metric(
            command,
            r#"mdm_command_reports_total{status="Error",outcome="ok"}"#
        )
        .await,
        1.0
    );
    assert_eq!(
        metric(
            command,
            r#"mdm_commands_enqueued_total{request_type="ProfileList"}"#
        )
        .await,
        1.0
    );
    let ready = reqwest::get(format!("http://{proxy}/readyz"))
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::OK);
}

async fn priority_expiry_and_cancel(engine: Engine) {
    let mut options = StackOptions::new(engine);
    options.sweep_interval_secs = Some(1);
    let Some(stack) = start(options).await else {
        return;
    };
    let device = Device::enroll(&stack, UDID).await;
    let low = enqueue(
        &stack,
        json!({"request_type": "SecurityInfo"}),
        json!({"priority": 0}),
    )
    .await;
    let high = enqueue(
        &stack,
        json!({"request_type": "ProfileList"}),
        json!({"priority": 10}),
    )
    .await;
    let expiring = enqueue(
        &stack,
        json!({"request_type": "CertificateList"}),
        json!({"priority": 5, "expiry": {"ttl_seconds": 1}}),
    )
    .await;
    let cancelled = enqueue(
        &stack,
        json!({"request_type": "RestartDevice"}),
        json!({"priority": 20}),
    )
    .await;

    // Cancel answers the command, cancelled; it stays readable, marked so.
    let (status, answer) = admin(
        &stack,
        "POST",
        &format!("/v1/commands/{cancelled}/cancel"),
        ADMIN_TOKEN,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["command_uuid"], cancelled.as_str(), "{answer}");
    assert_eq!(answer["status_counts"]["cancelled"], 1, "{answer}");
    assert!(answer["cancelled_at"].is_string(), "{answer}");
    assert_eq!(answer["cancelled_by"], "ops", "{answer}");
    let read = command(&stack, &cancelled).await;
    assert_eq!(
        (&read["cancelled_at"], &read["cancelled_by"]),
        (&answer["cancelled_at"], &answer["cancelled_by"]),
        "{read}"
    );
    assert_eq!(delivery(&stack, &cancelled).await["status"], "cancelled");
    let (status, page) = admin(
        &stack,
        "GET",
        &format!("/v1/commands/{cancelled}/deliveries?status=cancelled"),
        READ_ONLY_TOKEN,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"][0]["enrollment_id"], UDID, "{page}");
    // Cancel is a POST: DELETE is not a method of the command.
    let (status, _) = admin(
        &stack,
        "DELETE",
        &format!("/v1/commands/{cancelled}"),
        ADMIN_TOKEN,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

    // The highest priority goes first; the device keeps it unanswered while the other expires.
    let (uuid, _, _) = device.idle(&stack).await.expect("a command");
    assert_eq!(uuid, high);
    eventually(
        Duration::from_secs(20),
        "the expiring command to expire",
        || async { (delivery(&stack, &expiring).await["status"] == "expired").then_some(()) },
    )
    .await
    .expect("expired by the sweep");
    let (uuid, _, _) = device
        .report(&stack, report("Acknowledged", &high))
        .await
        .expect("next");
    assert_eq!(
        uuid, low,
        "the expired and the cancelled commands are never served"
    );
    assert_eq!(
        device.report(&stack, report("Acknowledged", &low)).await,
        None
    );
    assert!(delivery(&stack, &expiring).await["sent_at"].is_null());
}

async fn re_enrollment_supersedes_the_queue(engine: Engine) {
    let Some(stack) = start(StackOptions::new(engine)).await else {
        return;
    };
    let device = Device::enroll(&stack, UDID).await;
    let stale = enqueue(&stack, json!({"request_type": "ProfileList"}), json!({})).await;
    for body in [
        msg::authenticate(UDID),
        msg::token_update(UDID, &[8; 32], "magic-2"),
    ] {
        assert_eq!(device.put(&stack, "/checkin", body).await.0, StatusCode::OK);
    }
    assert_eq!(device.idle(&stack).await, None);
    assert_eq!(delivery(&stack, &stale).await["status"], "superseded");
}

async fn only_managed_devices_use_the_command_channel(engine: Engine) {
    let Some(mut stack) = start(StackOptions::new(engine)).await else {
        return;
    };
    let stranger = stack.device_ca.issue_client(UDID);
    let client = stack.device_client(Some(&stranger));
    let response = client
        .put(format!("{}/mdm", stack.device_url))
        .body(msg::idle(UDID))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "an unknown device's Idle"
    );

    let device = Device::enroll(&stack, UDID).await;
    // A certificate of another device cannot fetch this device's commands.
    let other = stack.device_client(Some(&stack.device_ca.issue_client("ANOTHER-DEVICE")));
    let response = other
        .put(format!("{}/mdm", stack.device_url))
        .body(msg::idle(UDID))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(device.idle(&stack).await, None);

    // A backend fault is 503, never 401, on the command channel too.
    stack.stop_enroll();
    let fresh = stack.device_client(Some(&stack.device_ca.issue_client("FRESH-DEVICE")));
    let response = fresh
        .put(format!("{}/mdm", stack.device_url))
        .body(msg::idle("FRESH-DEVICE"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);

    assert_eq!(
        device.put(&stack, "/checkin", msg::check_out(UDID)).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

async fn admin_guard_rails(engine: Engine) {
    let Some(stack) = start(StackOptions::new(engine)).await else {
        return;
    };
    let device = Device::enroll(&stack, UDID).await;
    let body = json!({"devices": [UDID], "command": {"request_type": "ProfileList"}});
    let refused = admin(
        &stack,
        "POST",
        "/v1/commands",
        "wrong-token",
        Some(body.clone()),
    )
    .await;
    assert_problem(&refused, StatusCode::UNAUTHORIZED, "unauthorized");
    let response = stack
        .admin_client()
        .get(format!("{}/v1/devices", stack.admin_url))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "failures are RFC 9457 problem documents"
    );
    let refused = admin(&stack, "POST", "/v1/commands", READ_ONLY_TOKEN, Some(body)).await;
    assert_problem(&refused, StatusCode::FORBIDDEN, "forbidden");

    // A body that does not match the schema is a 400; one whose values cannot be used, a 422.
    for malformed in [
        json!({"devices": [], "command": {"request_type": "ProfileList"}}),
        json!({"devices": [UDID, UDID], "command": {"request_type": "ProfileList"}}),
        json!({"devices": [UDID], "command": {"request_type": "ProfileList"}, "ttl_seconds": 5}),
        json!({"devices": UDID, "command": {"request_type": "ProfileList"}}),
    ] {
        let refused = admin(&stack, "POST", "/v1/commands", ADMIN_TOKEN, Some(malformed)).await;
        assert_problem(&refused, StatusCode::BAD_REQUEST, "malformed_request");
    }
    let erase = json!({"devices": [UDID], "command": {"request_type": "EraseDevice"}});
    let refused = admin(&stack, "POST", "/v1/commands", ADMIN_TOKEN, Some(erase)).await;
    assert_problem(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    assert!(
        refused.1["detail"]
            .as_str()
            .is_some_and(|d| d.contains("reason")),
        "a destructive command needs a reason: {}",
        refused.1
    );
    let two = json!({"devices": [UDID, "ANOTHER-DEVICE"], "reason": "at the desk",
        "command": {"request_type": "ClearPasscode"}});
    let refused = admin(&stack, "POST", "/v1/commands", ADMIN_TOKEN, Some(two)).await;
    assert_problem(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    let past = json!({"devices": [UDID], "command": {"request_type": "ProfileList"},
        "expiry": {"expires_at": "2001-01-01T00:00:00Z"}});
    let refused = admin(&stack, "POST", "/v1/commands", ADMIN_TOKEN, Some(past)).await;
    assert_problem(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    let unknown =
        json!({"devices": ["NO-SUCH-DEVICE"], "command": {"request_type": "ProfileList"}});
    let refused = admin(&stack, "POST", "/v1/commands", ADMIN_TOKEN, Some(unknown)).await;
    assert_problem(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    assert!(
        refused.1["detail"]
            .as_str()
            .is_some_and(|d| d.contains("NO-SUCH-DEVICE")),
        "the refusal names the device: {}",
        refused.1
    );
    assert_eq!(
        device.idle(&stack).await,
        None,
        "nothing refused was queued"
    );

    // ClearPasscode: one device, a reason, and the stored UnlockToken added on the way out.
    let uuid = enqueue(
        &stack,
        json!({"request_type": "ClearPasscode"}),
        json!({"reason": "owner at the desk with ID"}),
    )
    .await;
    let (served, request_type, body) = device.idle(&stack).await.expect("a command");
    assert_eq!(
        (served.as_str(), request_type.as_str()),
        (uuid.as_str(), "ClearPasscode")
    );
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains("<key>UnlockToken</key>") && text.contains("dW5sb2NrLXRva2VuLWJsb2I="),
        "{text}"
    );
    let queued = command(&stack, &uuid).await;
    assert!(
        !queued.to_string().contains("dW5sb2NrLXRva2VuLWJsb2I="),
        "the UnlockToken is not kept with the command"
    );
    assert_eq!(queued["requested_by"], "ops");
    assert_eq!(queued["reason"], "owner at the desk with ID");
}
