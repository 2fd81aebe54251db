use plist::Uid;

use super::*;
use crate::parse_plist_value;

const UUID: &str = "7e761ec5-9e20-42d1-9072-3d5a611e3ac5";

fn plist(inner: &str) -> Vec<u8> {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">{inner}</plist>")
        .into_bytes()
}

fn dict_of(entries: &[(&str, Value)]) -> Dictionary {
    entries
        .iter()
        .map(|(key, value)| (key.to_string(), value.clone()))
        .collect()
}

#[test]
fn parse_command_plist_accepts_any_request_type() {
    let command = parse_command_plist(&plist(
        "<dict><key>RequestType</key><string>ScheduleOSUpdate</string>\
         <key>Updates</key><array><dict><key>InstallAction</key>\
         <string>Default</string></dict></array></dict>",
    ))
    .expect("parse");
    assert_eq!(request_type_of(&command), Some("ScheduleOSUpdate"));
    assert!(command.get("Updates").and_then(Value::as_array).is_some());
}

#[test]
fn parse_command_plist_requires_request_type() {
    assert_eq!(
        parse_command_plist(&plist(
            "<dict><key>Identifier</key><string>x</string></dict>"
        )),
        Err(ParseError::MissingField("RequestType"))
    );
    assert_eq!(
        parse_command_plist(&plist(
            "<dict><key>RequestType</key><string></string></dict>"
        )),
        Err(ParseError::MissingField("RequestType"))
    );
    assert_eq!(
        parse_command_plist(&plist(
            "<dict><key>RequestType</key><integer>1</integer></dict>"
        )),
        Err(ParseError::WrongType {
            field: "RequestType",
            expected: "a string",
            found: "an integer"
        })
    );
    assert_eq!(
        parse_command_plist(&plist(
            "<dict><key>RequestType</key><string>Device&#10;Lock</string></dict>"
        )),
        Err(ParseError::IdControlCharacter {
            field: "RequestType"
        })
    );
    // The full {Command, CommandUUID} form is not a bare command.
    assert_eq!(
        parse_command_plist(&plist(&format!(
            "<dict><key>Command</key><dict><key>RequestType</key>\
             <string>ProfileList</string></dict><key>CommandUUID</key><string>{UUID}</string></dict>"
        ))),
        Err(ParseError::MissingField("RequestType"))
    );
}

#[test]
fn parse_command_plist_rejects_non_dictionaries_and_garbage() {
    assert_eq!(
        parse_command_plist(&plist("<array><string>DeviceLock</string></array>")),
        Err(ParseError::NotADictionary { found: "an array" })
    );
    assert_eq!(
        parse_command_plist(&plist("<string>DeviceLock</string>")),
        Err(ParseError::NotADictionary { found: "a string" })
    );
    assert_eq!(parse_command_plist(b""), Err(ParseError::EmptyBody));
    assert_eq!(
        parse_command_plist(b"{\"RequestType\":\"DeviceLock\"}"),
        Err(ParseError::NotAPlist)
    );
    assert!(matches!(
        parse_command_plist(b"<plist><dict><key>RequestType</key>"),
        Err(ParseError::MalformedXml { .. })
    ));
    assert!(parse_command_plist(b"bplist00garbage").is_err());
}

#[test]
fn parse_full_command_reads_both_parts() {
    let (command, uuid) = parse_full_command(&plist(&format!(
        "<dict><key>Command</key><dict><key>RequestType</key><string>ProfileList</string>\
         </dict><key>CommandUUID</key><string>{UUID}</string></dict>"
    )))
    .expect("parse");
    assert_eq!(request_type_of(&command), Some("ProfileList"));
    assert_eq!(uuid.as_deref(), Some(UUID));

    let (_, uuid) = parse_full_command(&plist(
        "<dict><key>Command</key><dict><key>RequestType</key><string>ProfileList</string>\
         </dict></dict>",
    ))
    .expect("parse");
    assert_eq!(uuid, None);
}

#[test]
fn parse_full_command_errors() {
    assert_eq!(
        parse_full_command(&plist(
            "<dict><key>RequestType</key><string>ProfileList</string></dict>"
        )),
        Err(ParseError::MissingField("Command"))
    );
    assert_eq!(
        parse_full_command(&plist(
            "<dict><key>Command</key><string>ProfileList</string></dict>"
        )),
        Err(ParseError::WrongType {
            field: "Command",
            expected: "a dictionary",
            found: "a string"
        })
    );
    assert_eq!(
        parse_full_command(&plist("<dict><key>Command</key><dict/></dict>")),
        Err(ParseError::MissingField("RequestType"))
    );
    assert_eq!(
        parse_full_command(&plist(
            "<dict><key>Command</key><dict><key>RequestType</key><string>ProfileList</string>\
             </dict><key>CommandUUID</key><integer>4</integer></dict>"
        )),
        Err(ParseError::WrongType {
            field: "CommandUUID",
            expected: "a string",
            found: "an integer"
        })
    );
    assert_eq!(
        parse_full_command(&plist("<array/>")),
        Err(ParseError::NotADictionary { found: "an array" })
    );
}

