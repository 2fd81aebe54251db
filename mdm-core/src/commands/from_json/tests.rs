use serde_json::json;

use super::*;
use crate::commands::{parse_full_command, render_command, request_type_of};

fn invalid_at(result: Result<Dictionary, ParseError>) -> (String, String) {
    match result {
        Err(ParseError::InvalidJson { path, reason }) => (path, reason),
        other => panic!("expected InvalidJson, got {other:?}"),
    }
}

#[test]
fn scalars_map_to_plist_types() {
    let command = command_from_json(&json!({
        "RequestType": "Settings",
        "Text": "hello",
        "Yes": true,
        "No": false,
        "Negative": -5,
        "Big": u64::MAX,
        "Half": 0.5,
    }))
    .expect("convert");
    assert_eq!(request_type_of(&command), Some("Settings"));
    assert_eq!(command.get("Text"), Some(&Value::String("hello".into())));
    assert_eq!(command.get("Yes"), Some(&Value::Boolean(true)));
    assert_eq!(command.get("No"), Some(&Value::Boolean(false)));
    assert_eq!(command.get("Negative"), Some(&Value::Integer((-5).into())));
    assert_eq!(command.get("Big"), Some(&Value::Integer(u64::MAX.into())));
    assert_eq!(command.get("Half"), Some(&Value::Real(0.5)));
}

#[test]
fn data_and_dates() {
    let command = command_from_json(&json!({
        "RequestType": "InstallProfile",
        "Payload": { "$data": "Zm9vYmFyYmF6" },
        "When": { "$date": "2016-11-03T03:12:26Z" },
        "Offset": { "$date": "2016-11-03T05:12:26+02:00" },
    }))
    .expect("convert");
    assert_eq!(
        command.get("Payload"),
        Some(&Value::Data(b"foobarbaz".to_vec()))
    );
    let when = command.get("When").and_then(Value::as_date).expect("date");
    assert_eq!(when.to_xml_format(), "2016-11-03T03:12:26Z");
    assert_eq!(command.get("Offset"), command.get("When"));

    // Rendered, they are <data> and <date>, and read back the same.
    let body = render_command(&command, "u-1");
    let text = std::str::from_utf8(&body).expect("UTF-8");
    assert!(
        text.contains("<data>") && text.contains("Zm9vYmFyYmF6"),
        "{text}"
    );
    assert!(text.contains("<date>2016-11-03T03:12:26Z</date>"), "{text}");
    let (parsed, _) = parse_full_command(&body).expect("parse back");
    assert_eq!(parsed, command);
}

#[test]
fn only_single_key_objects_are_special() {
    let command = command_from_json(&json!({
        "RequestType": "X",
        "NotData": { "$data": "AAAA", "Other": 1 },
    }))
    .expect("convert");
    let not_data = command
        .get("NotData")
        .and_then(Value::as_dictionary)
        .expect("a dictionary");
    assert_eq!(not_data.get("$data"), Some(&Value::String("AAAA".into())));
    assert_eq!(not_data.get("Other"), Some(&Value::Integer(1.into())));
}

#[test]
fn nested_arrays_and_objects() {
    let command = command_from_json(&json!({
        "RequestType": "Settings",
        "Settings": [
            { "Item": "DeviceName", "DeviceName": "Lab" },
            { "Item": "Wallpaper", "Image": { "$data": "AAEC" }, "Where": [1, [2, [3]]] },
        ],
    }))
    .expect("convert");
    let settings = command
        .get("Settings")
        .and_then(Value::as_array)
        .expect("array");
    assert_eq!(settings.len(), 2);
    let second = settings[1].as_dictionary().expect("dictionary");
    assert_eq!(second.get("Image"), Some(&Value::Data(vec![0, 1, 2])));
    assert_eq!(
        second.get("Where"),
        Some(&Value::Array(vec![
            Value::Integer(1.into()),
            Value::Array(vec![
                Value::Integer(2.into()),
                Value::Array(vec![Value::Integer(3.into())])
            ])
        ]))
    );
    let (parsed, _) = parse_full_command(&render_command(&command, "u-2")).expect("parse back");
    assert_eq!(parsed, command);
}

