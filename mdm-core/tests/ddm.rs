//! Declarative Device Management's data: every declaration type of Apple's schema is accepted
//! and a wrong one refused naming the key; ServerTokens follow content; the sync documents; and
//! real status reports (KMFDDM's captures) parse into items and declaration states.

#[path = "catalogue_support/sample.rs"]
mod sample;

use std::path::Path;

use mdm_core::catalogue::{check_command, declarations};
use mdm_core::ddm::{
    check_declaration, declaration_items, parse_declarative_checkin, parse_status_report,
    sync_command, tokens, Category, DeclarationError, Endpoint,
};
use sample::{sample_keys, Form};
use serde_json::{json, Value as Json};

#[test]
fn every_declaration_type_of_the_schema_is_accepted() {
    let catalogue = declarations();
    assert!(
        catalogue.declarations.len() >= 30,
        "{}",
        catalogue.declarations.len()
    );
    for (declaration_type, schema) in &catalogue.declarations {
        let payload = sample_keys(&schema.keys, Form::Declaration);
        let declaration =
            json!({"Type": declaration_type, "Identifier": "sample", "Payload": payload});
        let checked = check_declaration(&declaration)
            .unwrap_or_else(|e| panic!("{declaration_type}: {e}\n{declaration}"));
        assert!(
            Category::of(&checked.declaration_type).is_some(),
            "{declaration_type}"
        );
        assert_eq!(checked.server_token.len(), 32);
    }
}

#[test]
fn a_wrong_declaration_is_refused_with_the_key() {
    let cases = [
        (
            json!({"Type": "com.apple.configuration.passcode.settings", "Identifier": "pc",
                   "Payload": {"MinimumLength": "six"}}),
            "com.apple.configuration.passcode.settings: Payload.MinimumLength must be an integer, not a string",
        ),
        (
            json!({"Type": "com.apple.configuration.passcode.settings", "Identifier": "pc",
                   "Payload": {"MinimumLenght": 6}}),
            "com.apple.configuration.passcode.settings: unknown key Payload.MinimumLenght",
        ),
        (
            json!({"Type": "com.apple.activation.simple", "Identifier": "act", "Payload": {}}),
            "com.apple.activation.simple: Payload.StandardConfigurations is required",
        ),
        (
            json!({"Type": "com.apple.configuration.teleport", "Identifier": "x", "Payload": {}}),
            "unknown declaration Type \"com.apple.configuration.teleport\": not in Apple's declarative schema",
        ),
        (
            json!({"Type": "com.apple.activation.simple", "Identifier": "a/b", "Payload": {}}),
            "Identifier must be at most 128 bytes of printable text without '/'",
        ),
        (
            json!({"Type": "com.apple.activation.simple", "Identifier": "a"}),
            "the declaration needs Payload",
        ),
        (
            json!({"Type": "com.apple.activation.simple", "Identifier": "a", "Payload": {},
                   "Extra": 1}),
            "unknown key Extra (a declaration holds Type, Identifier, ServerToken and Payload)",
        ),
    ];
    for (declaration, expected) in cases {
        let error = check_declaration(&declaration).expect_err("refused");
        let message = error.to_string();
        assert!(
            message.starts_with(expected),
            "{declaration}\n  got: {message}"
        );
    }
    assert_eq!(
        check_declaration(&json!([])),
        Err(DeclarationError::NotAnObject)
    );
}

#[test]
fn the_server_token_changes_exactly_when_the_content_does() {
    let passcode = |payload: Json| {
        check_declaration(&json!({"Type": "com.apple.configuration.passcode.settings",
            "Identifier": "passcode", "Payload": payload}))
        .expect("valid")
    };
    let a = passcode(json!({"MinimumLength": 6, "RequirePasscode": true}));
    let same = passcode(json!({"RequirePasscode": true, "MinimumLength": 6}));
    let changed = passcode(json!({"MinimumLength": 8, "RequirePasscode": true}));
    assert_eq!(
        a.server_token, same.server_token,
        "key order is not content"
    );
    assert_ne!(a.server_token, changed.server_token);
    // A ServerToken sent with it is the server's to set.
    let sent = check_declaration(&json!({"Type": "com.apple.configuration.passcode.settings",
        "Identifier": "passcode", "ServerToken": "mine", "Payload": {"MinimumLength": 6, "RequirePasscode": true}}))
    .expect("valid");
    assert_eq!(sent.server_token, a.server_token);
}