#[test]
fn request_type_of_reads_only_non_empty_strings() {
    let command = dict_of(&[("RequestType", Value::String("DeviceLock".into()))]);
    assert_eq!(request_type_of(&command), Some("DeviceLock"));
    assert_eq!(request_type_of(&Dictionary::new()), None);
    let empty = dict_of(&[("RequestType", Value::String(String::new()))]);
    assert_eq!(request_type_of(&empty), None);
    let number = dict_of(&[("RequestType", Value::Integer(3.into()))]);
    assert_eq!(request_type_of(&number), None);
}

#[test]
fn render_command_round_trips() {
    let command = dict_of(&[
        ("RequestType", Value::String("Settings".into())),
        (
            "Settings",
            Value::Array(vec![Value::Dictionary(dict_of(&[
                ("Item", Value::String("DeviceName".into())),
                ("DeviceName", Value::String("Lab <3> & co".into())),
            ]))]),
        ),
        ("Blob", Value::Data(vec![0, 255, 7])),
    ]);
    let body = render_command(&command, UUID);
    let text = std::str::from_utf8(&body).expect("UTF-8");
    assert!(text.starts_with("<?xml"), "{text}");
    assert!(text.contains("<key>CommandUUID</key>"), "{text}");
    let (parsed, uuid) = parse_full_command(&body).expect("parse back");
    assert_eq!(parsed, command);
    assert_eq!(uuid.as_deref(), Some(UUID));
}

#[test]
fn render_command_writes_uids_as_integers() {
    let command = dict_of(&[
        ("RequestType", Value::String("Odd".into())),
        (
            "Nested",
            Value::Array(vec![Value::Dictionary(dict_of(&[(
                "Ref",
                Value::Uid(Uid::new(42)),
            )]))]),
        ),
    ]);
    let body = render_command(&command, UUID);
    let (parsed, _) = parse_full_command(&body).expect("parse back");
    let nested = parsed
        .get("Nested")
        .and_then(Value::as_array)
        .and_then(|items| items.first())
        .and_then(Value::as_dictionary)
        .and_then(|d| d.get("Ref"));
    assert_eq!(nested, Some(&Value::Integer(42.into())));
}

#[test]
fn destructive_request_types() {
    for request_type in ["EraseDevice", "DeviceLock", "ClearPasscode"] {
        assert!(is_destructive(request_type), "{request_type}");
    }
    for request_type in DESTRUCTIVE_REQUEST_TYPES {
        assert!(is_destructive(request_type), "{request_type}");
    }
    for request_type in [
        "DeviceInformation",
        "SecurityInfo",
        "ProfileList",
        "InstallProfile",
        "RemoveProfile",
        "RestartDevice",
        "ShutDownDevice",
        "DisableLostMode",
        "erasedevice",
        "EraseDevice ",
        "",
    ] {
        assert!(!is_destructive(request_type), "{request_type:?}");
    }
}

#[test]
fn destructive_typed_commands_agree() {
    let specs = [
        (r#"{"request_type":"EraseDevice"}"#, true),
        (r#"{"request_type":"DeviceLock"}"#, true),
        (r#"{"request_type":"ClearPasscode"}"#, true),
        (r#"{"request_type":"RestartDevice"}"#, false),
        (r#"{"request_type":"ProfileList"}"#, false),
    ];
    for (json, destructive) in specs {
        let spec: CommandSpec = serde_json::from_str(json).expect("deserialize");
        assert_eq!(is_destructive(spec.request_type()), destructive, "{json}");
    }
}

#[test]
fn with_unlock_token_adds_data() {
    let spec: CommandSpec =
        serde_json::from_str(r#"{"request_type":"ClearPasscode"}"#).expect("deserialize");
    let command = spec.to_command().expect("to_command");
    let with_token = with_unlock_token(&command, &[0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(
        command.get("UnlockToken"),
        None,
        "the original is unchanged"
    );
    assert_eq!(
        with_token.get("UnlockToken"),
        Some(&Value::Data(vec![0xde, 0xad, 0xbe, 0xef]))
    );
    assert_eq!(request_type_of(&with_token), Some("ClearPasscode"));

    let body = render_command(&with_token, UUID);
    let text = std::str::from_utf8(&body).expect("UTF-8");
    assert!(
        text.contains("<key>UnlockToken</key>") && text.contains("<data>"),
        "{text}"
    );
    assert!(text.contains("3q2+7w=="), "{text}");
    let Value::Dictionary(outer) = parse_plist_value(&body).expect("parse back") else {
        panic!("not a dictionary");
    };
    let token = outer
        .get("Command")
        .and_then(Value::as_dictionary)
        .and_then(|c| c.get("UnlockToken"));
    assert_eq!(token, Some(&Value::Data(vec![0xde, 0xad, 0xbe, 0xef])));

    // A token already present is replaced, not duplicated.
    let again = with_unlock_token(&with_token, &[1]);
    assert_eq!(again.get("UnlockToken"), Some(&Value::Data(vec![1])));
    assert_eq!(again.len(), 2);
}
