use plist::{Dictionary, Value};

use super::*;

fn dict(entries: &[(&str, Value)]) -> Dictionary {
    let mut dict = Dictionary::new();
    for (key, value) in entries {
        dict.insert((*key).to_owned(), value.clone());
    }
    dict
}

#[test]
fn strings_empty_counts_as_missing() {
    let d = dict(&[
        ("A", Value::String(String::new())),
        ("B", Value::String("b".into())),
    ]);
    assert_eq!(opt_string(&d, "A"), Ok(None));
    assert_eq!(opt_string(&d, "B"), Ok(Some("b".into())));
    assert_eq!(opt_string(&d, "C"), Ok(None));
    assert_eq!(req_string(&d, "A"), Err(ParseError::MissingField("A")));
}

#[test]
fn strict_strings_reject_other_types() {
    let d = dict(&[("A", Value::from(1i64))]);
    assert_eq!(
        opt_string(&d, "A"),
        Err(ParseError::WrongType {
            field: "A",
            expected: "a string",
            found: "an integer"
        })
    );
    assert_eq!(lenient_string(&d, "A"), None);
}

#[test]
fn booleans_accept_zero_and_one() {
    let d = dict(&[
        ("T", Value::Boolean(true)),
        ("One", Value::from(1i64)),
        ("Zero", Value::from(0i64)),
        ("Two", Value::from(2i64)),
        ("S", Value::String("true".into())),
    ]);
    assert_eq!(opt_bool(&d, "T"), Ok(Some(true)));
    assert_eq!(opt_bool(&d, "One"), Ok(Some(true)));
    assert_eq!(opt_bool(&d, "Zero"), Ok(Some(false)));
    assert_eq!(opt_bool(&d, "Missing"), Ok(None));
    assert!(matches!(
        opt_bool(&d, "Two"),
        Err(ParseError::WrongType { .. })
    ));
    assert!(matches!(
        opt_bool(&d, "S"),
        Err(ParseError::WrongType { .. })
    ));
}

#[test]
fn bytes_from_data_hex_or_base64_strings() {
    let token = [0x1b_u8, 0xa7, 0xc9, 0x00];
    let d = dict(&[
        ("Data", Value::Data(token.to_vec())),
        ("Hex", Value::String("1ba7c900".into())),
        ("HexUpper", Value::String(" 1BA7C900 ".into())),
        ("Base64", Value::String("G6fJAA==".into())),
        ("Base64Sloppy", Value::String("G6fJAA=".into())),
        ("Neither", Value::String("not a token!".into())),
        ("Empty", Value::Data(Vec::new())),
        ("Int", Value::from(3i64)),
    ]);
    for key in ["Data", "Hex", "HexUpper", "Base64", "Base64Sloppy"] {
        assert_eq!(opt_bytes(&d, key), Ok(Some(token.to_vec())), "{key}");
    }
    assert!(matches!(
        opt_bytes(&d, "Neither"),
        Err(ParseError::InvalidField {
            field: "Neither",
            ..
        })
    ));
    assert_eq!(opt_bytes(&d, "Empty"), Ok(None));
    assert_eq!(
        req_bytes(&d, "Empty"),
        Err(ParseError::MissingField("Empty"))
    );
    assert!(matches!(
        opt_bytes(&d, "Int"),
        Err(ParseError::WrongType { .. })
    ));
}

#[test]
fn text_may_arrive_as_data() {
    let d = dict(&[
        ("S", Value::String("magic".into())),
        ("D", Value::Data(b"magic".to_vec())),
        ("Bad", Value::Data(vec![0xff, 0xfe])),
        ("Empty", Value::String(String::new())),
    ]);
    assert_eq!(req_text_or_data(&d, "S"), Ok("magic".into()));
    assert_eq!(req_text_or_data(&d, "D"), Ok("magic".into()));
    assert!(matches!(
        req_text_or_data(&d, "Bad"),
        Err(ParseError::InvalidField { .. })
    ));
    assert_eq!(
        req_text_or_data(&d, "Empty"),
        Err(ParseError::MissingField("Empty"))
    );
    assert_eq!(
        req_text_or_data(&d, "None"),
        Err(ParseError::MissingField("None"))
    );
}
