//! A simulated device's declarative syncs over HTTPS, against an in-process MDM server
//! (`ddm_device/fake_mdm.rs`): a session that acknowledges `DeclarativeManagement` syncs right
//! after its commands, with the command's tokens or by asking for them; every check-in is signed
//! and read by the server's parsers; a failed request names its endpoint; a user channel syncs
//! as itself.

#[path = "ddm_device/fake_mdm.rs"]
mod fake_mdm;

use devsim::sim::{SimConfig, SimDevice, SimUser, Transport, Validity};
use fake_mdm::FakeMdm;
use mdm_core::ddm::check_declaration;
use mdm_core::ddm::{declarations_token, sync_command, tokens, Declaration};
use plist::{Dictionary, Value};
use serde_json::json;
use std::sync::Arc;
use testkit::TestCa;

const UDID: &str = "DDM-SIM-0001";

fn declarations() -> Vec<Declaration> {
    [
        json!({"Type": "com.apple.activation.simple", "Identifier": "iphones",
               "Payload": {"StandardConfigurations": ["passcode"],
                           "Predicate": "@status(device.model.family) == \"iPhone\""}}),
        json!({"Type": "com.apple.configuration.passcode.settings", "Identifier": "passcode",
               "Payload": {"MinimumLength": 6}}),
    ]
    .iter()
    .map(|d| check_declaration(d).expect("valid"))
    .collect()
}

async fn device(server: &FakeMdm) -> SimDevice {
    let identity = TestCa::new("device CA").issue_client(UDID);
    let config = SimConfig::new(
        &server.url,
        &server.ca_pem,
        Transport::Signature,
        "com.apple.mgmt.test",
    );
    SimDevice::new(
        1,
        UDID,
        &identity.cert_pem,
        &identity.key_pem,
        Arc::new(config),
    )
    .expect("a device")
}

/// A `DeclarativeManagement` command, with the sync tokens as `Data` when `data`.
fn command(server: &FakeMdm, data: bool) -> Vec<u8> {
    let token = declarations_token(&server.seen().declarations);
    let mut request = sync_command(&tokens(&token, "2026-01-01T00:00:00Z"));
    if !data {
        request.remove("Data");
    }
    let mut dict = Dictionary::new();
    dict.insert(
        "CommandUUID".into(),
        Value::String(uuid::Uuid::new_v4().to_string()),
    );
    dict.insert("Command".into(), Value::Dictionary(request));
    let mut xml = Vec::new();
    Value::Dictionary(dict)
        .to_writer_xml(&mut xml)
        .expect("XML");
    xml
}

fn asked(server: &FakeMdm) -> Vec<String> {
    server
        .seen()
        .asked
        .iter()
        .map(|(endpoint, _)| endpoint.clone())
        .collect()
}

#[tokio::test]
async fn a_session_that_acknowledges_declarative_management_syncs_after_its_commands() {
    let server = FakeMdm::start().await;
    server.seen().declarations = declarations();
    let mut device = device(&server).await;

    // A session without the command does not sync.
    let handled = device.session().await.expect("session");
    assert!(handled.is_empty() && asked(&server).is_empty());

    let queued = command(&server, true);
    server.seen().commands.push_back(queued);
    let handled = device.session().await.expect("session");
    assert_eq!(handled.len(), 1);
    assert_eq!(
        (handled[0].request_type.as_str(), handled[0].status),
        ("DeclarativeManagement", "Acknowledged")
    );
    // The command's tokens spare the tokens request; the sync follows the command loop.
    assert_eq!(
        asked(&server),
        [
            "declaration-items",
            "declaration/activation/iphones",
            "declaration/configuration/passcode",
            "status"
        ]
    );
    assert_eq!(server.seen().statuses, ["Idle", "Idle", "Acknowledged"]);
    assert_eq!(server.seen().unsigned, 0, "every request is signed");
    let states: Vec<(String, bool, Validity)> = device
        .declarations()
        .into_iter()
        .map(|d| (d.identifier, d.active, d.valid))
        .collect();
    assert_eq!(
        states,
        [
            ("iphones".to_owned(), true, Validity::Valid),
            ("passcode".to_owned(), true, Validity::Valid)
        ]
    );
    let report = server.seen().reports[0].clone();
    assert!(report.full_report);
    assert_eq!(report.declarations.len(), 2);

    // Without Data, the device asks for the tokens, finds them unchanged, and stops there.
    let queued = command(&server, false);
    server.seen().commands.push_back(queued);
    server.seen().asked.clear();
    device.session().await.expect("session");
    assert_eq!(asked(&server), ["tokens"]);
    assert_eq!(server.seen().reports.len(), 1);
}

#[tokio::test]
async fn a_failed_request_fails_the_sync_naming_its_endpoint() {
    let server = FakeMdm::start().await;
    server.seen().declarations = declarations();
    server
        .seen()
        .failures
        .insert("declaration/configuration/passcode".into(), 500);
    let mut device = device(&server).await;
    let error = device.ddm_sync(None).await.expect_err("fails");
    assert_eq!(
        error.to_string(),
        "DeclarativeManagement declaration/configuration/passcode answered HTTP 500"
    );
    assert!(device.declarations().is_empty());

    server.seen().failures.clear();
    let synced = device.ddm_sync(None).await.expect("syncs");
    assert_eq!(synced.fetched, ["iphones", "passcode"]);
    assert!(device.ddm_state().full_report_sent());
}

#[tokio::test]
async fn a_user_channel_syncs_as_itself() {
    let server = FakeMdm::start().await;
    server.seen().declarations = declarations();
    let mac = device(&server).await;
    let user = SimUser::new(1);
    let mut channel = mac.user_channel(user.clone()).expect("a user channel");
    channel.ddm_sync(None).await.expect("syncs");
    let seen = server.seen();
    assert!(!seen.asked.is_empty());
    assert!(seen
        .asked
        .iter()
        .all(|(_, user_id)| user_id.as_deref() == Some(user.user_id.as_str())));
    assert_eq!(channel.declarations().len(), 2);
    assert!(mac.declarations().is_empty());
}