#[test]
fn the_sync_documents_name_every_declaration_by_category() {
    let passcode = check_declaration(&json!({"Type": "com.apple.configuration.passcode.settings",
        "Identifier": "passcode", "Payload": {"MinimumLength": 6}}))
    .expect("valid");
    let activation = check_declaration(&json!({"Type": "com.apple.activation.simple",
        "Identifier": "all-iphones", "Payload": {"StandardConfigurations": ["passcode"]}}))
    .expect("valid");
    let items = declaration_items(&[passcode.clone(), activation.clone()]);
    assert_eq!(
        items["Declarations"]["Configurations"],
        json!([{"Identifier": "passcode", "ServerToken": passcode.server_token}])
    );
    assert_eq!(
        items["Declarations"]["Activations"],
        json!([{"Identifier": "all-iphones", "ServerToken": activation.server_token}])
    );
    assert_eq!(items["Declarations"]["Assets"], json!([]));
    assert_eq!(items["Declarations"]["Management"], json!([]));
    // The token ignores order and follows every change.
    let token = items["DeclarationsToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let reversed = declaration_items(&[activation.clone(), passcode]);
    assert_eq!(reversed["DeclarationsToken"], json!(token));
    let fewer = declaration_items(&[activation]);
    assert_ne!(fewer["DeclarationsToken"], json!(token));

    let body = tokens(&token, "2026-12-05T10:00:00Z");
    assert_eq!(
        body,
        json!({"SyncTokens": {"DeclarationsToken": token, "Timestamp": "2026-12-05T10:00:00Z"}})
    );
    // The command that makes a device sync is a valid DeclarativeManagement command.
    let command = sync_command(&body);
    check_command(&command).expect("a valid DeclarativeManagement command");
    let data = command["Data"].as_data().expect("data");
    assert_eq!(serde_json::from_slice::<Json>(data).expect("JSON"), body);
}

fn kmfddm(path: &str) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kmfddm");
    std::fs::read(root.join(path)).expect("the fixture")
}

/// A real status report (macOS, 2022): every declaration's state and reasons, and the status
/// items by the schema's names.
#[test]
fn a_real_status_report_parses_into_items_and_declaration_states() {
    let report = parse_status_report(&kmfddm(
        "ddm/testdata/A047820F-FC6B-4104-BED0-466876D82BB8.20220628-103225.001918.status.json",
    ))
    .expect("parses");
    let states: Vec<(Category, &str, bool, &str)> = report
        .declarations
        .iter()
        .map(|d| (d.category, &d.identifier[..8], d.active, d.valid.as_str()))
        .collect();
    assert_eq!(
        states,
        [
            (Category::Activation, "49F6F16A", true, "valid"),
            (Category::Configuration, "0FCD2F56", true, "invalid"),
            (Category::Configuration, "4D6F8451", true, "invalid"),
            (Category::Configuration, "85B5130A", true, "valid"),
            (Category::Management, "AF0E633E", false, "valid"),
        ]
    );
    let failed = &report.declarations[2];
    assert_eq!(failed.server_token, "ff4051a7-0ac2-517f-a54d-b5522289a85b");
    assert_eq!(failed.reasons[0].code, "Error.ConfigurationCannotBeApplied");
    assert_eq!(
        failed.reasons[0].details,
        Some(json!({"Error": "Profile Installation Failed"}))
    );
    // A status item the schema names is kept whole.
    let capabilities = &report.items["management.client-capabilities"];
    assert_eq!(capabilities["supported-versions"], json!(["1.0.0"]));
    assert!(report.items.contains_key("management.declarations"));
    assert!(report.errors.is_empty());
    assert!(!report.full_report);
}

