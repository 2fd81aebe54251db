use plist::{Date, Dictionary, Integer, Uid};
use serde_json::json;

use super::*;

#[test]
fn scalars() {
    assert_eq!(plist_to_json(&Value::String("a".into())), json!("a"));
    assert_eq!(plist_to_json(&Value::Boolean(true)), json!(true));
    assert_eq!(plist_to_json(&Value::Integer((-7).into())), json!(-7));
    assert_eq!(
        plist_to_json(&Value::Integer(Integer::from(u64::MAX))),
        json!(u64::MAX)
    );
    assert_eq!(
        plist_to_json(&Value::Integer(Integer::from(i64::MIN))),
        json!(i64::MIN)
    );
    assert_eq!(plist_to_json(&Value::Real(2.5)), json!(2.5));
    assert_eq!(plist_to_json(&Value::Uid(Uid::new(9))), json!(9));
}

#[test]
fn non_finite_reals_are_null() {
    for r in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(plist_to_json(&Value::Real(r)), Json::Null, "{r}");
    }
}

#[test]
fn data_is_base64_and_dates_are_rfc_3339() {
    assert_eq!(
        plist_to_json(&Value::Data(b"foobarbaz".to_vec())),
        json!("Zm9vYmFyYmF6")
    );
    assert_eq!(plist_to_json(&Value::Data(vec![0xff, 0xfe])), json!("//4="));
    assert_eq!(plist_to_json(&Value::Data(Vec::new())), json!(""));
    let date = Date::from_xml_format("2016-11-03T03:12:26Z").expect("date");
    assert_eq!(
        plist_to_json(&Value::Date(date)),
        json!("2016-11-03T03:12:26Z")
    );
}

#[test]
fn containers() {
    let mut inner = Dictionary::new();
    inner.insert("K".into(), Value::Array(vec![Value::Boolean(false)]));
    let mut dict = Dictionary::new();
    dict.insert("Inner".into(), Value::Dictionary(inner));
    dict.insert("Empty".into(), Value::Array(Vec::new()));
    assert_eq!(
        plist_to_json(&Value::Dictionary(dict)),
        json!({ "Inner": { "K": [false] }, "Empty": [] })
    );
}

#[test]
fn report_to_json_parses_xml_and_binary() {
    let xml = b"<plist version=\"1.0\"><dict><key>Status</key><string>Acknowledged</string>\
        <key>Token</key><data>AAEC</data><key>When</key><date>2020-01-02T03:04:05Z</date>\
        <key>Count</key><integer>3</integer></dict></plist>";
    let expected = json!({
        "Status": "Acknowledged",
        "Token": "AAEC",
        "When": "2020-01-02T03:04:05Z",
        "Count": 3,
    });
    assert_eq!(report_to_json(xml).expect("xml"), expected);

    let value = crate::parse_plist_value(xml).expect("parse");
    let mut binary = Vec::new();
    value.to_writer_binary(&mut binary).expect("write binary");
    assert_eq!(report_to_json(&binary).expect("binary"), expected);
}

#[test]
fn report_to_json_errors() {
    assert_eq!(report_to_json(b""), Err(ParseError::EmptyBody));
    assert_eq!(report_to_json(b"{}"), Err(ParseError::NotAPlist));
    assert_eq!(
        report_to_json(b"<plist><array/></plist>"),
        Err(ParseError::NotADictionary { found: "an array" })
    );
    assert!(matches!(
        report_to_json(b"<plist><dict><key>A</key><data>!!</data></dict></plist>"),
        Err(ParseError::InvalidData { .. })
    ));
}
