//! What the device sends, read with the server's parsers: its check-ins, its status reports
//! nested like a real device's, and the tokens a `DeclarativeManagement` command carries.

use super::fake::{activation, passcode, sync, FakeServer, UDID};
use crate::sim::ddm::{checkin_body, DdmState, SyncTokens};
use crate::sim::responder::{execute, Answer, DeviceFacts, DeviceState, ReceivedCommand};
use mdm_core::ddm::{
    parse_declarative_checkin, parse_status_report, sync_command, tokens, Category, Endpoint,
};
use plist::{Dictionary, Value};
use serde_json::json;

#[test]
fn checkins_parse_on_both_channels() {
    let mut ids = Dictionary::from_iter([("UDID".to_owned(), Value::String(UDID.into()))]);
    let tokens = parse_declarative_checkin(&checkin_body(&ids, "tokens", None)).expect("parses");
    assert_eq!(tokens.endpoint, Endpoint::Tokens);
    assert_eq!(tokens.ids.udid.as_deref(), Some(UDID));
    assert_eq!(tokens.data, None);

    ids.insert("UserID".into(), Value::String("USER-GUID".into()));
    let body = checkin_body(&ids, "declaration/asset/cert", None);
    let declaration = parse_declarative_checkin(&body).expect("parses");
    assert_eq!(declaration.ids.user_id.as_deref(), Some("USER-GUID"));
    assert_eq!(
        declaration.endpoint,
        Endpoint::Declaration {
            category: Category::Asset,
            identifier: "cert".into()
        }
    );
    let status =
        parse_declarative_checkin(&checkin_body(&ids, "status", Some(b"{}"))).expect("parses");
    assert_eq!(status.data.as_deref(), Some(&b"{}"[..]));
}

#[tokio::test]
async fn the_full_report_is_nested_like_a_real_devices() {
    let mut server = FakeServer::with(vec![
        activation("all", &["pc"], None),
        passcode("pc", json!(6)),
    ]);
    let outcome = sync(&mut DdmState::default(), &mut server, None)
        .await
        .expect("syncs");
    let sent = outcome.report.expect("a report");
    let device = &sent["StatusItems"]["device"];
    assert_eq!(device["identifier"]["udid"], json!(UDID));
    assert_eq!(device["identifier"]["serial-number"], json!("SIM000000001"));
    assert_eq!(device["model"]["family"], json!("iPhone"));
    assert_eq!(device["model"]["identifier"], json!("iPhone15,2"));
    assert_eq!(device["operating-system"]["family"], json!("iOS"));
    assert_eq!(device["operating-system"]["version"], json!("17.1"));
    assert_eq!(device["operating-system"]["build-version"], json!("21B80"));
    assert_eq!(sent["Errors"], json!([]));
    assert_eq!(sent["FullReport"], json!(true));
    let declarations = &sent["StatusItems"]["management"]["declarations"];
    for key in ["activations", "configurations", "assets", "management"] {
        assert!(declarations[key].is_array(), "{key}");
    }
    assert_eq!(
        declarations["configurations"][0],
        json!({"identifier": "pc", "active": true, "valid": "valid",
               "server-token": server.declarations[1].server_token})
    );
    let capabilities = &sent["StatusItems"]["management"]["client-capabilities"];
    assert_eq!(capabilities["supported-versions"], json!(["1.0.0"]));
    let payloads = &capabilities["supported-payloads"];
    assert!(payloads["declarations"]["activations"]
        .as_array()
        .is_some_and(|types| types.contains(&json!("com.apple.activation.simple"))));
    assert!(payloads["declarations"]["configurations"]
        .as_array()
        .is_some_and(|types| types.contains(&json!("com.apple.configuration.passcode.settings"))));
    let status_items = payloads["status-items"].as_array().expect("status items");
    for item in [
        "device.model.family",
        "management.declarations",
        "management.client-capabilities",
    ] {
        assert!(status_items.contains(&json!(item)), "{item}");
    }
    // And the server reads it back item by item.
    let parsed = parse_status_report(sent.to_string().as_bytes()).expect("parses");
    assert_eq!(
        parsed.items["device.identifier.serial-number"],
        json!("SIM000000001")
    );
    assert_eq!(
        parsed.items["device.operating-system.build-version"],
        json!("21B80")
    );
    assert_eq!(parsed.declarations.len(), 2);
}

#[tokio::test]
async fn a_mac_reports_itself_as_one() {
    let mut server = FakeServer::default();
    let mut state = DdmState::default();
    state
        .sync(
            &DeviceFacts::mac(UDID, 1),
            &super::fake::ids(),
            &mut server,
            None,
        )
        .await
        .expect("syncs");
    let report = &server.reports[0];
    assert_eq!(report.items["device.model.family"], json!("Mac"));
    assert_eq!(
        report.items["device.operating-system.family"],
        json!("macOS")
    );
    assert!(report.declarations.is_empty());
}

#[test]
fn a_declarative_management_command_carries_readable_tokens_or_none() {
    let body = tokens("abc", "2026-01-01T00:00:00Z");
    let with_data = sync_command(&body);
    assert_eq!(
        SyncTokens::from_command(&with_data),
        Ok(Some(SyncTokens {
            declarations_token: "abc".into(),
            timestamp: Some("2026-01-01T00:00:00Z".into())
        }))
    );
    let mut bare = Dictionary::new();
    bare.insert("RequestType".into(), "DeclarativeManagement".into());
    assert_eq!(SyncTokens::from_command(&bare), Ok(None));

    let facts = DeviceFacts::iphone(UDID, 1);
    let mut state = DeviceState::default();
    let command = |dict: Dictionary| ReceivedCommand {
        command_uuid: "U".into(),
        request_type: "DeclarativeManagement".into(),
        command: dict,
    };
    assert!(matches!(
        execute(&command(with_data), &facts, &mut state),
        Answer::Acknowledged(_)
    ));
    assert!(matches!(
        execute(&command(bare.clone()), &facts, &mut state),
        Answer::Acknowledged(_)
    ));
    let mut broken = bare;
    broken.insert("Data".into(), Value::Data(b"{\"SyncTokens\": 1}".to_vec()));
    let Answer::Error { description, .. } = execute(&command(broken), &facts, &mut state) else {
        panic!("unreadable tokens are an error")
    };
    assert!(
        description.contains("no SyncTokens object"),
        "{description}"
    );
}
