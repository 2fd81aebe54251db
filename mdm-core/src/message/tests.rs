use super::*;

fn body(entries: &str) -> Vec<u8> {
    format!("<plist><dict>{entries}<key>UDID</key><string>UDID-1</string></dict></plist>")
        .into_bytes()
}

#[test]
fn checkins_and_reports_are_told_apart_by_key() {
    let checkin = parse_message(&body(
        "<key>MessageType</key><string>CheckOut</string><key>Topic</key><string>t</string>",
    ))
    .expect("checkin");
    assert!(matches!(
        checkin,
        Message::Checkin(CheckinMessage::CheckOut(_))
    ));
    assert_eq!(checkin.ids().udid.as_deref(), Some("UDID-1"));

    let report = parse_message(&body("<key>Status</key><string>Idle</string>")).expect("report");
    assert!(matches!(report, Message::Report(ref r) if r.command_uuid.is_none()));
    assert_eq!(report.ids().udid.as_deref(), Some("UDID-1"));
}

#[test]
fn both_or_neither_key_is_an_error() {
    assert_eq!(
        parse_message(&body(
            "<key>MessageType</key><string>CheckOut</string><key>Status</key><string>Idle</string>"
        )),
        Err(ParseError::AmbiguousMessageKind)
    );
    assert_eq!(
        parse_message(&body("")),
        Err(ParseError::UnknownMessageKind)
    );
}

#[test]
fn top_level_must_be_a_dictionary() {
    assert_eq!(
        parse_message(b"<plist><array/></plist>"),
        Err(ParseError::NotADictionary { found: "an array" })
    );
    assert_eq!(
        parse_message(b"<plist><string>x</string></plist>"),
        Err(ParseError::NotADictionary { found: "a string" })
    );
}

#[test]
fn binary_messages_parse() {
    let mut dict = plist::Dictionary::new();
    dict.insert(
        "MessageType".into(),
        plist::Value::String("TokenUpdate".into()),
    );
    dict.insert("UDID".into(), plist::Value::String("UDID-1".into()));
    dict.insert("Topic".into(), plist::Value::String("t".into()));
    dict.insert("Token".into(), plist::Value::Data(vec![9; 32]));
    dict.insert("PushMagic".into(), plist::Value::String("m".into()));
    let mut bin = Vec::new();
    plist::Value::Dictionary(dict)
        .to_writer_binary(&mut bin)
        .expect("write");
    match parse_message(&bin) {
        Ok(Message::Checkin(CheckinMessage::TokenUpdate(t))) => assert_eq!(t.token, vec![9; 32]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn deep_nesting_in_a_message_is_rejected() {
    let mut inner = String::new();
    for _ in 0..10_000 {
        inner.push_str("<array>");
    }
    for _ in 0..10_000 {
        inner.push_str("</array>");
    }
    let msg = body(&format!(
        "<key>Status</key><string>Idle</string><key>X</key>{inner}"
    ));
    assert_eq!(
        parse_message(&msg),
        Err(ParseError::TooDeep {
            limit: crate::MAX_DEPTH
        })
    );
}
