use plist::{Dictionary, Value};

use super::*;

/// Wraps a value's XML in a plist document.
fn doc(inner: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
         \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n{inner}\n</plist>\n"
    )
}

fn parse(inner: &str) -> Result<Value, ParseError> {
    parse_plist_value(doc(inner).as_bytes())
}

fn data(text: &str) -> Result<Value, ParseError> {
    parse(&format!("<data>{text}</data>"))
}

/// Runs `f` on a thread with a deliberately small stack: a parser that recursed per nesting
/// level, or a value deep enough to recurse on drop, would overflow it.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .expect("spawn test thread")
        .join()
        .expect("test thread panicked")
}

// ---- <data> and base64 ----

#[test]
fn data_canonical_base64() {
    assert_eq!(
        data("YXBwbGU=").expect("parse"),
        Value::Data(b"apple".to_vec())
    );
}

#[test]
fn data_ignores_whitespace_and_line_wrapping() {
    let value = data("\n\t\tYXBw\n\t\tbGU=\n\t").expect("parse");
    assert_eq!(value, Value::Data(b"apple".to_vec()));
}

#[test]
fn data_accepts_excess_padding() {
    // The real macOS 10.11 user-channel capture: one '=' after a complete quantum.
    assert_eq!(data("AAAA=").expect("parse"), Value::Data(vec![0, 0, 0]));
    assert_eq!(
        data("YXBwbGU==").expect("parse"),
        Value::Data(b"apple".to_vec())
    );
}

#[test]
fn data_accepts_missing_padding() {
    assert_eq!(
        data("YXBwbGU").expect("parse"),
        Value::Data(b"apple".to_vec())
    );
    assert_eq!(data("YQ").expect("parse"), Value::Data(b"a".to_vec()));
}

#[test]
fn data_empty_is_empty() {
    assert_eq!(data("").expect("parse"), Value::Data(Vec::new()));
    assert_eq!(parse("<data/>").expect("parse"), Value::Data(Vec::new()));
}

#[test]
fn data_rejects_what_is_not_a_padding_problem() {
    for bad in [
        "Base64=", "base64==", "YR==", "AA=A", "A", "YXBw*GU=", "=AAAA",
    ] {
        let err = data(bad).expect_err(bad);
        assert!(
            matches!(err, ParseError::InvalidData { .. }),
            "{bad}: {err:?}"
        );
        assert!(err.to_string().contains("invalid base64"), "{err}");
    }
}

// ---- nesting depth ----

fn nested_arrays(depth: usize) -> String {
    let mut s = String::with_capacity(depth * 16);
    for _ in 0..depth {
        s.push_str("<array>");
    }
    for _ in 0..depth {
        s.push_str("</array>");
    }
    doc(&s)
}

#[test]
fn nesting_at_the_limit_is_accepted() {
    let body = nested_arrays(MAX_DEPTH);
    let mut value = parse_plist_value(body.as_bytes()).expect("parse");
    let mut depth = 0;
    while let Value::Array(mut items) = value {
        depth += 1;
        value = items.pop().unwrap_or(Value::Boolean(false));
    }
    assert_eq!(depth, MAX_DEPTH);
}

#[test]
fn nesting_past_the_limit_is_rejected() {
    let body = nested_arrays(MAX_DEPTH + 1);
    let err = parse_plist_value(body.as_bytes()).expect_err("too deep");
    assert_eq!(err, ParseError::TooDeep { limit: MAX_DEPTH });
}

#[test]
fn hostile_xml_nesting_is_rejected_without_recursion() {
    let err = on_small_stack(|| {
        let body = nested_arrays(100_000);
        parse_plist_value(body.as_bytes()).expect_err("too deep")
    });
    assert_eq!(err, ParseError::TooDeep { limit: MAX_DEPTH });
}

#[test]
fn dictionaries_count_toward_depth() {
    let mut s = String::new();
    for _ in 0..MAX_DEPTH + 1 {
        s.push_str("<dict><key>k</key>");
    }
    s.push_str("<true/>");
    for _ in 0..MAX_DEPTH + 1 {
        s.push_str("</dict>");
    }
    assert_eq!(
        parse(&s).expect_err("too deep"),
        ParseError::TooDeep { limit: MAX_DEPTH }
    );
}

