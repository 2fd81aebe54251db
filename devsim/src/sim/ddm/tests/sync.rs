//! The sync's exchange: what the device asks for, when it reports, and how it fails.

use super::fake::{activation, passcode, states, sync, FakeServer};
use crate::sim::ddm::{DdmState, MAX_ANSWER_BYTES, MAX_ITEMS};
use crate::sim::device::SimError;
use serde_json::json;

fn server() -> FakeServer {
    FakeServer::with(vec![
        activation("all", &["pc"], None),
        passcode("pc", json!(6)),
    ])
}

#[tokio::test]
async fn the_first_sync_fetches_everything_and_reports_in_full() {
    let mut state = DdmState::default();
    let mut server = server();
    let outcome = sync(&mut state, &mut server, None).await.expect("syncs");
    assert_eq!(
        server.asked,
        [
            "tokens",
            "declaration-items",
            "declaration/activation/all",
            "declaration/configuration/pc",
            "status"
        ]
    );
    assert!(!outcome.up_to_date);
    assert_eq!(outcome.fetched, ["all", "pc"]);
    assert_eq!(
        outcome.declarations_token,
        server.tokens().declarations_token
    );
    assert_eq!(
        state.declarations_token(),
        Some(server.tokens().declarations_token.as_str())
    );
    assert_eq!(
        states(&state),
        [
            ("all".to_owned(), true, "valid"),
            ("pc".to_owned(), true, "valid")
        ]
    );
    let [report] = server.reports.as_slice() else {
        panic!("one report: {:?}", server.reports)
    };
    assert!(report.full_report && state.full_report_sent());
    assert_eq!(report.items["device.model.family"], json!("iPhone"));
    assert!(report.items.contains_key("management.client-capabilities"));
    let reported: Vec<_> = report
        .declarations
        .iter()
        .map(|d| {
            (
                d.identifier.as_str(),
                d.active,
                d.valid.as_str(),
                d.server_token.clone(),
            )
        })
        .collect();
    let token = |i: usize| server.declarations[i].server_token.clone();
    assert_eq!(
        reported,
        [
            ("all", true, "valid", token(0)),
            ("pc", true, "valid", token(1))
        ]
    );
    assert_eq!(
        outcome.report.as_ref().map(|r| r["FullReport"].clone()),
        Some(json!(true))
    );
}

#[tokio::test]
async fn an_unchanged_token_ends_the_sync_without_a_report() {
    let mut state = DdmState::default();
    let mut server = server();
    sync(&mut state, &mut server, None).await.expect("syncs");
    server.asked.clear();
    let outcome = sync(&mut state, &mut server, None).await.expect("syncs");
    assert_eq!(server.asked, ["tokens"]);
    assert!(outcome.up_to_date && outcome.fetched.is_empty() && outcome.report.is_none());
    assert_eq!(server.reports.len(), 1);
}

#[tokio::test]
async fn tokens_from_the_command_skip_the_tokens_request() {
    let mut state = DdmState::default();
    let mut server = server();
    let tokens = server.tokens();
    sync(&mut state, &mut server, Some(tokens.clone()))
        .await
        .expect("syncs");
    assert_eq!(server.asked[0], "declaration-items");
    server.asked.clear();
    sync(&mut state, &mut server, Some(tokens))
        .await
        .expect("syncs");
    assert!(server.asked.is_empty(), "{:?}", server.asked);
}

#[tokio::test]
async fn a_changed_declaration_alone_is_fetched_and_reported_incrementally() {
    let mut state = DdmState::default();
    let mut server = server();
    sync(&mut state, &mut server, None).await.expect("syncs");
    server.declarations[1] = passcode("pc", json!(8));
    server.asked.clear();
    let outcome = sync(&mut state, &mut server, None).await.expect("syncs");
    assert_eq!(
        server.asked,
        [
            "tokens",
            "declaration-items",
            "declaration/configuration/pc",
            "status"
        ]
    );
    assert_eq!(outcome.fetched, ["pc"]);
    let report = &server.reports[1];
    assert!(!report.full_report);
    // Only the declarations changed: the device's own items are not repeated.
    assert_eq!(
        report.items.keys().collect::<Vec<_>>(),
        ["management.declarations"]
    );
    let pc = report
        .declarations
        .iter()
        .find(|d| d.identifier == "pc")
        .expect("pc reported");
    assert_eq!(pc.server_token, server.declarations[1].server_token);
    assert_eq!(report.declarations.len(), 2, "the whole set travels");
}

#[tokio::test]
async fn declarations_left_out_of_the_manifest_are_removed() {
    let mut state = DdmState::default();
    let mut server = server();
    sync(&mut state, &mut server, None).await.expect("syncs");
    server.declarations.truncate(1);
    let outcome = sync(&mut state, &mut server, None).await.expect("syncs");
    assert_eq!(outcome.removed, ["pc"]);
    assert!(outcome.fetched.is_empty());
    assert_eq!(states(&state), [("all".to_owned(), true, "valid")]);
    let report = &server.reports[1];
    assert_eq!(report.declarations.len(), 1);
    // The activation still lists it: the device says so.
    assert_eq!(
        report.declarations[0].reasons[0].code,
        "Error.MissingConfigurations"
    );
    assert_eq!(
        report.declarations[0].reasons[0].details,
        Some(
            json!({"Identifier": "all", "ServerToken": server.declarations[0].server_token,
            "ConfigurationIdentifiers": ["pc"]})
        )
    );
}

