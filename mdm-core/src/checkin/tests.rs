use super::*;
use crate::ChannelKind;

/// A check-in body with the given dictionary entries.
fn body(entries: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>{entries}</dict></plist>"
    )
    .into_bytes()
}

fn kv(key: &str, value: &str) -> String {
    format!("<key>{key}</key><string>{value}</string>")
}

const UDID: &str = "<key>UDID</key><string>UDID-1</string>";
const TOPIC: &str = "<key>Topic</key><string>com.apple.mgmt.test</string>";

#[test]
fn authenticate() {
    let msg = parse_checkin(&body(&format!(
        "{}{UDID}{TOPIC}{}{}{}{}{}{}{}{}{}<key>Extra</key><integer>5</integer>",
        kv("MessageType", "Authenticate"),
        kv("OSVersion", "17.1"),
        kv("BuildVersion", "21B74"),
        kv("ProductName", "iPhone15,2"),
        kv("SerialNumber", "SERIAL"),
        kv("IMEI", "35 000000 000000 0"),
        kv("MEID", "35000000000000"),
        kv("DeviceName", "Phone"),
        kv("Model", "MQ0G3"),
        kv("ModelName", "iPhone"),
    )))
    .expect("parse");
    assert_eq!(msg.message_type(), "Authenticate");
    assert_eq!(msg.ids().udid.as_deref(), Some("UDID-1"));
    let CheckinMessage::Authenticate(a) = msg else {
        panic!("not Authenticate")
    };
    assert_eq!(a.topic, "com.apple.mgmt.test");
    assert_eq!(a.os_version.as_deref(), Some("17.1"));
    assert_eq!(a.build_version.as_deref(), Some("21B74"));
    assert_eq!(a.product_name.as_deref(), Some("iPhone15,2"));
    assert_eq!(a.serial_number.as_deref(), Some("SERIAL"));
    assert_eq!(a.imei.as_deref(), Some("35 000000 000000 0"));
    assert_eq!(a.meid.as_deref(), Some("35000000000000"));
    assert_eq!(a.device_name.as_deref(), Some("Phone"));
    assert_eq!(a.model.as_deref(), Some("MQ0G3"));
    assert_eq!(a.model_name.as_deref(), Some("iPhone"));
    // Facts not modelled are kept.
    assert_eq!(a.raw.get("Extra"), Some(&plist::Value::from(5i64)));
}

#[test]
fn authenticate_facts_are_lenient_but_topic_is_required() {
    let msg = parse_checkin(&body(&format!(
        "{}{UDID}{TOPIC}<key>OSVersion</key><integer>17</integer>",
        kv("MessageType", "Authenticate")
    )))
    .expect("parse");
    let CheckinMessage::Authenticate(a) = msg else {
        panic!("not Authenticate")
    };
    assert_eq!(a.os_version, None);

    let err = parse_checkin(&body(&format!(
        "{}{UDID}",
        kv("MessageType", "Authenticate")
    )))
    .expect_err("no topic");
    assert_eq!(err, ParseError::MissingField("Topic"));
}

#[test]
fn token_update_user_channel() {
    let msg = parse_checkin(&body(&format!(
        "{}{UDID}{TOPIC}{}{}{}{}<key>Token</key><data>AAECAw==</data>\
         <key>UnlockToken</key><data>BQY=</data><key>NotOnConsole</key><true/>\
         <key>AwaitingConfiguration</key><false/>",
        kv("MessageType", "TokenUpdate"),
        kv("PushMagic", "MAGIC"),
        kv("UserID", "USER-1"),
        kv("UserShortName", "jo"),
        kv("UserLongName", "Jo Doe"),
    )))
    .expect("parse");
    let ids = msg.ids().clone();
    let CheckinMessage::TokenUpdate(t) = msg else {
        panic!("not TokenUpdate")
    };
    assert_eq!(t.token, [0, 1, 2, 3]);
    assert_eq!(t.push_magic, "MAGIC");
    assert_eq!(t.unlock_token, Some(vec![5, 6]));
    assert_eq!(t.not_on_console, Some(true));
    assert_eq!(t.awaiting_configuration, Some(false));
    assert_eq!(ids.user_short_name.as_deref(), Some("jo"));
    assert_eq!(ids.user_long_name.as_deref(), Some("Jo Doe"));
    let enrollment = ids.enrollment().expect("enrollment");
    assert_eq!(enrollment.id, "UDID-1:USER-1");
    assert_eq!(enrollment.kind, ChannelKind::User);
}

#[test]
fn token_update_accepts_string_token_and_data_push_magic() {
    let msg = parse_checkin(&body(&format!(
        "{}{UDID}{TOPIC}{}<key>PushMagic</key><data>TUFHSUM=</data>",
        kv("MessageType", "TokenUpdate"),
        kv("Token", "00010203"),
    )))
    .expect("parse");
    let CheckinMessage::TokenUpdate(t) = msg else {
        panic!("not TokenUpdate")
    };
    assert_eq!(t.token, [0, 1, 2, 3]);
    assert_eq!(t.push_magic, "MAGIC");
    assert_eq!(t.unlock_token, None);
}

