//! What the device makes of a manifest: activations and their predicates, referenced and
//! unreferenced configurations, invalid declarations, properties, and the device it runs on.

use super::fake::{activation, declaration, ids, passcode, states, sync, FakeServer};
use crate::sim::ddm::{DdmState, Validity};
use crate::sim::responder::DeviceFacts;
use serde_json::json;

async fn applied(server: &mut FakeServer) -> DdmState {
    let mut state = DdmState::default();
    sync(&mut state, server, None).await.expect("syncs");
    state
}

fn held(state: &DdmState, identifier: &str) -> crate::sim::ddm::HeldDeclaration {
    state
        .declarations()
        .into_iter()
        .find(|d| d.identifier == identifier)
        .expect("held")
}

#[tokio::test]
async fn a_predicate_chooses_whether_the_activation_applies() {
    let mut server = FakeServer::with(vec![
        activation(
            "iphones",
            &["pc-iphone"],
            Some(r#"@status(device.model.family) == "iPhone""#),
        ),
        activation(
            "macs",
            &["pc-mac"],
            Some(r#"@status(device.model.family) == "Mac""#),
        ),
        passcode("pc-iphone", json!(6)),
        passcode("pc-mac", json!(8)),
    ]);
    let state = applied(&mut server).await;
    assert_eq!(
        states(&state),
        [
            ("iphones".to_owned(), true, "valid"),
            ("macs".to_owned(), false, "valid"),
            ("pc-iphone".to_owned(), true, "valid"),
            ("pc-mac".to_owned(), false, "unknown"),
        ]
    );
    let macs = held(&state, "macs");
    assert_eq!(macs.reasons[0].code, "Info.Predicate");
    assert_eq!(
        macs.reasons[0]
            .details
            .as_ref()
            .map(|d| d["Predicate"].clone()),
        Some(json!(r#"@status(device.model.family) == "Mac""#))
    );
    assert_eq!(
        held(&state, "pc-mac").reasons[0].code,
        "Info.NotReferencedByActivation"
    );

    // The same declarations on a Mac select the other configuration.
    let mut on_mac = DdmState::default();
    on_mac
        .sync(
            &DeviceFacts::mac(super::fake::UDID, 1),
            &ids(),
            &mut server,
            None,
        )
        .await
        .expect("syncs");
    let active: Vec<String> = on_mac
        .declarations()
        .into_iter()
        .filter(|d| d.active)
        .map(|d| d.identifier)
        .collect();
    assert_eq!(active, ["macs", "pc-mac"]);
}

#[tokio::test]
async fn a_configuration_no_activation_lists_is_not_applied() {
    let mut server = FakeServer::with(vec![
        activation("some", &["listed"], None),
        passcode("listed", json!(6)),
        passcode("unlisted", json!(6)),
    ]);
    let state = applied(&mut server).await;
    let unlisted = held(&state, "unlisted");
    assert_eq!(
        (unlisted.active, unlisted.valid),
        (false, Validity::Unknown)
    );
    assert_eq!(unlisted.reasons[0].code, "Info.NotReferencedByActivation");
    assert_eq!(
        unlisted.reasons[0].details,
        Some(json!({"Identifier": "unlisted", "ServerToken": unlisted.server_token}))
    );
    assert!(held(&state, "listed").active);
}

#[tokio::test]
async fn a_declaration_that_fails_the_schema_is_invalid_with_the_error() {
    let mut server = FakeServer::with(vec![
        activation("all", &["bad"], None),
        passcode("bad", json!("six")),
    ]);
    let state = applied(&mut server).await;
    let bad = held(&state, "bad");
    assert_eq!((bad.active, bad.valid), (false, Validity::Invalid));
    assert_eq!(bad.reasons[0].code, "Error.ConfigurationIsInvalid");
    let expected = "com.apple.configuration.passcode.settings: Payload.MinimumLength must be an integer, not a string";
    let description = bad.reasons[0].description.clone().unwrap_or_default();
    assert!(description.starts_with(expected), "{description}");
    assert_eq!(
        bad.reasons[0].details.as_ref().map(|d| d["Error"].clone()),
        Some(json!(description))
    );
    // The activation itself is fine.
    assert!(held(&state, "all").active);

    let report = &server.reports[0];
    let reported = report
        .declarations
        .iter()
        .find(|d| d.identifier == "bad")
        .expect("reported");
    assert_eq!(
        (reported.active, reported.valid.as_str()),
        (false, "invalid")
    );
    assert_eq!(
        reported.reasons[0].description.as_deref(),
        Some(description.as_str())
    );
}

#[tokio::test]
async fn an_activation_whose_predicate_cannot_be_parsed_is_invalid() {
    let mut server = FakeServer::with(vec![
        activation(
            "broken",
            &["pc"],
            Some("@status(device.model.family) LIKE 'i*'"),
        ),
        passcode("pc", json!(6)),
    ]);
    let state = applied(&mut server).await;
    let broken = held(&state, "broken");
    assert_eq!((broken.active, broken.valid), (false, Validity::Invalid));
    assert_eq!(broken.reasons[0].code, "Error.UnableToParsePredicate");
    let description = broken.reasons[0].description.clone().unwrap_or_default();
    assert!(
        description.contains("expected a comparison, found LIKE"),
        "{description}"
    );
    assert!(!held(&state, "pc").active);
}

#[tokio::test]
async fn properties_feed_predicates_and_management_is_active() {
    let mut server = FakeServer::with(vec![
        activation(
            "beta",
            &["pc"],
            Some(r#"@property(ring) IN {"beta", "alpha"} AND @property(level) >= 2"#),
        ),
        activation(
            "stable",
            &["pc-stable"],
            Some(r#"@property(ring) == "stable""#),
        ),
        passcode("pc", json!(6)),
        passcode("pc-stable", json!(6)),
        declaration(
            "com.apple.management.properties",
            "props",
            json!({"ring": "beta", "level": 2}),
        ),
        declaration(
            "com.apple.management.organization-info",
            "org",
            json!({"Name": "Example"}),
        ),
    ]);
    let state = applied(&mut server).await;
    let active: Vec<String> = state
        .declarations()
        .into_iter()
        .filter(|d| d.active)
        .map(|d| d.identifier)
        .collect();
    assert_eq!(active, ["beta", "pc", "org", "props"]);

    // A new property value changes the choice on the next sync.
    server.declarations[4] = declaration(
        "com.apple.management.properties",
        "props",
        json!({"ring": "stable"}),
    );
    let mut state = state;
    sync(&mut state, &mut server, None).await.expect("syncs");
    assert!(held(&state, "pc-stable").active && !held(&state, "pc").active);
}

#[tokio::test]
async fn an_invalid_asset_or_management_declaration_is_inactive() {
    let mut server = FakeServer::with(vec![
        declaration(
            "com.apple.management.properties",
            "props",
            json!({"ring": "beta"}),
        ),
        declaration(
            "com.apple.management.organization-info",
            "org",
            json!({"Bogus": 1}),
        ),
        declaration(
            "com.apple.asset.data",
            "file",
            json!({"Reference": {"DataURL": "https://example.com/f", "ContentType": "text/plain"}}),
        ),
    ]);
    let state = applied(&mut server).await;
    assert_eq!(
        states(&state),
        [
            ("file".to_owned(), true, "valid"),
            ("org".to_owned(), false, "invalid"),
            ("props".to_owned(), true, "valid"),
        ]
    );
    assert_eq!(held(&state, "org").reasons[0].code, "Error.InvalidPayload");
}