// ---- document structure ----

#[test]
fn a_dictionary_parses_in_order() {
    let value = parse(
        "<dict><key>b</key><string>x</string><key>a</key><integer>1</integer>\
         <key>c</key><array><true/><false/></array><key>d</key><dict/></dict>",
    )
    .expect("parse");
    let dict = value.as_dictionary().expect("dict");
    assert_eq!(dict.keys().collect::<Vec<_>>(), ["b", "a", "c", "d"]);
    assert_eq!(dict.get("b"), Some(&Value::String("x".into())));
    assert_eq!(dict.get("a"), Some(&Value::from(1i64)));
    assert_eq!(
        dict.get("c"),
        Some(&Value::Array(vec![
            Value::Boolean(true),
            Value::Boolean(false)
        ]))
    );
    assert_eq!(dict.get("d"), Some(&Value::Dictionary(Dictionary::new())));
}

#[test]
fn scalars() {
    let cases: &[(&str, Value)] = &[
        ("<integer>42</integer>", Value::from(42i64)),
        ("<integer> -42 </integer>", Value::from(-42i64)),
        ("<integer>+7</integer>", Value::from(7i64)),
        ("<integer>0x1F</integer>", Value::from(31i64)),
        (
            "<integer>18446744073709551615</integer>",
            Value::from(u64::MAX),
        ),
        (
            "<integer>-9223372036854775808</integer>",
            Value::from(i64::MIN),
        ),
        ("<real>1.5</real>", Value::Real(1.5)),
        ("<real>-2</real>", Value::Real(-2.0)),
        ("<string/>", Value::String(String::new())),
        ("<string>a\r\nb</string>", Value::String("a\nb".into())),
        (
            "<string>&lt;&amp;&gt;&quot;&apos;&#x41;&#66;</string>",
            Value::String("<&>\"'AB".into()),
        ),
        (
            "<string>x<![CDATA[<y>]]><!-- gone -->z</string>",
            Value::String("x<y>z".into()),
        ),
        ("<true/>", Value::Boolean(true)),
        ("<false></false>", Value::Boolean(false)),
    ];
    for (xml, expected) in cases {
        assert_eq!(&parse(xml).expect(xml), expected, "{xml}");
    }
    let date = parse("<date>2020-01-02T03:04:05Z</date>").expect("date");
    assert_eq!(
        date.as_date().map(|d| d.to_xml_format()),
        Some("2020-01-02T03:04:05Z".to_owned())
    );
}

#[test]
fn invalid_scalars_are_rejected() {
    for (xml, element) in [
        ("<integer>abc</integer>", "integer"),
        ("<integer></integer>", "integer"),
        ("<integer>99999999999999999999</integer>", "integer"),
        ("<integer>-9223372036854775809</integer>", "integer"),
        ("<integer>0x-1</integer>", "integer"),
        ("<integer>--1</integer>", "integer"),
        ("<real>one</real>", "real"),
        ("<date>yesterday</date>", "date"),
        ("<true>yes</true>", "true"),
    ] {
        match parse(xml) {
            Err(ParseError::InvalidScalar { element: e, .. }) => assert_eq!(e, element, "{xml}"),
            other => panic!("{xml}: {other:?}"),
        }
    }
}

#[test]
fn structural_errors_are_rejected() {
    for xml in [
        "",                                        // <plist> holds no value
        "<string>a</string><string>b</string>",    // two values
        "<key>a</key>",                            // key outside a dict
        "<dict><string>a</string></dict>",         // value without key
        "<dict><key>a</key></dict>",               // key without value
        "<dict><key>a</key><key>b</key></dict>",   // two keys in a row
        "<array><key>a</key></array>",             // key in an array
        "<dict><key>a</key><dict></array></dict>", // mismatched end
        "<array>text</array>",                     // text between elements
        "<foo/>",                                  // unknown element
        "<string><b>x</b></string>",               // element inside a scalar
        "<string>&nbsp;</string>",                 // undefined entity
        "<array><plist><true/></plist></array>",   // nested plist
    ] {
        let err = parse(xml).expect_err(xml);
        assert!(
            matches!(err, ParseError::MalformedXml { .. }),
            "{xml}: {err:?}"
        );
    }
}