#[tokio::test]
async fn a_change_to_the_device_is_reported_without_new_declarations() {
    let mut state = DdmState::default();
    let mut server = server();
    sync(&mut state, &mut server, None).await.expect("syncs");
    let mut facts = super::fake::iphone();
    facts.os_version = "17.2".into();
    state
        .sync(&facts, &super::fake::ids(), &mut server, None)
        .await
        .expect("syncs");
    let report = &server.reports[1];
    assert!(!report.full_report);
    assert_eq!(
        report.items["device.operating-system.version"],
        json!("17.2")
    );
    assert_eq!(
        report.items["device.operating-system.marketing-name"],
        json!("iOS 17.2")
    );
    assert!(!report.items.contains_key("management.declarations"));
    assert!(!report.items.contains_key("device.model.family"));
}

#[tokio::test]
async fn a_report_that_failed_is_sent_again() {
    let mut state = DdmState::default();
    let mut server = server();
    server.overrides.insert("status".into(), Err(500));
    let error = sync(&mut state, &mut server, None)
        .await
        .expect_err("fails");
    assert_eq!(
        error.to_string(),
        "DeclarativeManagement status answered HTTP 500"
    );
    assert!(!state.full_report_sent());
    // The declarations were applied; the report is still due.
    assert_eq!(state.declarations().len(), 2);
    server.overrides.clear();
    server.asked.clear();
    sync(&mut state, &mut server, None).await.expect("syncs");
    assert_eq!(server.asked, ["tokens", "status"]);
    assert!(server.reports[0].full_report);
}

#[tokio::test]
async fn a_failed_fetch_leaves_the_device_as_it_was() {
    let mut state = DdmState::default();
    let mut server = server();
    sync(&mut state, &mut server, None).await.expect("syncs");
    let before = state.declarations();
    server.declarations.push(passcode("new", json!(4)));
    server
        .overrides
        .insert("declaration/configuration/new".into(), Err(404));
    let error = sync(&mut state, &mut server, None)
        .await
        .expect_err("fails");
    assert!(
        matches!(error, SimError::DdmStatus { status: 404, .. }),
        "{error}"
    );
    assert_eq!(state.declarations(), before);
    assert_ne!(
        state.declarations_token(),
        Some(server.tokens().declarations_token.as_str())
    );
}

/// An answer the fake gives instead of its documents: a body, or an HTTP status.
type Answer = Result<Vec<u8>, u16>;

/// Each broken answer fails the sync with a message naming the endpoint and the fault.
#[tokio::test]
async fn broken_answers_fail_the_sync_with_what_is_wrong() {
    let items = |json: serde_json::Value| Ok(json.to_string().into_bytes());
    let cases: Vec<(&str, Answer, &str)> = vec![
        (
            "tokens",
            Ok(b"<html>".to_vec()),
            "DeclarativeManagement tokens: unusable answer: not JSON",
        ),
        (
            "tokens",
            items(json!({"SyncTokens": {}})),
            "no DeclarationsToken",
        ),
        (
            "tokens",
            Err(503),
            "DeclarativeManagement tokens answered HTTP 503",
        ),
        (
            "tokens",
            Ok(vec![b' '; MAX_ANSWER_BYTES + 1]),
            "longer than 1048576 bytes",
        ),
        (
            "declaration-items",
            items(json!([])),
            "no Declarations object",
        ),
        (
            "declaration-items",
            items(json!({"Declarations": {"Configurations": {}}})),
            "Declarations.Configurations is not an array",
        ),
        (
            "declaration-items",
            items(json!({"Declarations": {"Configurations": [{"Identifier": "x"}]}})),
            "Declarations.Configurations[0]: needs a non-empty string ServerToken",
        ),
        (
            "declaration-items",
            items(
                json!({"Declarations": {"Configurations": [{"Identifier": "a/b", "ServerToken": "t"}]}}),
            ),
            "cannot be fetched as a path segment",
        ),
        (
            "declaration-items",
            items(json!({"Declarations": {
                "Activations": [{"Identifier": "x", "ServerToken": "t"}],
                "Configurations": [{"Identifier": "x", "ServerToken": "t"}]}})),
            "\"x\" is listed twice",
        ),
        (
            "declaration-items",
            items(json!({"Declarations": {"Configurations":
                (0..=MAX_ITEMS).map(|i| json!({"Identifier": format!("c{i}"), "ServerToken": "t"})).collect::<Vec<_>>()}})),
            "declaration-items lists 1001 declarations; a device takes at most 1000",
        ),
        (
            "declaration/configuration/pc",
            items(json!(["pc"])),
            "a declaration is a JSON object",
        ),
    ];
    for (endpoint, answer, expected) in cases {
        let mut state = DdmState::default();
        let mut server = server();
        server.overrides.insert(endpoint.into(), answer);
        let error = sync(&mut state, &mut server, None)
            .await
            .expect_err(expected);
        assert!(error.to_string().contains(expected), "{endpoint}: {error}");
        assert!(state.declarations().is_empty());
        assert!(server.reports.is_empty());
    }
}
