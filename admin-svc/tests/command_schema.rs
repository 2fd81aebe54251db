//! Commands are checked against Apple's schema before they are queued: a mistake in any of the
//! three forms is refused with the key's path; a request type without a typed form is queued with
//! Apple's keys; and a device that cannot run the command (by what it reported: platform, OS
//! version, supervision) is refused by name, or queued with a warning when asked.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{answer, device_when, start, Admin};
use testkit::{Engine, TestDevice};

/// `POST /v1/commands` for `devices`, without a push; answers status and body.
async fn queue(ops: &Admin, devices: &[&str], command: Value, extra: Value) -> (StatusCode, Value) {
    let mut body = json!({"devices": devices, "command": command, "push": false});
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    let answer = ops.post("/v1/commands", &body).await;
    (answer.status, answer.body)
}

fn detail(body: &Value) -> &str {
    body["detail"].as_str().unwrap_or_default()
}

async fn commands_are_checked_before_they_are_queued(engine: Engine) {
    let Some(stack) = start(engine).await else {
        return;
    };
    let ops = Admin::ops(&stack);
    // An iPhone on iOS 11.3.1 (testkit's Authenticate).
    let device = TestDevice::enroll(&stack, "UDID-SCHEMA")
        .await
        .expect("enrolls");
    let udid = device.udid.as_str();

    // A mistake in each form is refused with the key, and nothing is queued.
    let mistakes = [
        (
            json!({"RequestType": "DeviceLock", "Pin": "123456"}),
            "command: DeviceLock: unknown key Pin (allowed there: Message, PhoneNumber, PIN)",
        ),
        (
            json!({"RequestType": "RemoveApplication", "Identifier": 7}),
            "command: RemoveApplication: Identifier must be a string, not an integer",
        ),
        (
            json!({"plist": "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict>\
                <key>RequestType</key><string>InstallMedia</string></dict></plist>"}),
            "command: InstallMedia: MediaType is required",
        ),
        (
            json!({"RequestType": "RestartDevise"}),
            "command: unknown RequestType \"RestartDevise\": not in Apple's device-management schema (did you mean RestartDevice?)",
        ),
    ];
    for (command, expected) in mistakes {
        let (status, body) = queue(&ops, &[udid], command.clone(), json!({})).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{command}: {body}"
        );
        assert_eq!(detail(&body), expected, "{command}");
    }
    // A blueprint's commands are held to the same schema when it is made.
    let refused = ops
        .post(
            "/v1/blueprints",
            &json!({"name": "kiosk", "commands": [{"RequestType": "ProfileList", "Managed": true}]}),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{refused:?}"
    );
    assert!(
        detail(&refused.body)
            .contains("ProfileList: unknown key Managed (allowed there: ManagedOnly)"),
        "{refused:?}"
    );
    assert!(ops
        .all(&format!("/v1/devices/{udid}/commands"), 10)
        .await
        .is_empty());

    // A request type without a typed form goes with Apple's keys, as the device receives it.
    let (status, body) = queue(
        &ops,
        &[udid],
        json!({"RequestType": "RemoveApplication", "Identifier": "com.example.notes"}),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let uuid = body["command_uuid"].as_str().expect("uuid");
    let queued = ops
        .get(&format!("/v1/commands/{uuid}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        queued["command"],
        json!({"RequestType": "RemoveApplication", "Identifier": "com.example.notes"})
    );
    let received = device
        .idle(&stack)
        .await
        .expect("idle")
        .expect("the command");
    assert_eq!(received.request_type, "RemoveApplication");
    device
        .acknowledge(&stack, &received.command_uuid, "")
        .await
        .expect("report");

    // The device cannot run these: refused by name and reason, nothing queued.
    let unsupported = [
        (
            json!({"RequestType": "EnableRemoteDesktop"}),
            "EnableRemoteDesktop does not run on iOS",
        ),
        (
            json!({"RequestType": "DeclarativeManagement"}),
            "DeclarativeManagement needs iOS 15.0 or later; the device runs iOS 11.3.1",
        ),
    ];
    for (command, why) in &unsupported {
        let (status, body) = queue(&ops, &[udid], command.clone(), json!({})).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{command}: {body}"
        );
        let request_type = command["RequestType"].as_str().unwrap_or_default();
        assert_eq!(
            detail(&body),
            format!(
                "command-svc: 1 of the targets cannot run {request_type}: {udid}: {why} (nothing was queued; \
                 allow_unsupported queues it for them anyway)"
            )
        );
    }
    assert_eq!(
        ops.all(&format!("/v1/devices/{udid}/commands"), 10)
            .await
            .len(),
        1
    );

    // Supervision counts once the device has said it is not supervised.
    answer(
        &stack,
        &device,
        json!({"request_type": "DeviceInformation", "queries": ["IsSupervised"]}),
        "<key>QueryResponses</key><dict><key>IsSupervised</key><false/></dict>",
    )
    .await;
    device_when(&stack, udid, |d| d["inventory"]["supervised"] == false).await;
    let (status, body) = queue(
        &ops,
        &[udid],
        json!({"RequestType": "EnableLostMode", "Message": "Return to the front desk"}),
        json!({"reason": "left at the airport"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        detail(&body).contains(&format!(
            "{udid}: EnableLostMode runs only on supervised devices; this one is not supervised"
        )),
        "{body}"
    );

    // Asked to, it is queued anyway, and the answer names them.
    let (status, body) = queue(
        &ops,
        &[udid],
        json!({"RequestType": "EnableRemoteDesktop"}),
        json!({"allow_unsupported": true}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["warnings"],
        json!([format!("{udid}: EnableRemoteDesktop does not run on iOS")])
    );
    let received = device
        .idle(&stack)
        .await
        .expect("idle")
        .expect("the command");
    assert_eq!(received.request_type, "EnableRemoteDesktop");
}

#[tokio::test]
async fn commands_are_checked_before_they_are_queued_on_sqlite() {
    commands_are_checked_before_they_are_queued(Engine::Sqlite).await;
}

#[tokio::test]
async fn commands_are_checked_before_they_are_queued_on_postgres() {
    commands_are_checked_before_they_are_queued(Engine::Postgres).await;
}