#[test]
fn token_update_requires_token_and_push_magic() {
    let base = format!("{}{UDID}{TOPIC}", kv("MessageType", "TokenUpdate"));
    let no_token = format!("{base}{}", kv("PushMagic", "M"));
    assert_eq!(
        parse_checkin(&body(&no_token)),
        Err(ParseError::MissingField("Token"))
    );
    let empty_token = format!("{no_token}<key>Token</key><data></data>");
    assert_eq!(
        parse_checkin(&body(&empty_token)),
        Err(ParseError::MissingField("Token"))
    );
    let no_magic = format!("{base}<key>Token</key><data>AAECAw==</data>");
    assert_eq!(
        parse_checkin(&body(&no_magic)),
        Err(ParseError::MissingField("PushMagic"))
    );
    let int_token = format!("{no_token}<key>Token</key><integer>1</integer>");
    assert_eq!(
        parse_checkin(&body(&int_token)),
        Err(ParseError::WrongType {
            field: "Token",
            expected: "data",
            found: "an integer"
        })
    );
}

#[test]
fn check_out() {
    let msg = parse_checkin(&body(&format!(
        "{}{UDID}{TOPIC}",
        kv("MessageType", "CheckOut")
    )))
    .expect("parse");
    assert_eq!(msg.message_type(), "CheckOut");
    let CheckinMessage::CheckOut(c) = msg else {
        panic!("not CheckOut")
    };
    assert_eq!(c.topic, "com.apple.mgmt.test");
    assert_eq!(c.ids.udid.as_deref(), Some("UDID-1"));
}

#[test]
fn user_authenticate() {
    let first = parse_checkin(&body(&format!(
        "{}{UDID}{}",
        kv("MessageType", "UserAuthenticate"),
        kv("UserID", "USER-1")
    )))
    .expect("parse");
    let CheckinMessage::UserAuthenticate(u) = first else {
        panic!("not UserAuthenticate")
    };
    assert_eq!(u.digest_response, None);

    let second = parse_checkin(&body(&format!(
        "{}{UDID}{}{}",
        kv("MessageType", "UserAuthenticate"),
        kv("UserID", "USER-1"),
        kv("DigestResponse", "secret-digest"),
    )))
    .expect("parse");
    let CheckinMessage::UserAuthenticate(u) = second else {
        panic!("not UserAuthenticate")
    };
    assert_eq!(u.digest_response.as_deref(), Some("secret-digest"));
    assert!(!format!("{u:?}").contains("secret-digest"));
}

#[test]
fn set_bootstrap_token() {
    let set = parse_checkin(&body(&format!(
        "{}{UDID}<key>BootstrapToken</key><data>c2VjcmV0LXRva2Vu</data>\
         <key>AwaitingConfiguration</key><true/>",
        kv("MessageType", "SetBootstrapToken")
    )))
    .expect("parse");
    let CheckinMessage::SetBootstrapToken(s) = set else {
        panic!("not SetBootstrapToken")
    };
    assert_eq!(
        s.bootstrap_token.as_deref(),
        Some(b"secret-token".as_slice())
    );
    assert_eq!(s.awaiting_configuration, Some(true));
    let debug = format!("{s:?}");
    assert!(debug.contains("redacted, 12 bytes"), "{debug}");
    assert!(!debug.contains("115, 101"), "{debug}");

    let remove = parse_checkin(&body(&format!(
        "{}{UDID}",
        kv("MessageType", "SetBootstrapToken")
    )))
    .expect("parse");
    let CheckinMessage::SetBootstrapToken(r) = remove else {
        panic!("not SetBootstrapToken")
    };
    assert_eq!(r.bootstrap_token, None);
    assert_eq!(r.awaiting_configuration, None);
}

#[test]
fn get_bootstrap_token() {
    let msg = parse_checkin(&body(&format!(
        "{}<key>EnrollmentID</key><string>ENR-1</string><key>AwaitingConfiguration</key><false/>",
        kv("MessageType", "GetBootstrapToken")
    )))
    .expect("parse");
    assert_eq!(msg.message_type(), "GetBootstrapToken");
    assert_eq!(
        msg.ids().enrollment().map(|e| e.kind),
        Ok(ChannelKind::UserEnrollmentDevice)
    );
    let CheckinMessage::GetBootstrapToken(g) = msg else {
        panic!("not GetBootstrapToken")
    };
    assert_eq!(g.awaiting_configuration, Some(false));
}

#[test]
fn unknown_message_type() {
    let err = parse_checkin(&body(&format!(
        "{}{UDID}",
        kv("MessageType", "DeclarativeManagment")
    )))
    .expect_err("unknown");
    assert_eq!(
        err,
        ParseError::UnknownMessageType("DeclarativeManagment".into())
    );
    assert!(err.to_string().contains("DeclarativeManagment"));
}

