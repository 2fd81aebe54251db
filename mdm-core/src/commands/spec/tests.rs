use super::*;
use crate::commands::render_command;
use crate::parse_plist_value;

const UUID: &str = "0a40830d-1cf9-4a00-a153-d8294e576c3f";

fn spec(json: &str) -> CommandSpec {
    serde_json::from_str(json).expect("deserialize")
}

fn spec_error(json: &str) -> String {
    match serde_json::from_str::<CommandSpec>(json) {
        Ok(spec) => panic!("{json} deserialized to {spec:?}"),
        Err(err) => err.to_string(),
    }
}

/// Deserializes, renders and parses back with the crate's own parser; returns the `Command`
/// dictionary after checking the envelope.
fn round_trip(json: &str) -> Dictionary {
    let command = spec(json).to_command().expect("to_command");
    let rendered = render_command(&command, UUID);
    let Value::Dictionary(mut outer) = parse_plist_value(&rendered).expect("parse back") else {
        panic!("not a dictionary");
    };
    assert_eq!(outer.len(), 2, "{json}: only Command and CommandUUID");
    assert_eq!(
        outer.get("CommandUUID").and_then(Value::as_string),
        Some(UUID)
    );
    let Some(Value::Dictionary(parsed)) = outer.remove("Command") else {
        panic!("{json}: no Command dictionary");
    };
    assert_eq!(
        parsed, command,
        "{json}: the rendered command reads back unchanged"
    );
    parsed
}

fn string<'a>(dict: &'a Dictionary, key: &str) -> Option<&'a str> {
    dict.get(key).and_then(Value::as_string)
}

