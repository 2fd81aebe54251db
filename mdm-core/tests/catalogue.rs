//! The command catalogue: generated from Apple's schema without drift, every request type
//! buildable and accepted, and every kind of mistake refused with a message that names the key.

#[path = "catalogue_support/generate.rs"]
mod generate;
#[path = "catalogue_support/sample.rs"]
mod sample;

use std::path::{Path, PathBuf};

use mdm_core::catalogue::{
    catalogue, check_command, declarations, Catalogue, Platform, Target, CATALOGUE_JSON,
    DECLARATIONS_JSON, SERVER_SUPPLIED,
};
use mdm_core::commands::{command_from_json, parse_command_plist};
use sample::{sample_keys, Form};
use serde_json::{json, Map, Value as Json};

fn schema_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/apple-device-management")
}

/// Fails, having written the new one, when the shipped catalogue `file` (`shipped`) is not what
/// the generator made of the YAML in the repository: the change is seen and committed.
fn check_generated(generated: &impl serde::Serialize, shipped: &str, file: &str) {
    let text = serde_json::to_string_pretty(generated).expect("JSON") + "\n";
    if text != shipped {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("catalogue")
            .join(file);
        std::fs::write(&path, &text).expect("the catalogue is writable");
        panic!(
            "{} was stale and has been regenerated from the schema: rebuild and commit it",
            path.display()
        );
    }
}

#[test]
fn catalogue_is_generated_from_apples_schema() {
    let generated = generate::generate(&schema_root());
    check_generated(&generated, CATALOGUE_JSON, "commands.json");
    assert_eq!(catalogue(), &generated);
}

/// The same for the declaration types of Declarative Device Management.
#[test]
fn declaration_catalogue_is_generated_from_apples_schema() {
    let generated = generate::generate_declarations(&schema_root());
    check_generated(&generated, DECLARATIONS_JSON, "declarations.json");
    assert_eq!(declarations(), &generated);
    assert!(declarations()
        .declarations
        .contains_key("com.apple.configuration.passcode.settings"));
    assert!(declarations()
        .status_items
        .contains(&"management.declarations".to_owned()));
}

#[test]
fn the_catalogue_holds_every_command_of_the_schema() {
    let catalogue = catalogue();
    assert_eq!(catalogue.commands.len(), 66);
    let lock = &catalogue.commands["DeviceLock"];
    assert_eq!(lock.platforms[&Platform::Ios].introduced, "4.0");
    assert!(!lock.platforms.contains_key(&Platform::TvOs));
    let keys: Vec<&str> = lock.keys.iter().map(|k| k.key.as_str()).collect();
    assert_eq!(keys, ["Message", "PhoneNumber", "PIN"]);
    assert!(catalogue.commands["EnableLostMode"].platforms[&Platform::Ios].supervised);
    assert!(
        catalogue.source.contains("iOS 18.1"),
        "{}",
        catalogue.source
    );
}

