use super::*;
use crate::duration::parse_timestamp;
use serde_json::json;

fn acknowledged(id: &str, result: Value) -> Delivery {
    Delivery {
        enrollment_id: id.into(),
        status: "acknowledged".into(),
        result: Some(result),
        ..Delivery::default()
    }
}

#[test]
fn device_information_shows_query_responses_under_each_device() {
    let command = Command {
        request_type: "DeviceInformation".into(),
        deliveries: vec![
            acknowledged(
                "UDID-1",
                json!({"Status": "Acknowledged", "QueryResponses": {
                    "OSVersion": "11.3.1", "DeviceName": "iPad", "DeviceCapacity": 26.9,
                    "IsSupervised": false}}),
            ),
            Delivery {
                enrollment_id: "UDID-LONGER-2".into(),
                status: "queued".into(),
                not_now_count: 2,
                ..Delivery::default()
            },
        ],
        ..Command::default()
    };
    let text = deliveries(&command);
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
    let d = Delivery {
        status: "error".into(),
        result: Some(json!({"Status": "Error", "ErrorChain": [{
            "ErrorDomain": "MCProfileErrorDomain", "ErrorCode": 1003,
            "LocalizedDescription": "The profile is not installed."}]})),
        ..Delivery::default()
    };
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
fn history_rows_show_status_and_ages() {
    let now = parse_timestamp("2026-11-21T12:00:00Z").expect("time");
    let d = Delivery {
        command_uuid: "c-1".into(),
        request_type: "ProfileList".into(),
        status: "cancelled".into(),
        queued_at: Some("2026-11-21T11:00:00Z".into()),
        ..Delivery::default()
    };
    let text = history(&[d], now).to_string();
    assert_eq!(
        text.lines().nth(1),
        Some("c-1           ProfileList   cancelled  1h ago  -")
    );
}