fn keys(dict: &Dictionary) -> Vec<&str> {
    let mut keys: Vec<&str> = dict.keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

#[test]
fn requests_without_keys() {
    for request_type in [
        "SecurityInfo",
        "ProfileList",
        "CertificateList",
        "ProvisioningProfileList",
        "ClearPasscode",
        "RestartDevice",
        "ShutDownDevice",
    ] {
        let json = format!(r#"{{"request_type":"{request_type}"}}"#);
        assert_eq!(spec(&json).request_type(), request_type);
        let command = round_trip(&json);
        assert_eq!(keys(&command), ["RequestType"], "{request_type}");
        assert_eq!(string(&command, "RequestType"), Some(request_type));
        // Serializing gives back the JSON an administrator would send.
        assert_eq!(
            serde_json::to_string(&spec(&json)).expect("serialize"),
            json
        );
    }
}

#[test]
fn device_information_with_queries() {
    let command =
        round_trip(r#"{"request_type":"DeviceInformation","queries":["UDID","OSVersion"]}"#);
    assert_eq!(string(&command, "RequestType"), Some("DeviceInformation"));
    assert_eq!(
        command.get("Queries"),
        Some(&Value::Array(vec![
            Value::String("UDID".into()),
            Value::String("OSVersion".into())
        ]))
    );
}

#[test]
fn device_information_defaults_its_queries() {
    for json in [
        r#"{"request_type":"DeviceInformation"}"#,
        r#"{"request_type":"DeviceInformation","queries":[]}"#,
    ] {
        let command = round_trip(json);
        let queries: Vec<&str> = command
            .get("Queries")
            .and_then(Value::as_array)
            .expect("Queries")
            .iter()
            .filter_map(Value::as_string)
            .collect();
        assert_eq!(queries, DEFAULT_DEVICE_INFORMATION_QUERIES);
        assert!(queries.contains(&"SerialNumber") && queries.contains(&"IsSupervised"));
    }
}

#[test]
fn device_information_rejects_empty_queries() {
    let err = spec(r#"{"request_type":"DeviceInformation","queries":["UDID",""]}"#).to_command();
    assert!(
        matches!(
            err,
            Err(ParseError::InvalidField {
                field: "Queries",
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn installed_application_list() {
    let command = round_trip(
        r#"{"request_type":"InstalledApplicationList","managed_apps_only":true,
            "identifiers":["com.example.a","com.example.b"]}"#,
    );
    assert_eq!(
        keys(&command),
        ["Identifiers", "ManagedAppsOnly", "RequestType"]
    );
    assert_eq!(command.get("ManagedAppsOnly"), Some(&Value::Boolean(true)));
    assert_eq!(
        command
            .get("Identifiers")
            .and_then(Value::as_array)
            .map(Vec::len),
        Some(2)
    );

    let command = round_trip(r#"{"request_type":"InstalledApplicationList"}"#);
    assert_eq!(keys(&command), ["RequestType"]);
}

#[test]
fn install_profile_carries_data() {
    // "Zm9vYmFyYmF6" is "foobarbaz", the payload of the micromdm InstallProfile fixture.
    let json = r#"{"request_type":"InstallProfile","payload":"Zm9vYmFyYmF6"}"#;
    let command = round_trip(json);
    assert_eq!(string(&command, "RequestType"), Some("InstallProfile"));
    assert_eq!(
        command.get("Payload"),
        Some(&Value::Data(b"foobarbaz".to_vec()))
    );
    let rendered = render_command(&command, UUID);
    let text = String::from_utf8(rendered).expect("UTF-8");
    assert!(text.contains("<key>Payload</key>"), "{text}");
    assert!(text.contains("Zm9vYmFyYmF6"), "{text}");
    // Serializing writes the bytes back as base64.
    assert_eq!(serde_json::to_string(&spec(json)).expect("serialize"), json);
}

#[test]
fn install_profile_payload_must_be_base64_and_non_empty() {
    let err = spec_error(r#"{"request_type":"InstallProfile","payload":"not base64!"}"#);
    assert!(err.contains("invalid base64"), "{err}");
    let err = spec_error(r#"{"request_type":"InstallProfile","payload":12}"#);
    assert!(err.contains("base64 string"), "{err}");
    let err = spec_error(r#"{"request_type":"InstallProfile"}"#);
    assert!(err.contains("missing field `payload`"), "{err}");
    assert_eq!(
        spec(r#"{"request_type":"InstallProfile","payload":""}"#).to_command(),
        Err(ParseError::MissingField("Payload"))
    );
}

#[test]
fn base64_is_read_like_plist_data() {
    // Wrapped text and the non-canonical padding devices send are both accepted.
    let CommandSpec::InstallProfile { payload } =
        spec("{\"request_type\":\"InstallProfile\",\"payload\":\"Zm9v\\nYmFy=\"}")
    else {
        panic!("not InstallProfile");
    };
    assert_eq!(payload.as_bytes(), b"foobar");
    assert_eq!(format!("{payload:?}"), "Base64Bytes(6 bytes)");
}

#[test]
fn remove_profile() {
    let command = round_trip(r#"{"request_type":"RemoveProfile","identifier":"com.example.wifi"}"#);
    assert_eq!(string(&command, "Identifier"), Some("com.example.wifi"));
    for empty in ["", "  "] {
        let json = format!(r#"{{"request_type":"RemoveProfile","identifier":"{empty}"}}"#);
        assert_eq!(
            spec(&json).to_command(),
            Err(ParseError::MissingField("Identifier"))
        );
    }
    let err = spec_error(r#"{"request_type":"RemoveProfile"}"#);
    assert!(err.contains("missing field `identifier`"), "{err}");
}

#[test]
fn install_provisioning_profile() {
    let command =
        round_trip(r#"{"request_type":"InstallProvisioningProfile","profile":"AAECAw=="}"#);
    assert_eq!(
        command.get("ProvisioningProfile"),
        Some(&Value::Data(vec![0, 1, 2, 3]))
    );
    assert_eq!(keys(&command), ["ProvisioningProfile", "RequestType"]);
    assert_eq!(
        spec(r#"{"request_type":"InstallProvisioningProfile","profile":""}"#).to_command(),
        Err(ParseError::MissingField("ProvisioningProfile"))
    );
}

#[test]
fn device_lock() {
    let command = round_trip(
        r#"{"request_type":"DeviceLock","pin":"123456","message":"Lost",
            "phone_number":"+1 555 0100"}"#,
    );
    assert_eq!(
        keys(&command),
        ["Message", "PIN", "PhoneNumber", "RequestType"]
    );
    assert_eq!(string(&command, "RequestType"), Some("DeviceLock"));
    assert_eq!(string(&command, "PIN"), Some("123456"));
    assert_eq!(string(&command, "Message"), Some("Lost"));
    assert_eq!(string(&command, "PhoneNumber"), Some("+1 555 0100"));

    // Everything is optional; empty strings count as absent.
    let command = round_trip(r#"{"request_type":"DeviceLock"}"#);
    assert_eq!(keys(&command), ["RequestType"]);
    let command = round_trip(r#"{"request_type":"DeviceLock","pin":"","message":""}"#);
    assert_eq!(keys(&command), ["RequestType"]);
}

#[test]
fn device_lock_message_is_escaped_and_checked() {
    let command =
        round_trip(r#"{"request_type":"DeviceLock","message":"Call <Ops> & \"IT\"\nthanks"}"#);
    assert_eq!(
        string(&command, "Message"),
        Some("Call <Ops> & \"IT\"\nthanks")
    );
    let err = spec(r#"{"request_type":"DeviceLock","message":"a\u0000b"}"#).to_command();
    assert!(
        matches!(
            err,
            Err(ParseError::InvalidField {
                field: "Message",
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn erase_device() {
    let command =
        round_trip(r#"{"request_type":"EraseDevice","pin":"000000","preserve_data_plan":true}"#);
    assert_eq!(keys(&command), ["PIN", "PreserveDataPlan", "RequestType"]);
    assert_eq!(string(&command, "PIN"), Some("000000"));
    assert_eq!(command.get("PreserveDataPlan"), Some(&Value::Boolean(true)));

    let command = round_trip(r#"{"request_type":"EraseDevice"}"#);
    assert_eq!(keys(&command), ["RequestType"]);
}

#[test]
fn pins_are_six_digits() {
    for bad in [
        "12345",
        "1234567",
        "12345a",
        "１２３４５６",
        " 12345",
        "12 456",
        "-12345",
    ] {
        for request_type in ["DeviceLock", "EraseDevice"] {
            let json = serde_json::json!({ "request_type": request_type, "pin": bad });
            let spec: CommandSpec = serde_json::from_value(json).expect("deserialize");
            let err = spec.to_command();
            match &err {
                Err(ParseError::InvalidField {
                    field: "PIN",
                    reason,
                }) => {
                    assert!(reason.contains("6 digits"), "{reason}");
                }
                _ => panic!("{request_type} PIN {bad:?}: {err:?}"),
            }
        }
    }
    let err = spec(r#"{"request_type":"DeviceLock","pin":"12"}"#)
        .to_command()
        .expect_err("short PIN");
    assert_eq!(
        err.to_string(),
        "the key PIN is invalid: must be exactly 6 digits (0-9)"
    );
}

#[test]
fn unknown_fields_are_rejected() {
    let err = spec_error(r#"{"request_type":"DeviceLock","pin":"123456","pinn":"1"}"#);
    assert!(err.contains("unknown field `pinn`"), "{err}");
    let err = spec_error(r#"{"request_type":"SecurityInfo","queries":["UDID"]}"#);
    assert!(err.contains("unknown field `queries`"), "{err}");
    // The server adds the UnlockToken; the administrator cannot.
    let err = spec_error(r#"{"request_type":"ClearPasscode","unlock_token":"AAAA"}"#);
    assert!(err.contains("unknown field `unlock_token`"), "{err}");
    // Apple's key names are not the JSON field names.
    let err = spec_error(r#"{"request_type":"DeviceLock","PIN":"123456"}"#);
    assert!(err.contains("unknown field `PIN`"), "{err}");
}

#[test]
fn unknown_or_missing_request_types_are_rejected() {
    let err = spec_error(r#"{"request_type":"FormatHardDrive"}"#);
    assert!(err.contains("unknown variant `FormatHardDrive`"), "{err}");
    assert!(
        err.contains("DeviceInformation"),
        "lists the known ones: {err}"
    );
    let err = spec_error(r#"{"request_type":"devicelock"}"#);
    assert!(err.contains("unknown variant `devicelock`"), "{err}");
    let err = spec_error(r#"{"pin":"123456"}"#);
    assert!(err.contains("missing field `request_type`"), "{err}");
    let err = spec_error(r#"{"request_type":7}"#);
    assert!(!err.is_empty());
    let err = spec_error(r#""DeviceLock""#);
    assert!(err.contains("invalid type"), "{err}");
}

#[test]
fn wrong_field_types_are_rejected() {
    let err = spec_error(r#"{"request_type":"EraseDevice","preserve_data_plan":"yes"}"#);
    assert!(err.contains("invalid type"), "{err}");
    let err = spec_error(r#"{"request_type":"DeviceLock","pin":123456}"#);
    assert!(err.contains("invalid type"), "{err}");
}

#[test]
fn json_round_trips_through_serde() {
    for json in [
        r#"{"request_type":"DeviceInformation","queries":["UDID"]}"#,
        r#"{"request_type":"InstalledApplicationList","managed_apps_only":false,"identifiers":["a"]}"#,
        r#"{"request_type":"InstallProvisioningProfile","profile":"AAECAw=="}"#,
        r#"{"request_type":"RemoveProfile","identifier":"com.example"}"#,
        r#"{"request_type":"DeviceLock","pin":"123456","message":"Lost","phone_number":"1"}"#,
        r#"{"request_type":"EraseDevice","pin":"123456","preserve_data_plan":true}"#,
    ] {
        assert_eq!(serde_json::to_string(&spec(json)).expect("serialize"), json);
    }
}