#[test]
fn duplicate_keys_are_rejected() {
    let err =
        parse("<dict><key>UDID</key><string>a</string><key>UDID</key><string>b</string></dict>")
            .expect_err("duplicate");
    assert_eq!(err, ParseError::DuplicateKey { key: "UDID".into() });
}

#[test]
fn document_lenience() {
    let dict = "<dict><key>k</key><string>v</string></dict>";
    for body in [
        format!("\u{feff}{}", doc(dict)),                  // byte-order mark
        format!("<?xml?><!DOCTYPE><plist>{dict}</plist>"), // empty declarations
        format!("<!DOCTYPE plist><?xml version=\"1.0\"?><plist>{dict}</plist>"), // swapped
        format!("<!-- c --><plist><!-- c -->{dict}<!-- c --></plist>"),
        format!("<plist>{dict}</plist>trailing garbage <oops"), // after the root
        dict.to_owned(),                                        // bare root value
        format!("<!DOCTYPE plist [<!ENTITY x \">\">]><plist>{dict}</plist>"),
    ] {
        let value = parse_plist_value(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"));
        assert_eq!(
            value.as_dictionary().and_then(|d| d.get("k")),
            Some(&Value::String("v".into())),
            "{body}"
        );
    }
}

#[test]
fn document_errors() {
    let dict = "<dict><key>k</key><string>v</string></dict>";
    let cases = [
        (String::new(), "empty"),
        ("   \n".to_owned(), "not a plist"),
        ("hello".to_owned(), "not a plist"),
        (format!("<plist>{dict}"), "missing </plist>"),
        (format!("<plist>{dict}</dict></plist>"), "unmatched end"),
        (
            format!("<?xml version=\"1.0\"\n<plist>{dict}</plist>"),
            "unterminated decl",
        ),
        (
            format!("<plist version=\"1.0\"\n{dict}</plist>"),
            "broken tag",
        ),
        (
            format!("<?xml version=\"1.0\"?>junk<plist>{dict}</plist>"),
            "text in prolog",
        ),
        ("<!-- never closed".to_owned(), "unterminated comment"),
    ];
    for (body, why) in cases {
        assert!(parse_plist_value(body.as_bytes()).is_err(), "{why}: {body}");
    }
    assert_eq!(parse_plist_value(b""), Err(ParseError::EmptyBody));
    assert_eq!(parse_plist_value(b"hello"), Err(ParseError::NotAPlist));
}

#[test]
fn xml_must_be_utf8() {
    let mut body = doc("<string>x</string>").into_bytes();
    let at = body.len() - 20;
    body[at] = 0xff;
    assert_eq!(
        parse_plist_value(&body),
        Err(ParseError::InvalidUtf8 { offset: at })
    );
}

#[test]
fn openstep_plists_are_not_accepted() {
    // The plist crate falls back to the OpenStep format when XML fails early; we do not.
    assert_eq!(parse_plist_value(b"{ a = b; }"), Err(ParseError::NotAPlist));
}

#[test]
fn top_level_must_be_a_dictionary_for_messages() {
    let body = doc("<array/>");
    assert_eq!(
        parse_dictionary(body.as_bytes()),
        Err(ParseError::NotADictionary { found: "an array" })
    );
}

#[test]
fn large_bodies_parse() {
    // A Mac's InstalledApplicationList runs to megabytes; make sure nothing is quadratic.
    let mut items = String::new();
    for i in 0..40_000 {
        items.push_str(&format!(
            "<dict><key>Identifier</key><string>com.example.app{i}</string>\
             <key>Name</key><string>App {i}</string><key>BundleSize</key>\
             <integer>{i}</integer><key>Icon</key><data>YXBwbGU=</data></dict>"
        ));
    }
    let body = doc(&format!(
        "<dict><key>List</key><array>{items}</array></dict>"
    ));
    assert!(body.len() > 5_000_000);
    let value = parse_plist_value(body.as_bytes()).expect("parse");
    let list = value
        .as_dictionary()
        .and_then(|d| d.get("List"))
        .and_then(Value::as_array)
        .expect("list");
    assert_eq!(list.len(), 40_000);
}

// ---- binary plists ----

/// Offset and reference sizes used by [`bplist`].
const SIZE: u8 = 4;

/// Builds a binary plist from encoded objects; object 0 is the root.
fn bplist(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"bplist00".to_vec();
    let mut offsets = Vec::new();
    for object in objects {
        offsets.push(u32::try_from(out.len()).expect("small"));
        out.extend_from_slice(object);
    }
    let table_at = out.len() as u64;
    for offset in offsets {
        out.extend_from_slice(&offset.to_be_bytes());
    }
    out.extend_from_slice(&[0; 6]);
    out.extend_from_slice(&[SIZE, SIZE]);
    out.extend_from_slice(&(objects.len() as u64).to_be_bytes());
    out.extend_from_slice(&0u64.to_be_bytes());
    out.extend_from_slice(&table_at.to_be_bytes());
    out
}

/// An array object referencing `refs`.
fn barray(refs: &[u32]) -> Vec<u8> {
    let mut out = if refs.len() < 15 {
        vec![0xa0 | u8::try_from(refs.len()).expect("small")]
    } else {
        let mut v = vec![0xaf, 0x12];
        v.extend_from_slice(&u32::try_from(refs.len()).expect("small").to_be_bytes());
        v
    };
    for r in refs {
        out.extend_from_slice(&r.to_be_bytes());
    }
    out
}

/// An ASCII string object (shorter than 15 bytes).
fn bstring(s: &str) -> Vec<u8> {
    let mut out = vec![0x50 | u8::try_from(s.len()).expect("short")];
    out.extend_from_slice(s.as_bytes());
    out
}

/// A chain of `depth` arrays, each holding the next, the last one empty.
fn chain(depth: u32) -> Vec<u8> {
    let mut objects: Vec<Vec<u8>> = (1..depth).map(|next| barray(&[next])).collect();
    objects.push(barray(&[]));
    bplist(&objects)
}

#[test]
fn binary_round_trip() {
    let mut dict = Dictionary::new();
    dict.insert("UDID".into(), Value::String("abc".into()));
    dict.insert("Token".into(), Value::Data(vec![1, 2, 3]));
    dict.insert("Count".into(), Value::from(7i64));
    dict.insert(
        "List".into(),
        Value::Array(vec![Value::Boolean(true), Value::Real(0.5)]),
    );
    let value = Value::Dictionary(dict);
    let mut body = Vec::new();
    value.to_writer_binary(&mut body).expect("write");
    assert_eq!(parse_plist_value(&body).expect("parse"), value);
}

#[test]
fn binary_built_by_hand_parses() {
    let body = bplist(&[barray(&[1, 2]), bstring("a"), bstring("b")]);
    assert_eq!(
        parse_plist_value(&body).expect("parse"),
        Value::Array(vec![Value::String("a".into()), Value::String("b".into())])
    );
}

#[test]
fn binary_nesting_at_the_limit_is_accepted() {
    let depth = u32::try_from(MAX_DEPTH).expect("small");
    assert!(parse_plist_value(&chain(depth)).is_ok());
    assert_eq!(
        parse_plist_value(&chain(depth + 1)),
        Err(ParseError::TooDeep { limit: MAX_DEPTH })
    );
}

#[test]
fn hostile_binary_nesting_is_rejected_without_recursion() {
    let err = on_small_stack(|| parse_plist_value(&chain(100_000)).expect_err("too deep"));
    assert_eq!(err, ParseError::TooDeep { limit: MAX_DEPTH });
}

#[test]
fn binary_exponential_expansion_is_rejected() {
    // 60 arrays, each referencing the next twice: 2^60 values in about a kilobyte.
    let mut objects: Vec<Vec<u8>> = (1..60).map(|next| barray(&[next, next])).collect();
    objects.push(bstring("boom"));
    let body = bplist(&objects);
    let err = parse_plist_value(&body).expect_err("expansion");
    assert!(
        matches!(err, ParseError::ExpansionTooLarge { unit: "values", .. }),
        "{err:?}"
    );
}

#[test]
fn binary_string_amplification_is_rejected() {
    // One long string referenced many times: few values, many bytes.
    let long = "x".repeat(60_000);
    let mut string = vec![0x5f, 0x12];
    string.extend_from_slice(&u32::try_from(long.len()).expect("small").to_be_bytes());
    string.extend_from_slice(long.as_bytes());
    let refs = vec![1u32; 5_000];
    let body = bplist(&[barray(&refs), string]);
    let err = parse_plist_value(&body).expect_err("expansion");
    assert!(
        matches!(
            err,
            ParseError::ExpansionTooLarge {
                unit: "bytes of strings and data",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn binary_cycles_are_rejected() {
    let body = bplist(&[barray(&[1]), barray(&[0])]);
    match parse_plist_value(&body) {
        Err(ParseError::MalformedBinary { reason }) => {
            assert!(reason.contains("itself"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn binary_structural_errors() {
    let good = bplist(&[barray(&[1]), bstring("a")]);
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("short", b"bplist00".to_vec()),
        (
            "other version",
            [b"bplist15".as_slice(), &good[8..]].concat(),
        ),
        ("truncated", good[..good.len() - 1].to_vec()),
        ("dangling reference", bplist(&[barray(&[7])])),
        (
            "string past the end",
            bplist(&[vec![0x5f, 0x10, 0xff, b'a', b'b']]),
        ),
        ("bad length marker", bplist(&[vec![0xaf, 0x42, 0x00]])),
    ];
    let mut bad_sizes = good.clone();
    let trailer = bad_sizes.len() - 32;
    bad_sizes[trailer + 6] = 5;
    cases.push(("offset size", bad_sizes));
    let mut bad_root = good.clone();
    // The root index is the big-endian u64 ending 8 bytes before the end.
    let root_last = bad_root.len() - 9;
    bad_root[root_last] = 9;
    cases.push(("root out of range", bad_root));
    for (why, body) in cases {
        match parse_plist_value(&body) {
            Err(ParseError::MalformedBinary { .. }) => {}
            other => panic!("{why}: {other:?}"),
        }
    }
}

// ---- robustness: corrupted input never panics ----

fn sample_value() -> Value {
    let mut inner = Dictionary::new();
    inner.insert("Name".into(), Value::String("App ü".into()));
    inner.insert("Size".into(), Value::from(123_456_789i64));
    inner.insert("Icon".into(), Value::Data((0..40).collect()));
    let mut dict = Dictionary::new();
    dict.insert("UDID".into(), Value::String("UDID-1".into()));
    dict.insert("Status".into(), Value::String("Acknowledged".into()));
    dict.insert(
        "List".into(),
        Value::Array(vec![
            Value::Dictionary(inner),
            Value::Real(1.25),
            Value::Boolean(true),
            Value::String("x".repeat(20)),
        ]),
    );
    Value::Dictionary(dict)
}

#[test]
fn mutated_binary_plists_never_panic() {
    let mut body = Vec::new();
    sample_value().to_writer_binary(&mut body).expect("write");
    assert!(parse_plist_value(&body).is_ok());
    for at in 0..body.len() {
        for byte in [0x00, 0x01, 0x0f, 0x7f, 0xaf, 0xdf, 0xff] {
            let mut mutated = body.clone();
            mutated[at] = byte;
            let _ = parse_plist_value(&mutated);
        }
        let _ = parse_plist_value(&body[..at]);
    }
}

#[test]
fn mutated_xml_plists_never_panic() {
    let mut body = Vec::new();
    sample_value().to_writer_xml(&mut body).expect("write");
    assert!(parse_plist_value(&body).is_ok());
    for at in 0..body.len() {
        for byte in [b'<', b'>', b'/', b'&', b'=', b' ', 0xff] {
            let mut mutated = body.clone();
            mutated[at] = byte;
            let _ = parse_plist_value(&mutated);
        }
        let truncated = parse_plist_value(&body[..at]);
        assert!(truncated.is_err(), "truncated at {at} must not parse");
    }
}

#[test]
fn error_messages_quote_input_briefly() {
    let long = "a".repeat(100_000);
    for body in [
        doc(&format!("<{long}/>")),
        doc(&format!("<dict></{long}>")),
        doc(&format!(
            "<dict><key>{long}</key><true/><key>{long}</key><true/></dict>"
        )),
        doc(&format!("<integer>{long}</integer>")),
    ] {
        let err = parse_plist_value(body.as_bytes()).expect_err("invalid");
        assert!(err.to_string().len() < 400, "{err}");
    }
}