#[test]
fn request_type_is_required() {
    assert_eq!(
        command_from_json(&json!({ "Identifier": "x" })),
        Err(ParseError::MissingField("RequestType"))
    );
    assert_eq!(
        command_from_json(&json!({ "RequestType": "" })),
        Err(ParseError::MissingField("RequestType"))
    );
    assert_eq!(
        command_from_json(&json!({ "RequestType": 5 })),
        Err(ParseError::WrongType {
            field: "RequestType",
            expected: "a string",
            found: "an integer"
        })
    );
}

#[test]
fn top_level_must_be_an_object() {
    assert_eq!(
        command_from_json(&json!(["RequestType"])),
        Err(ParseError::NotADictionary { found: "an array" })
    );
    assert_eq!(
        command_from_json(&json!("DeviceLock")),
        Err(ParseError::NotADictionary { found: "a string" })
    );
    assert_eq!(
        command_from_json(&json!({ "$data": "AAAA" })),
        Err(ParseError::NotADictionary { found: "data" })
    );
}

#[test]
fn null_is_rejected_with_its_path() {
    let (path, reason) = invalid_at(command_from_json(&json!({
        "RequestType": "X",
        "List": [1, { "Inner": null }],
    })));
    assert_eq!(path, "$.List[1].Inner");
    assert!(reason.contains("null"), "{reason}");
    assert_eq!(
        command_from_json(&json!({ "RequestType": null }))
            .expect_err("null")
            .to_string(),
        "invalid JSON command value at $.RequestType: null has no plist equivalent"
    );
}

#[test]
fn bad_data_and_dates_are_rejected() {
    let (path, reason) = invalid_at(command_from_json(&json!({
        "RequestType": "X",
        "Payload": { "$data": "not base64!" },
    })));
    assert_eq!(path, "$.Payload");
    assert!(reason.contains("not base64"), "{reason}");

    let (_, reason) = invalid_at(command_from_json(&json!({
        "RequestType": "X",
        "Payload": { "$data": 12 },
    })));
    assert!(reason.contains("base64 string"), "{reason}");

    for bad in [json!("yesterday"), json!("2016-11-03"), json!(1478142746)] {
        let (path, reason) = invalid_at(command_from_json(&json!({
            "RequestType": "X",
            "When": [{ "$date": bad }],
        })));
        assert_eq!(path, "$.When[0]");
        assert!(reason.contains("RFC 3339"), "{reason}");
    }
}

#[test]
fn text_xml_cannot_carry_is_rejected() {
    let (path, _) = invalid_at(command_from_json(&json!({
        "RequestType": "X",
        "Message": "a\u{0}b",
    })));
    assert_eq!(path, "$.Message");
    let (path, _) = invalid_at(command_from_json(&json!({
        "RequestType": "X",
        "Bad\u{1}Key": 1,
    })));
    assert_eq!(path, "$.Bad\\u{1}Key", "the key is escaped in the message");
    // Tab, newline and non-ASCII text are fine.
    let command =
        command_from_json(&json!({ "RequestType": "X", "M": "a\tb\nc é 🙂" })).expect("convert");
    assert_eq!(
        command.get("M"),
        Some(&Value::String("a\tb\nc é 🙂".into()))
    );
}

#[test]
fn depth_is_bounded() {
    let mut value = json!(1);
    for _ in 0..MAX_DEPTH {
        value = json!([value]);
    }
    // MAX_DEPTH arrays inside the top-level dictionary: one level too many.
    let too_deep = json!({ "RequestType": "X", "Deep": value });
    assert_eq!(
        command_from_json(&too_deep),
        Err(ParseError::TooDeep { limit: MAX_DEPTH })
    );
    let Some(Json::Array(inner)) = too_deep.get("Deep") else {
        panic!("not an array");
    };
    let just_right = json!({ "RequestType": "X", "Deep": inner[0] });
    assert!(command_from_json(&just_right).is_ok());
}
