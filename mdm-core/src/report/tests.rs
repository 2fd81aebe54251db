use super::*;

fn body(entries: &str) -> Vec<u8> {
    format!("<plist version=\"1.0\"><dict>{entries}<key>UDID</key><string>UDID-1</string></dict></plist>")
        .into_bytes()
}

fn status(s: &str) -> String {
    format!("<key>Status</key><string>{s}</string>")
}

const UUID: &str = "<key>CommandUUID</key><string>0a40830d-1cf9-4a00-a153-d8294e576c3f</string>";

#[test]
fn statuses_parse_and_print() {
    for s in [
        CommandStatus::Idle,
        CommandStatus::Acknowledged,
        CommandStatus::Error,
        CommandStatus::CommandFormatError,
        CommandStatus::NotNow,
    ] {
        assert_eq!(s.as_str().parse::<CommandStatus>(), Ok(s));
        assert_eq!(s.to_string(), s.as_str());
    }
    assert!(CommandStatus::Acknowledged.is_terminal());
    assert!(CommandStatus::Error.is_terminal());
    assert!(CommandStatus::CommandFormatError.is_terminal());
    assert!(!CommandStatus::NotNow.is_terminal());
    assert!(!CommandStatus::Idle.is_terminal());
}

#[test]
fn unknown_status() {
    assert_eq!(
        parse_report(&body(&format!("{}{UUID}", status("Done")))),
        Err(ParseError::UnknownStatus("Done".into()))
    );
    // Apple's spelling is exact.
    assert_eq!(
        "acknowledged".parse::<CommandStatus>(),
        Err(ParseError::UnknownStatus("acknowledged".into()))
    );
}

#[test]
fn idle_without_command_uuid_is_fine() {
    let report = parse_report(&body(&status("Idle"))).expect("parse");
    assert_eq!(report.status, CommandStatus::Idle);
    assert_eq!(report.command_uuid, None);
    assert!(report.error_chain.is_empty());
    assert_eq!(report.ids.udid.as_deref(), Some("UDID-1"));
}

#[test]
fn acknowledged_without_command_uuid_is_an_error() {
    assert_eq!(
        parse_report(&body(&status("Acknowledged"))),
        Err(ParseError::MissingCommandUuid {
            status: "Acknowledged"
        })
    );
    let empty = format!(
        "{}<key>CommandUUID</key><string></string>",
        status("NotNow")
    );
    assert_eq!(
        parse_report(&body(&empty)),
        Err(ParseError::MissingCommandUuid { status: "NotNow" })
    );
}

#[test]
fn command_uuid_is_checked_like_an_identifier() {
    let bad = format!(
        "{}<key>CommandUUID</key><string>a&#9;b</string>",
        status("Acknowledged")
    );
    assert_eq!(
        parse_report(&body(&bad)),
        Err(ParseError::IdControlCharacter {
            field: "CommandUUID"
        })
    );
}

#[test]
fn missing_status() {
    assert_eq!(
        parse_report(&body(UUID)),
        Err(ParseError::MissingField("Status"))
    );
}

#[test]
fn acknowledged_keeps_the_result() {
    let report = parse_report(&body(&format!(
        "{}{UUID}<key>QueryResponses</key><dict><key>OSVersion</key><string>17.1</string></dict>",
        status("Acknowledged")
    )))
    .expect("parse");
    assert_eq!(
        report.command_uuid.as_deref(),
        Some("0a40830d-1cf9-4a00-a153-d8294e576c3f")
    );
    let os = report
        .raw
        .get("QueryResponses")
        .and_then(Value::as_dictionary)
        .and_then(|d| d.get("OSVersion"))
        .and_then(Value::as_string);
    assert_eq!(os, Some("17.1"));
    // Debug lists keys, not the result.
    let debug = format!("{report:?}");
    assert!(
        debug.contains("QueryResponses") && !debug.contains("17.1"),
        "{debug}"
    );
}

#[test]
fn error_chain_is_read_leniently() {
    let report = parse_report(&body(&format!(
        "{}{UUID}<key>ErrorChain</key><array>\
           <dict><key>ErrorCode</key><integer>12021</integer>\
             <key>ErrorDomain</key><string>MCMDMErrorDomain</string>\
             <key>LocalizedDescription</key><string>Nope</string>\
             <key>USEnglishDescription</key><string>Nope (en)</string></dict>\
           <string>not a dict</string>\
           <dict><key>ErrorCode</key><string> -7 </string><key>ErrorDomain</key><integer>3</integer></dict>\
           <dict><key>ErrorCode</key><real>1.5</real></dict>\
         </array>",
        status("Error")
    )))
    .expect("parse");
    assert_eq!(
        report.error_chain,
        vec![
            ErrorChainItem {
                error_code: Some(12021),
                error_domain: Some("MCMDMErrorDomain".into()),
                localized_description: Some("Nope".into()),
                us_english_description: Some("Nope (en)".into()),
            },
            ErrorChainItem {
                error_code: Some(-7),
                ..ErrorChainItem::default()
            },
            ErrorChainItem::default(),
        ]
    );
}

#[test]
fn error_chain_of_the_wrong_type_is_empty() {
    let report = parse_report(&body(&format!(
        "{}{UUID}<key>ErrorChain</key><string>oops</string>",
        status("Error")
    )))
    .expect("parse");
    assert!(report.error_chain.is_empty());
    assert!(report.raw.contains_key("ErrorChain"));
}

#[test]
fn reports_must_name_an_enrollment() {
    let body = format!("<plist><dict>{}</dict></plist>", status("Idle"));
    assert_eq!(
        parse_report(body.as_bytes()),
        Err(ParseError::MissingIdentifier)
    );
}