/// Every request type, with every key it knows, goes from the API's JSON to a plist and back
/// unchanged, and the catalogue (and its JSON Schema) accepts it; so does each with only its
/// required keys.
#[test]
fn every_command_in_the_schema_builds_and_round_trips() {
    let json_schema = catalogue().json_schema();
    for (request_type, schema) in &catalogue().commands {
        let mut everything = sample_keys(&schema.keys, Form::Command);
        for (_, key) in SERVER_SUPPLIED.iter().filter(|(t, _)| t == request_type) {
            everything.remove(*key);
        }
        let required: Map<String, Json> = everything
            .iter()
            .filter(|(k, _)| schema.keys.iter().any(|s| s.required && &s.key == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let variant = json_schema["oneOf"]
            .as_array()
            .expect("oneOf")
            .iter()
            .find(|v| v["title"] == json!(request_type))
            .unwrap_or_else(|| panic!("{request_type} has no JSON Schema"));
        let validator = jsonschema::validator_for(variant).expect("a valid JSON Schema");
        for keys in [everything, required] {
            let mut command = keys;
            command.insert("RequestType".into(), json!(request_type));
            let errors: Vec<String> = validator
                .iter_errors(&Json::Object(command.clone()))
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{request_type}: JSON Schema: {errors:?}");
            let dict = command_from_json(&Json::Object(command.clone()))
                .unwrap_or_else(|e| panic!("{request_type}: {e}"));
            let mut xml = Vec::new();
            plist::Value::Dictionary(dict.clone())
                .to_writer_xml(&mut xml)
                .expect("XML");
            let parsed = parse_command_plist(&xml).expect("parses");
            assert_eq!(parsed, dict, "{request_type}");
            let checked = check_command(&parsed)
                .unwrap_or_else(|e| panic!("{request_type} {command:?}: {e}"));
            assert_eq!(&checked.request_type, request_type);
        }
    }
}

fn refusal(command: Json) -> String {
    let dict = command_from_json(&command).expect("well-formed JSON command");
    match check_command(&dict) {
        Ok(schema) => panic!("{} accepted: {command}", schema.request_type),
        Err(error) => error.to_string(),
    }
}

/// Each kind of mistake, with the exact message an administrator sees.
#[test]
fn mistakes_are_refused_with_the_key_and_what_was_expected() {
    let cases = [
        (
            json!({"RequestType": "DeviceLok"}),
            r#"unknown RequestType "DeviceLok": not in Apple's device-management schema (did you mean DeviceLock?)"#,
        ),
        (
            json!({"RequestType": "MakeCoffee"}),
            r#"unknown RequestType "MakeCoffee": not in Apple's device-management schema"#,
        ),
        (
            json!({"RequestType": "DeviceLock", "Pin": "123456"}),
            "DeviceLock: unknown key Pin (allowed there: Message, PhoneNumber, PIN)",
        ),
        (
            json!({"RequestType": "RestartDevice", "Message": "hi"}),
            "RestartDevice: unknown key Message (allowed there: RebuildKernelCache, KextPaths, NotifyUser)",
        ),
        (
            json!({"RequestType": "DeviceLock", "PIN": "1234"}),
            r#"DeviceLock: PIN must be six digits, not "1234""#,
        ),
        (
            json!({"RequestType": "DeviceLock", "PIN": 123456}),
            "DeviceLock: PIN must be a string, not an integer",
        ),
        (
            json!({"RequestType": "ClearPasscode", "UnlockToken": {"$data": "AAEC"}}),
            "ClearPasscode: UnlockToken is added by the server as the command leaves; do not send it",
        ),
        (
            json!({"RequestType": "RemoveProfile"}),
            "RemoveProfile: Identifier is required",
        ),
        (
            json!({"RequestType": "Settings", "Settings": [
                {"Item": "Wallpaper", "Image": {"$data": "AAEC"}, "Where": 4}
            ]}),
            "Settings: Settings[0].Where must be one of 1, 2, 3, not 4",
        ),
        (
            json!({"RequestType": "Settings", "Settings": [{"Item": "Bluetooth", "Enabled": "yes"}]}),
            "Settings: Settings[0].Enabled must be a boolean, not a string",
        ),
        (
            json!({"RequestType": "Settings", "Settings": [{"Item": "Teleport"}]}),
            "Settings: Settings[0] matches none of the forms allowed there (Wallpaper, DataRoaming, VoiceRoaming, PersonalHotspot, Bluetooth, ApplicationConfiguration, ApplicationAttributes, DeviceName, HostName, OrganizationInfo, MDMOptions, MaximumResidentUsers, and 7 more)",
        ),
        (
            json!({"RequestType": "DeviceInformation", "Queries": "OSVersion"}),
            "DeviceInformation: Queries must be an array, not a string",
        ),
    ];
    let mut failures = Vec::new();
    for (command, expected) in cases {
        let got = refusal(command.clone());
        if got != expected {
            failures.push(format!(
                "{command}\n  expected: {expected}\n  got:      {got}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The queries the schema names are known values, not a closed set: devices answer more
    // (a macOS capture answers `Languages`), and leave out what they do not know.
    let more = json!({"RequestType": "DeviceInformation", "Queries": ["OSVersion", "Languages"]});
    assert!(check_command(&command_from_json(&more).expect("JSON")).is_ok());
}

/// What the server knows of a device decides whether a command may go to it.
#[test]
fn a_command_the_device_cannot_run_is_named_with_the_reason() {
    let catalogue: &Catalogue = catalogue();
    let iphone = |version| Target {
        platform: Some(Platform::Ios),
        os_version: Some(version),
        supervised: Some(false),
        user_channel: false,
    };
    let cases = [
        (
            "DeviceLock",
            Target {
                platform: Some(Platform::TvOs),
                ..iphone("17.0")
            },
            Some("DeviceLock does not run on tvOS"),
        ),
        (
            "EnableRemoteDesktop",
            iphone("17.0"),
            Some("EnableRemoteDesktop does not run on iOS"),
        ),
        (
            "EnableLostMode",
            iphone("17.0"),
            Some("EnableLostMode runs only on supervised devices; this one is not supervised"),
        ),
        (
            "EnableLostMode",
            Target {
                supervised: Some(true),
                ..iphone("9.2")
            },
            Some("EnableLostMode needs iOS 9.3 or later; the device runs iOS 9.2"),
        ),
        (
            "EnableLostMode",
            Target {
                supervised: Some(true),
                ..iphone("9.3")
            },
            None,
        ),
        (
            "EraseDevice",
            Target {
                platform: Some(Platform::MacOs),
                user_channel: true,
                ..iphone("14.0")
            },
            Some("EraseDevice is not taken on a user channel"),
        ),
        ("DeviceLock", Target::default(), None),
    ];
    for (request_type, target, expected) in cases {
        let got = catalogue.commands[request_type].unsupported_on(&target);
        assert_eq!(got.as_deref(), expected, "{request_type} {target:?}");
    }
}

/// The JSON Schema refuses what the checker refuses, so a client that validates with it finds
/// the same mistakes before sending.
#[test]
fn the_json_schema_refuses_mistakes_too() {
    let json_schema = catalogue().json_schema();
    let validator = jsonschema::validator_for(&json_schema).expect("a valid JSON Schema");
    assert!(validator.is_valid(&json!({"RequestType": "DeviceLock", "PIN": "123456"})));
    for wrong in [
        json!({"RequestType": "DeviceLock", "Pin": "123456"}),
        json!({"RequestType": "DeviceLock", "PIN": 123456}),
        json!({"RequestType": "RemoveProfile"}),
        json!({"RequestType": "ClearPasscode", "UnlockToken": {"$data": "AAEC"}}),
        json!({"RequestType": "InstallProfile", "Payload": "AAEC"}),
        json!({"RequestType": "MakeCoffee"}),
    ] {
        assert!(!validator.is_valid(&wrong), "{wrong}");
    }
}

/// Every acknowledged result among the real device captures has, for each key Apple's schema
/// documents for its request type, the documented type, but for one known disagreement.
#[test]
fn real_results_match_the_schemas_response_keys() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/commandment/testdata");
    let mut checked = 0;
    let mut failures = Vec::new();
    for (request_type, schema) in &catalogue().commands {
        let Ok(entries) = std::fs::read_dir(root.join(request_type)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                continue;
            }
            let bytes = std::fs::read(&path).expect("a readable capture");
            // Two captures hold invalid base64 on purpose (fixtures/README.md): not results.
            let Ok(plist::Value::Dictionary(report)) = mdm_core::parse_plist_value(&bytes) else {
                continue;
            };
            if report.get("Status").and_then(plist::Value::as_string) != Some("Acknowledged") {
                continue;
            }
            checked += 1;
            if let Err(error) = schema.check_result(&report) {
                failures.push(format!("{}: {error}", path.display()));
            }
        }
    }
    // Where real devices and Apple's schema disagree, the devices win: macOS 10.11 and 10.13
    // report PreviousScanResult as an integer, which the schema types as a string.
    let deviations: Vec<&str> = failures
        .iter()
        .filter(|f| {
            !f.ends_with(
                "DeviceInformation: QueryResponses.OSUpdateSettings.PreviousScanResult \
                 must be a string, not an integer",
            )
        })
        .map(String::as_str)
        .collect();
    assert!(deviations.is_empty(), "{}", deviations.join("\n"));
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(checked >= 10, "only {checked} results checked");
}