#[test]
fn the_first_report_names_the_device_and_an_unreferenced_configuration_says_why() {
    let first = parse_status_report(&kmfddm("test/e2e/testdata/status.1st.json")).expect("parses");
    assert_eq!(
        first.items["device.identifier.udid"],
        json!("0000FE00-5FADE97DCBBBEDA5")
    );
    assert_eq!(
        first.items["device.operating-system.version"],
        json!("13.3.1")
    );
    assert_eq!(first.items["device.model.family"], json!("Mac"));
    assert!(first.declarations.is_empty());

    let error =
        parse_status_report(&kmfddm("test/e2e/testdata/status.D0.error.json")).expect("parses");
    let [configuration] = error.declarations.as_slice() else {
        panic!("{:?}", error.declarations);
    };
    assert_eq!(
        (
            configuration.identifier.as_str(),
            configuration.active,
            configuration.valid.as_str()
        ),
        ("com.example.test", false, "unknown")
    );
    assert_eq!(
        configuration.reasons[0].code,
        "Info.NotReferencedByActivation"
    );
}

#[test]
fn malformed_status_reports_are_refused() {
    for body in [
        &b"not json"[..],
        b"[]",
        b"{}",
        br#"{"StatusItems": [], "Errors": []}"#,
        br#"{"StatusItems": {"management": {"declarations": {"configurations": [{"identifier": "x"}]}}}, "Errors": []}"#,
        br#"{"StatusItems": {}, "Errors": [{"Reasons": []}]}"#,
    ] {
        assert!(
            parse_status_report(body).is_err(),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let deep = format!(
        r#"{{"StatusItems": {}1{}, "Errors": []}}"#,
        r#"{"a":"#.repeat(200),
        "}".repeat(200)
    );
    assert!(parse_status_report(deep.as_bytes()).is_err());
}

/// A `DeclarativeManagement` check-in as a device sends it.
fn checkin(endpoint: &str, data: Option<&[u8]>) -> Vec<u8> {
    let mut dict = plist::Dictionary::new();
    dict.insert("MessageType".into(), "DeclarativeManagement".into());
    dict.insert("UDID".into(), "0000FE00-5FADE97DCBBBEDA5".into());
    dict.insert("Endpoint".into(), endpoint.into());
    if let Some(data) = data {
        dict.insert("Data".into(), plist::Value::Data(data.to_vec()));
    }
    let mut xml = Vec::new();
    plist::Value::Dictionary(dict)
        .to_writer_xml(&mut xml)
        .expect("XML");
    xml
}

#[test]
fn a_declarative_checkin_names_its_endpoint() {
    let tokens = parse_declarative_checkin(&checkin("tokens", None)).expect("parses");
    assert_eq!(tokens.endpoint, Endpoint::Tokens);
    assert_eq!(
        tokens.ids.udid.as_deref(),
        Some("0000FE00-5FADE97DCBBBEDA5")
    );
    assert_eq!(
        parse_declarative_checkin(&checkin("declaration-items", None))
            .expect("parses")
            .endpoint,
        Endpoint::DeclarationItems
    );
    assert_eq!(
        parse_declarative_checkin(&checkin("declaration/configuration/passcode", None))
            .expect("parses")
            .endpoint,
        Endpoint::Declaration {
            category: Category::Configuration,
            identifier: "passcode".into()
        }
    );
    // A status check-in carries the report, which parses as one.
    let report = kmfddm("test/e2e/testdata/status.1st.json");
    let status = parse_declarative_checkin(&checkin("status", Some(&report))).expect("parses");
    assert_eq!(status.endpoint, Endpoint::Status);
    parse_status_report(&status.data.expect("the report")).expect("a status report");

    for wrong in [
        "declaration/configuration/../secret",
        "declaration/configuration/",
        "declaration/profile/x",
        "declaration/configuration",
        "Tokens",
        "",
    ] {
        assert!(
            parse_declarative_checkin(&checkin(wrong, None)).is_err(),
            "{wrong:?}"
        );
    }
    let long = format!("declaration/asset/{}", "a".repeat(129));
    assert!(parse_declarative_checkin(&checkin(&long, None)).is_err());
    // A status check-in without its report is refused, not stored as empty.
    assert!(parse_declarative_checkin(&checkin("status", None)).is_err());
}
