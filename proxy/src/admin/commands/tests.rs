use super::*;
use http::StatusCode;

const NOW: i64 = 1_700_000_000_000;

fn everything() -> Caller {
    Caller::new(
        "ops",
        &[
            Scope::Read,
            Scope::Commands,
            Scope::Destructive,
            Scope::ClearPasscode,
        ],
    )
}

fn enqueue(caller: &Caller, body: Value) -> Result<EnqueueRequest, AdminError> {
    enqueue_request(caller, body.to_string().as_bytes(), NOW)
}

fn status_of(result: Result<EnqueueRequest, AdminError>) -> (StatusCode, &'static str) {
    let error = result.expect_err("refused");
    (error.status(), error.code())
}

#[test]
fn a_typed_command_becomes_an_enqueue_request() {
    let request = enqueue(
        &everything(),
        json!({
            "devices": ["UDID-1", "UDID-2:USER-1"],
            "command": {"request_type": "DeviceInformation", "queries": ["OSVersion"]},
            "priority": 3,
            "ttl_seconds": 60,
            "idempotency_key": "k-1",
            "push": true,
        }),
    )
    .expect("valid");
    assert_eq!(request.enrollment_ids, ["UDID-1", "UDID-2:USER-1"]);
    assert_eq!(request.requested_by, "ops");
    assert_eq!(request.priority, 3);
    assert_eq!(request.expires_at_ms, NOW + 60_000);
    assert_eq!(request.idempotency_key, "k-1");
    assert_eq!(request.reason, "");
    let command = mdm_core::commands::parse_command_plist(&request.command_plist).expect("XML");
    assert_eq!(request_type_of(&command), Some("DeviceInformation"));
}

#[test]
fn raw_plist_and_apple_keyed_json_are_accepted() {
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>\
               <key>RequestType</key><string>ProfileList</string></dict></plist>";
    let raw = enqueue(
        &everything(),
        json!({"devices": ["UDID-1"], "command": {"plist": xml}}),
    )
    .expect("raw plist");
    assert!(String::from_utf8_lossy(&raw.command_plist).contains("ProfileList"));

    let keyed = enqueue(
        &everything(),
        json!({"devices": ["UDID-1"], "command": {"RequestType": "Settings", "Settings": []}}),
    )
    .expect("Apple-keyed JSON");
    assert!(String::from_utf8_lossy(&keyed.command_plist).contains("Settings"));
}

#[test]
fn malformed_bodies_are_invalid_json() {
    for body in [
        "not json".to_string(),
        json!({"devices": ["A"]}).to_string(),
        json!({"devices": ["A"], "command": {"request_type": "NoSuchThing"}}).to_string(),
        json!({"devices": ["A"], "command": {"plist": "<x/>", "extra": 1}}).to_string(),
        json!({"devices": ["A"], "command": {"Queries": []}}).to_string(),
        json!({"devices": ["A"], "command": {"request_type": "ProfileList"}, "bogus": 1})
            .to_string(),
    ] {
        let error = enqueue_request(&everything(), body.as_bytes(), NOW).expect_err(&body);
        assert_eq!(
            (error.status(), error.code()),
            (StatusCode::BAD_REQUEST, "invalid_json"),
            "{body}"
        );
    }
}

#[test]
fn device_lists_are_bounded() {
    let command = json!({"request_type": "ProfileList"});
    let bad = (StatusCode::BAD_REQUEST, "invalid_message");
    let empty = enqueue(&everything(), json!({"devices": [], "command": command}));
    assert_eq!(status_of(empty), bad);
    let too_many: Vec<String> = (0..=MAX_DEVICES).map(|i| format!("D{i}")).collect();
    let over = enqueue(
        &everything(),
        json!({"devices": too_many, "command": command}),
    );
    assert_eq!(status_of(over), bad);
    for devices in [json!([""]), json!(["A", "A"]), json!(["A\nB"])] {
        let result = enqueue(
            &everything(),
            json!({"devices": devices, "command": command}),
        );
        assert_eq!(status_of(result), bad, "{devices}");
    }
}

#[test]
fn clear_passcode_needs_one_device_and_a_reason() {
    let command = json!({"request_type": "ClearPasscode"});
    let bad = (StatusCode::BAD_REQUEST, "invalid_message");
    let two = enqueue(
        &everything(),
        json!({"devices": ["A", "B"], "command": command, "reason": "owner verified"}),
    );
    assert_eq!(status_of(two), bad);
    let no_reason = enqueue(&everything(), json!({"devices": ["A"], "command": command}));
    assert_eq!(status_of(no_reason), bad);
    let blank = enqueue(
        &everything(),
        json!({"devices": ["A"], "command": command, "reason": "  "}),
    );
    assert_eq!(status_of(blank), bad);
    let ok = enqueue(
        &everything(),
        json!({"devices": ["A"], "command": command, "reason": "owner verified in person"}),
    )
    .expect("allowed");
    assert_eq!(ok.reason, "owner verified in person");
}

#[test]
fn destructive_commands_need_their_scopes() {
    let commands_only = Caller::new("helpdesk", &[Scope::Read, Scope::Commands]);
    let erase =
        json!({"devices": ["A"], "command": {"request_type": "EraseDevice"}, "reason": "stolen"});
    let refused = enqueue(&commands_only, erase.clone());
    assert_eq!(status_of(refused), (StatusCode::FORBIDDEN, "forbidden"));

    let destructive = Caller::new("security", &[Scope::Commands, Scope::Destructive]);
    assert!(enqueue(&destructive, erase).is_ok());
    let clear = json!({"devices": ["A"], "command": {"request_type": "ClearPasscode"}, "reason": "verified"});
    assert_eq!(
        status_of(enqueue(&destructive, clear)),
        (StatusCode::FORBIDDEN, "forbidden")
    );

    // The check follows the RequestType whatever form the command came in.
    let raw_lock =
        json!({"devices": ["A"], "command": {"RequestType": "DeviceLock"}, "reason": "lost"});
    assert_eq!(
        status_of(enqueue(&commands_only, raw_lock)),
        (StatusCode::FORBIDDEN, "forbidden")
    );

    let reader = Caller::new("auditor", &[Scope::Read]);
    let info = json!({"devices": ["A"], "command": {"request_type": "ProfileList"}});
    assert_eq!(
        status_of(enqueue(&reader, info)),
        (StatusCode::FORBIDDEN, "forbidden")
    );
}

#[test]
fn destructive_commands_need_a_reason() {
    let erase = json!({"devices": ["A"], "command": {"request_type": "EraseDevice"}});
    assert_eq!(
        status_of(enqueue(&everything(), erase)),
        (StatusCode::BAD_REQUEST, "invalid_message")
    );
}

#[test]
fn expiry_is_one_future_time() {
    let command = json!({"request_type": "ProfileList"});
    let at = enqueue(
        &everything(),
        json!({"devices": ["A"], "command": command, "expires_at": "2023-11-14T23:13:20Z"}),
    )
    .expect("future time");
    assert_eq!(at.expires_at_ms, NOW + 3_600_000);
    let bad = (StatusCode::BAD_REQUEST, "invalid_message");
    for extra in [
        json!({"expires_at": "2023-11-14T23:13:20Z", "ttl_seconds": 5}),
        json!({"expires_at": "2020-01-01T00:00:00Z"}),
        json!({"expires_at": "tomorrow"}),
        json!({"ttl_seconds": 0}),
        json!({"ttl_seconds": u64::MAX}),
    ] {
        let mut body = json!({"devices": ["A"], "command": command});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        assert_eq!(status_of(enqueue(&everything(), body)), bad, "{extra}");
    }
}