#[test]
fn declarative_management_names_its_endpoint() {
    let msg = parse_checkin(&body(&format!(
        "{}{}{UDID}",
        kv("MessageType", "DeclarativeManagement"),
        kv("Endpoint", "declaration-items")
    )))
    .expect("a DeclarativeManagement check-in");
    let CheckinMessage::DeclarativeManagement(d) = msg else {
        panic!("not DeclarativeManagement: {msg:?}");
    };
    assert_eq!(d.endpoint, crate::ddm::Endpoint::DeclarationItems);
    assert_eq!(d.data, None);
    // A status check-in without its report is refused here too.
    let err = parse_checkin(&body(&format!(
        "{}{}{UDID}",
        kv("MessageType", "DeclarativeManagement"),
        kv("Endpoint", "status")
    )))
    .expect_err("no Data");
    assert_eq!(err, ParseError::MissingField("Data"));
}

#[test]
fn missing_message_type() {
    assert_eq!(
        parse_checkin(&body(UDID)),
        Err(ParseError::MissingMessageType)
    );
    let empty = format!("{}{UDID}", kv("MessageType", ""));
    assert_eq!(
        parse_checkin(&body(&empty)),
        Err(ParseError::MissingMessageType)
    );
}

#[test]
fn message_type_must_be_a_string() {
    let err = parse_checkin(&body(&format!(
        "<key>MessageType</key><integer>1</integer>{UDID}"
    )))
    .expect_err("wrong type");
    assert!(matches!(
        err,
        ParseError::WrongType {
            field: "MessageType",
            ..
        }
    ));
}

#[test]
fn checkins_must_name_an_enrollment() {
    let err = parse_checkin(&body(&format!("{}{TOPIC}", kv("MessageType", "CheckOut"))))
        .expect_err("no id");
    assert_eq!(err, ParseError::MissingIdentifier);
    let bad = parse_checkin(&body(&format!(
        "{}{TOPIC}<key>UDID</key><string>a&#10;b</string>",
        kv("MessageType", "CheckOut")
    )))
    .expect_err("control character");
    assert_eq!(bad, ParseError::IdControlCharacter { field: "UDID" });
}

#[test]
fn token_update_debug_hides_the_unlock_token() {
    let msg = parse_checkin(&body(&format!(
        "{}{UDID}{TOPIC}{}<key>Token</key><data>AAECAw==</data>\
         <key>UnlockToken</key><data>BQY=</data>",
        kv("MessageType", "TokenUpdate"),
        kv("PushMagic", "MAGIC"),
    )))
    .expect("parse");
    let debug = format!("{msg:?}");
    assert!(debug.contains("00010203"), "{debug}");
    assert!(debug.contains("redacted, 2 bytes"), "{debug}");
}

#[test]
fn bootstrap_token_response_round_trips() {
    let token = b"\x00\x01bootstrap\xff".to_vec();
    let response = bootstrap_token_response(Some(&token));
    let value = crate::parse_plist_value(&response).expect("parse");
    let dict = value.as_dictionary().expect("dict");
    assert_eq!(dict.len(), 1);
    assert_eq!(
        dict.get("BootstrapToken").and_then(plist::Value::as_data),
        Some(token.as_slice())
    );
    let text = String::from_utf8(response).expect("utf-8");
    assert!(text.contains("<data>"), "{text}");

    let none = bootstrap_token_response(None);
    let value = crate::parse_plist_value(&none).expect("parse");
    assert_eq!(value.as_dictionary().map(plist::Dictionary::len), Some(0));
}

#[test]
fn oversized_push_fields_and_facts_are_refused_without_echoing_them() {
    let long = "x".repeat(200_000);
    let token = "<key>Token</key><data>AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=</data>";
    let cases = [
        (
            "Topic",
            format!(
                "{}{UDID}{}{token}{}",
                kv("MessageType", "TokenUpdate"),
                kv("Topic", &long),
                kv("PushMagic", "magic")
            ),
        ),
        (
            "PushMagic",
            format!(
                "{}{UDID}{TOPIC}{token}{}",
                kv("MessageType", "TokenUpdate"),
                kv("PushMagic", &long)
            ),
        ),
        (
            "DeviceName",
            format!(
                "{}{UDID}{TOPIC}{}",
                kv("MessageType", "Authenticate"),
                kv("DeviceName", &long)
            ),
        ),
    ];
    for (field, entries) in cases {
        let error = parse_checkin(&body(&entries)).expect_err(field);
        let text = error.to_string();
        assert!(text.contains(field) && text.len() < 200, "{text}");
    }
    // At the limit is fine.
    let at_limit = "m".repeat(crate::fields::MAX_PUSH_FIELD_LEN);
    parse_checkin(&body(&format!(
        "{}{UDID}{TOPIC}{token}{}",
        kv("MessageType", "TokenUpdate"),
        kv("PushMagic", &at_limit)
    )))
    .expect("at the limit");
}
