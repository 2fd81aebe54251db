//! The predicate subset: every operator both ways, precedence, and the texts refused.

use super::{Inputs, Predicate, MAX_NESTING, MAX_PREDICATE_LEN};
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

/// Evaluates `text` on an iPhone running iOS 17.1 with the properties `ring` = "beta",
/// `level` = 3 and `pilot` = true.
fn holds(text: &str) -> bool {
    let status: BTreeMap<String, Json> = [
        ("device.model.family", json!("iPhone")),
        ("device.operating-system.version", json!("17.1")),
        ("device.model.identifier", json!("iPhone15,2")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let Json::Object(properties) = json!({"ring": "beta", "level": 3, "pilot": true}) else {
        unreachable!("an object literal")
    };
    let parsed = Predicate::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    parsed.evaluate(&Inputs {
        status: &status,
        properties: &properties,
    })
}

#[test]
fn comparisons_read_status_items_and_properties() {
    let cases = [
        (r#"@status(device.model.family) == "iPhone""#, true),
        (r#"@status(device.model.family) == "Mac""#, false),
        (r#"@status(device.model.family) = "iPhone""#, true),
        (r#"@status(device.model.family) != "Mac""#, true),
        (r#"@status(device.model.family) <> "iPhone""#, false),
        (r#"@property(ring) == 'beta'"#, true),
        (r#"@property("ring") == "beta""#, true),
        ("@property(level) == 3", true),
        ("@property(level) == 3.0", true),
        ("@property(level) < 4", true),
        ("@property(level) < 3", false),
        ("@property(level) <= 3", true),
        ("@property(level) > 2", true),
        ("@property(level) > 3", false),
        ("@property(level) >= 3", true),
        ("@property(level) >= -1", true),
        ("@property(pilot) == TRUE", true),
        ("@property(pilot) == YES", true),
        ("@property(pilot) == false", false),
        ("@property(missing) == NULL", true),
        ("@property(missing) == nil", true),
        (r#"@property(missing) == "x""#, false),
        (r#"@property(missing) != "x""#, true),
        // Strings order by their characters, as Apple's predicates compare them.
        (
            r#"@status(device.operating-system.version) >= "17.0""#,
            true,
        ),
        (r#"@status(device.operating-system.version) < "2""#, true),
        // A number and a string neither equal nor order.
        (r#"@property(level) == "3""#, false),
        (r#"@property(level) < "4""#, false),
    ];
    for (text, expected) in cases {
        assert_eq!(holds(text), expected, "{text}");
    }
}

#[test]
fn string_operators_and_lists() {
    let cases = [
        (
            r#"@status(device.model.family) IN {"iPhone", "iPad"}"#,
            true,
        ),
        (r#"@status(device.model.family) IN {"Mac"}"#, false),
        (r#"@status(device.model.family) IN {}"#, false),
        (r#"@property(level) IN {1, 2, 3}"#, true),
        (r#""Pho" IN @status(device.model.family)"#, true),
        (
            r#"@status(device.model.identifier) BEGINSWITH "iPhone15""#,
            true,
        ),
        (
            r#"@status(device.model.identifier) BEGINSWITH "iPad""#,
            false,
        ),
        (r#"@status(device.model.identifier) ENDSWITH ",2""#, true),
        (r#"@status(device.model.identifier) CONTAINS "15""#, true),
        (r#"@status(device.model.identifier) CONTAINS "16""#, false),
        (r#"{"a", "b"} CONTAINS "b""#, true),
        (r#"@status(device.model.family) beginswith "iph""#, false),
        (r#"@status(device.model.family) BEGINSWITH[c] "iph""#, true),
        (r#"@status(device.model.family) ==[c] "IPHONE""#, true),
        (r#"@status(device.model.family) IN[c] {"IPHONE"}"#, true),
        // Operators that do not apply to the values are false.
        ("@property(level) BEGINSWITH 3", false),
        ("@property(level) CONTAINS 3", false),
    ];
    for (text, expected) in cases {
        assert_eq!(holds(text), expected, "{text}");
    }
}

#[test]
fn logic_and_precedence() {
    let yes = r#"@status(device.model.family) == "iPhone""#;
    let no = r#"@status(device.model.family) == "Mac""#;
    let cases = [
        ("TRUEPREDICATE".to_owned(), true),
        ("FALSEPREDICATE".to_owned(), false),
        ("truepredicate".to_owned(), true),
        (format!("{yes} AND {no}"), false),
        (format!("{yes} && {yes}"), true),
        (format!("{yes} and {yes} AND {yes}"), true),
        (format!("{no} OR {yes}"), true),
        (format!("{no} || {no}"), false),
        (format!("NOT {no}"), true),
        (format!("!{yes}"), false),
        (format!("NOT NOT {yes}"), true),
        (format!("!({no} OR {no})"), true),
        // AND binds tighter than OR.
        (format!("{yes} OR {no} AND {no}"), true),
        (format!("({yes} OR {no}) AND {no}"), false),
        (format!("NOT {no} AND {yes}"), true),
        (format!("(({yes}))"), true),
    ];
    for (text, expected) in cases {
        assert_eq!(holds(&text), expected, "{text}");
    }
}

#[test]
fn texts_outside_the_subset_are_refused_with_where() {
    let cases = [
        ("", "empty"),
        ("   ", "empty"),
        (
            r#"@status(device.model.family) == "iPhone"#,
            "unterminated string",
        ),
        (
            r#"@status(device.model.family) == iPhone"#,
            "unknown word iPhone",
        ),
        (
            r#"@status(device.model.family) "iPhone""#,
            "expected a comparison",
        ),
        (r#"@status(device.model.family) =="#, "expected a value"),
        (
            r#"@status(device.model.family)"#,
            "expected a comparison, found the end",
        ),
        (r#"(@property(a) == 1"#, "needs its ')'"),
        (r#"@property(a) == 1)"#, "unexpected ')'"),
        (
            r#"@property(a) == 1 @property(b) == 2"#,
            "unexpected @property(b)",
        ),
        (r#"@property(a) == 1 AND"#, "expected a value"),
        (r#"@battery(level) > 1"#, "unknown function @battery"),
        (r#"@status device.model.family == 1"#, "needs '('"),
        (r#"@status(device.model.family == 1"#, "needs ')'"),
        (r#"@status() == 1"#, "names nothing"),
        (
            r#"@property(a) LIKE "x*""#,
            "expected a comparison, found LIKE",
        ),
        (r#"@property(a) ==[d] "x""#, "unsupported option [d]"),
        (r#"@property(a) ==[c "x""#, "needs its ']'"),
        (r#"@property(a) IN {1 2}"#, "separated by ','"),
        (r#"@property(a) # 1"#, "unexpected '#'"),
        ("SUBQUERY(x, $y, $y == 1).@count > 0", "unexpected '$'"),
    ];
    for (text, expected) in cases {
        let error = Predicate::parse(text).expect_err(text);
        assert!(
            error.to_string().contains(expected),
            "{text:?}: {error}, expected {expected:?}"
        );
    }
    let at = Predicate::parse(r#"@property(a) == 1 AND nonsense"#).expect_err("refused");
    assert_eq!(at.at, 22, "{at}");
}

#[test]
fn nesting_and_length_are_bounded() {
    let nested = |depth: usize| format!("{}TRUEPREDICATE{}", "(".repeat(depth), ")".repeat(depth));
    assert!(Predicate::parse(&nested(MAX_NESTING)).is_ok());
    let deep = Predicate::parse(&nested(MAX_NESTING + 1)).expect_err("too deep");
    assert!(deep.message.contains("nested deeper"), "{deep}");
    let nots = format!("{}TRUEPREDICATE", "NOT ".repeat(10_000));
    assert!(Predicate::parse(&nots).is_err());
    let lists = format!("1 IN {}{}", "{".repeat(100), "}".repeat(100));
    assert!(Predicate::parse(&lists).is_err());
    let long = format!("@property(a) == \"{}\"", "x".repeat(MAX_PREDICATE_LEN));
    let error = Predicate::parse(&long).expect_err("too long");
    assert!(error.message.contains("longer than"), "{error}");
}

#[test]
fn missing_inputs_are_null_not_errors() {
    let empty_status = BTreeMap::new();
    let empty_properties = Map::new();
    let parsed = Predicate::parse(r#"@status(device.model.family) != "iPhone""#).expect("parses");
    assert!(parsed.evaluate(&Inputs {
        status: &empty_status,
        properties: &empty_properties,
    }));
}
