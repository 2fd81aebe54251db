use super::*;
use crate::duration::parse_timestamp;
use serde_json::json;

/// A delivery of the API with `fields` over the required ones.
fn delivery(fields: Value) -> Delivery {
    let mut document = json!({
        "enrollment_id": "", "command_uuid": "", "request_type": "", "status": "queued",
        "not_now_count": 0, "priority": 0,
    });
    if let (Some(base), Value::Object(fields)) = (document.as_object_mut(), fields) {
        base.extend(fields);
    }
    serde_json::from_value(document).expect("a Delivery")
}

fn acknowledged(id: &str, result: Value) -> Delivery {
    delivery(json!({"enrollment_id": id, "status": "acknowledged", "result": result}))
}

#[test]
fn device_information_shows_query_responses_under_each_device() {
    let listed = [
        acknowledged(
            "UDID-1",
            json!({"Status": "Acknowledged", "QueryResponses": {
                "OSVersion": "11.3.1", "DeviceName": "iPad", "DeviceCapacity": 26.9,
                "IsSupervised": false}}),
        ),
        delivery(json!({"enrollment_id": "UDID-LONGER-2", "not_now_count": 2})),
    ];
    let text = deliveries("DeviceInformation", &listed);
    assert_eq!(
        text,
        "UDID-1         Acknowledged\n\
         \x20   DeviceCapacity  26.9\n\
         \x20   DeviceName      iPad\n\
         \x20   IsSupervised    false\n\
         \x20   OSVersion       11.3.1\n\
         UDID-LONGER-2  NotNow (2 times), still queued\n"
    );
}

#[test]
fn an_error_shows_its_chain_whatever_the_request_type() {
    let d = delivery(json!({
        "status": "error",
        "result": {"Status": "Error", "ErrorChain": [{
            "ErrorDomain": "MCProfileErrorDomain", "ErrorCode": 1003,
            "LocalizedDescription": "The profile is not installed."}]},
    }));
    assert_eq!(
        details("RemoveProfile", &d).to_string(),
        "MCProfileErrorDomain 1003  The profile is not installed.\n"
    );
}

#[test]
fn lists_show_one_row_per_item() {
    let d = acknowledged(
        "UDID-1",
        json!({"ProfileList": [
            {"PayloadIdentifier": "com.example.wifi", "PayloadDisplayName": "Wi-Fi"},
            {"PayloadIdentifier": "com.example.vpn"}]}),
    );
    assert_eq!(
        details("ProfileList", &d).to_string(),
        "com.example.wifi  Wi-Fi\ncom.example.vpn   -\n"
    );
    assert!(details("RestartDevice", &d).is_empty());
}

#[test]
fn statuses_read_as_the_protocol_names_them() {
    assert_eq!(status_label(&delivery(json!({}))), "pending");
    assert_eq!(
        status_label(&delivery(json!({"sent_at": "2026-11-21T11:00:00Z"}))),
        "sent, no answer yet"
    );
    assert_eq!(
        status_label(&delivery(json!({"not_now_count": 1}))),
        "NotNow (once), still queued"
    );
    assert_eq!(
        status_label(&delivery(json!({"status": "superseded"}))),
        "superseded"
    );
}

#[test]
fn history_rows_show_status_and_ages() {
    let now = parse_timestamp("2026-11-21T12:00:00Z").expect("time");
    let d = delivery(json!({
        "command_uuid": "c-1", "request_type": "ProfileList", "status": "cancelled",
        "queued_at": "2026-11-21T11:00:00Z",
    }));
    let text = history(&[d], now).to_string();
    assert_eq!(
        text.lines().nth(1),
        Some("c-1           ProfileList   cancelled  1h ago  -")
    );
}

#[test]
fn the_header_says_who_cancelled() {
    let command: Command = serde_json::from_value(json!({
        "command_uuid": "C1", "request_type": "EraseDevice", "priority": 0,
        "status_counts": {}, "reason": "stolen",
        "cancelled_at": "2026-11-21T11:00:00Z", "cancelled_by": "ops",
    }))
    .expect("a Command");
    let text = header(&command).to_string();
    assert!(text.contains("reason        stolen"), "{text}");
    assert!(text.ends_with("cancelled_by  ops\n"), "{text}");
    let listed = commands(
        &[command],
        parse_timestamp("2026-11-21T12:00:00Z").expect("t"),
    );
    let row = listed.to_string();
    assert!(
        row.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("C1") && l.contains("1h ago")),
        "{row}"
    );
}
