//! Conformance against real device captures and third-party fixtures, read from the
//! repository's `fixtures/` (see its README for provenance and licences).
//!
//! The message fixture directories are walked, and every file must appear in a table below with
//! what it is expected to be: a new capture dropped in the tree fails the test until someone
//! says what it should parse to.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use mdm_core::{
    parse_checkin, parse_message, parse_plist_value, parse_report, ChannelKind, CheckinMessage,
    CommandStatus, Message, ParseError,
};
use plist::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");
const COMMANDMENT: &str = "commandment/testdata";
const NANOMDM: &str = "nanomdm/mdm/testdata";

/// The placeholder identifiers of the anonymised captures.
const ZEROS: &str = "00000000-1111-2222-3333-444455556666";
const ONES: &str = "1111111111111111111111111111111111111111";
const IPAD: &str = "1c111c111c111c111c111c111c111c111c111c11";
const IMAC: &str = "E3568F17-92ED-450A-8904-C3BF4CB7E9A5";
const NANO_IPAD: &str = "663b07bb783e9ade1dae4fbb92ea12afc0ce5b69";
const NANO_IMAC: &str = "66ADE930-5FDF-5EC4-8429-15640684C489";

/// What a fixture file is.
#[derive(Debug)]
enum Expect {
    /// A check-in of this MessageType from this enrollment.
    Checkin {
        message_type: &'static str,
        enrollment_id: &'static str,
    },
    /// A command report.
    Report {
        status: CommandStatus,
        command_uuid: &'static str,
        udid: &'static str,
        error_codes: &'static [i64],
    },
    /// A capture whose `<data>` the anonymisation left as invalid base64.
    InvalidBase64,
    /// A plist dictionary that is neither a check-in nor a report.
    NotAMessage,
    /// Not a plist at all.
    NotAPlist,
    /// A nanomdm `.txt` of values expected from the device (checked in its own test).
    ExpectedValues,
}

use Expect::*;

const fn checkin(message_type: &'static str, enrollment_id: &'static str) -> Expect {
    Checkin {
        message_type,
        enrollment_id,
    }
}

const fn ack(command_uuid: &'static str, udid: &'static str) -> Expect {
    Report {
        status: CommandStatus::Acknowledged,
        command_uuid,
        udid,
        error_codes: &[],
    }
}

const fn error(command_uuid: &'static str, udid: &'static str, codes: &'static [i64]) -> Expect {
    Report {
        status: CommandStatus::Error,
        command_uuid,
        udid,
        error_codes: codes,
    }
}

fn commandment_cases() -> Vec<(&'static str, Expect)> {
    vec![
        ("Authenticate/10.11.x.xml", checkin("Authenticate", ZEROS)),
        ("Authenticate/10.12.2.xml", checkin("Authenticate", IMAC)),
        ("Authenticate/IOS-11.3.1.xml", checkin("Authenticate", IPAD)),
        ("Authenticate/IOS-9.x.xml", checkin("Authenticate", ONES)),
        (
            "Authenticate/iOS-11.3.1-cell.xml",
            checkin("Authenticate", ONES),
        ),
        ("AvailableOSUpdates/10.12.5.xml", ack(ZEROS, ZEROS)),
        (
            "AvailableOSUpdates/iOS-11.3.1.xml",
            ack("8fb53ef6-5fcd-46c2-bf05-ee502406f240", IPAD),
        ),
        (
            "AvailableOSUpdates/macOS-10.13.1.xml",
            ack("a6121a90-4100-4928-93d8-6645722bfda7", ZEROS),
        ),
        ("CertificateList/10.11.x.xml", ack(ZEROS, ZEROS)),
        ("CertificateList/iOS-11.3.1.xml", InvalidBase64),
        ("CheckOut/10.11.x.xml", checkin("CheckOut", ZEROS)),
        ("CheckOut/iOS-11.3.1.xml", checkin("CheckOut", IPAD)),
        ("DeviceInformation/10.11.x.xml", ack(ZEROS, ZEROS)),
        (
            "DeviceInformation/iOS-11.3.1.xml",
            ack("3ab89975-490b-4f33-80c7-0982069272ba", IPAD),
        ),
        (
            "DeviceInformation/macOS-10.13.1.xml",
            ack("be926f7e-9cd2-465a-ba2b-b573dc4eaa7a", ZEROS),
        ),
        (
            "DeviceLock/iOS-11.3.1.xml",
            ack("b6c8627f-bf4a-4ef4-8f40-d8673cd568c9", IPAD),
        ),
        (
            "Errors/10.12.5-invalid-command.xml",
            error("93a81e2a-8fbe-4e4b-b6e5-ee9148893f33", ZEROS, &[97]),
        ),
        (
            "Errors/10.13.6-invalid-command.xml",
            error(
                "bac6348e-3291-4523-a354-037ec379b738",
                "2F6DE437-7C14-5735-85B4-DC6B365BCAF1",
                &[12021],
            ),
        ),
        // Despite its name, a plain Error report about an unknown request type.
        (
            "Errors/error_invalid_request_type.plist",
            error(ZEROS, ZEROS, &[12021]),
        ),
        (
            "Errors/iOS-11.3.1-AvailableOSUpdatesFailure.xml",
            error("93289d88-c8da-4732-9a7e-33dd51851b6e", IPAD, &[2213, 3]),
        ),
        (
            "Errors/iOS-11.3.1-CommandFormatError.xml",
            Report {
                status: CommandStatus::CommandFormatError,
                command_uuid: "52aab5d2-6a61-4fe8-b685-44f8b56972d0",
                udid: IPAD,
                error_codes: &[],
            },
        ),
        (
            "Errors/iOS-11.3.1-RemoveProfile-Unmanaged.xml",
            error("b2da2591-a2e5-45e5-8dd8-0ffb050d8407", IPAD, &[12013]),
        ),
        (
            "InstallApplication/iOS-11.3.1-alreadyprompting.xml",
            error("94ee37e2-3e03-4bdf-ad9c-a81ccc9d78e9", IPAD, &[1407]),
        ),
        (
            "InstallApplication/iOS-12.1-prompting.xml",
            ack("7a9df3db-d661-4c1c-aa0e-56d69c8718a5", IPAD),
        ),
        // Munki-style app manifests served to InstallApplication, not device messages.
        (
            "InstallApplication/manifests/Microsoft_AutoUpdate-3.11.17101000.plist",
            NotAMessage,
        ),
        (
            "InstallApplication/manifests/OneDrive-17.3.7078.1101.plist",
            NotAMessage,
        ),
        (
            "InstallApplication/manifests/SkypeForBusinessInstaller-16.12.0.77.plist",
            NotAMessage,
        ),
        (
            "InstallApplication/manifests/dotnet-sdk-2.0.2-osx-x64.plist",
            NotAMessage,
        ),
        (
            "InstallApplication/manifests/munkitools-3.1.0.3430.plist",
            NotAMessage,
        ),
        ("InstalledApplicationList/10.11.x.xml", ack(ZEROS, ZEROS)),
        (
            "InstalledApplicationList/iOS-11.3.1.xml",
            ack("368b6b82-f89c-4af7-8a02-ed72af86116c", IPAD),
        ),
        (
            "InstalledApplicationList/iOS-12.1.xml",
            ack("ca851cf1-e85b-4fed-bf0a-dd7a4e4859b2", IPAD),
        ),
        (
            "ManagedApplicationList/iOS-11.3.1-Failed.xml",
            ack("b3f87776-66a4-40f4-a194-8b451a2eacb1", IPAD),
        ),
        (
            "ManagedApplicationList/iOS-12.1-Failed.xml",
            ack("7fc66d05-4bdb-41e4-9814-5a4c21e74e16", IPAD),
        ),
        (
            "ManagedApplicationList/iOS-12.1-Installing.xml",
            ack("cfaa6f63-6ea9-493c-ab2e-a534937c5eda", IPAD),
        ),
        (
            "ManagedApplicationList/iOS-12.1-Managed.xml",
            ack("0a40830d-1cf9-4a00-a153-d8294e576c3f", IPAD),
        ),
        (
            "ManagedApplicationList/iOS-12.1-RejectedPrompting.xml",
            ack("2dce0324-3a9c-493d-bd7a-2d2a2985a67e", IPAD),
        ),
        (
            "NotNow/iOS-11.3.1.xml",
            Report {
                status: CommandStatus::NotNow,
                command_uuid: "bb5d7813-e7c3-4279-b954-4b678925de5f",
                udid: IPAD,
                error_codes: &[],
            },
        ),
        ("ProfileList/10.11.x.xml", ack(ZEROS, ZEROS)),
        (
            "ProfileList/iOS-11.3.1.xml",
            ack("2d1d3845-3e06-4687-a357-b343ebb17888", IPAD),
        ),
        ("README.rst", NotAPlist),
        ("SecurityInfo/10.11.x.xml", ack(ZEROS, ZEROS)),
        ("SecurityInfo/IOS-9.x.xml", ack(ZEROS, ONES)),
        (
            "SecurityInfo/iOS-11.3.1.xml",
            ack("f1048316-6628-4b32-b2f2-708d7f4d7105", IPAD),
        ),
        (
            "SecurityInfo/macOS-10.13.1.xml",
            ack("bf88d054-bd86-480d-b406-a1bc74a403c0", ZEROS),
        ),
        (
            "TokenUpdate/10.11.x-user.plist",
            checkin(
                "TokenUpdate",
                "00000000-1111-2222-3333-444455556666:00000000-1111-2222-3333-444455556666",
            ),
        ),
        ("TokenUpdate/10.11.x.plist", checkin("TokenUpdate", ZEROS)),
        (
            "TokenUpdate/10.12.2-user.xml",
            checkin(
                "TokenUpdate",
                "E3568F17-92ED-450A-8904-C3BF4CB7E9A5:A522C2FB-D0BA-487E-BBC6-BE0DB2DC7883",
            ),
        ),
        ("TokenUpdate/10.12.2.xml", checkin("TokenUpdate", IMAC)),
        ("TokenUpdate/iOS-11.3.1.xml", InvalidBase64),
        // A DEP MachineInfo (sent during automated enrollment, not to the MDM endpoints).
        ("dep/profile.xml", NotAMessage),
    ]
}

fn nanomdm_cases() -> Vec<(&'static str, Expect)> {
    vec![
        ("Authenticate.1.plist", checkin("Authenticate", NANO_IPAD)),
        ("Authenticate.2.plist", checkin("Authenticate", NANO_IMAC)),
        (
            "DeviceInformation.1.plist",
            ack("76eda240-5488-4989-8339-f2ae160113c4", NANO_IMAC),
        ),
        ("DeviceInformation.1.txt", ExpectedValues),
        ("TokenUpdate.1.plist", checkin("TokenUpdate", NANO_IPAD)),
        ("TokenUpdate.1.txt", ExpectedValues),
        ("TokenUpdate.2.plist", checkin("TokenUpdate", NANO_IMAC)),
        ("TokenUpdate.2.txt", ExpectedValues),
    ]
}

fn read(relative: &str) -> Vec<u8> {
    let path = Path::new(FIXTURES).join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Every file under `dir`, as paths relative to it.
fn walk(dir: &str) -> BTreeSet<String> {
    let root = Path::new(FIXTURES).join(dir);
    let mut found = BTreeSet::new();
    let mut pending = vec![root.clone()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current)
            .unwrap_or_else(|e| panic!("list {}: {e}", current.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(&root).expect("under root");
                found.insert(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found
}

fn check_directory(dir: &str, cases: &[(&'static str, Expect)]) {
    let listed: BTreeSet<String> = cases.iter().map(|(path, _)| (*path).to_owned()).collect();
    assert_eq!(
        listed.len(),
        cases.len(),
        "{dir}: a fixture is listed twice"
    );
    let on_disk = walk(dir);
    let unlisted: Vec<_> = on_disk.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&on_disk).collect();
    assert!(
        unlisted.is_empty(),
        "{dir}: fixtures with no expectation: {unlisted:?}"
    );
    assert!(
        missing.is_empty(),
        "{dir}: expected fixtures not found: {missing:?}"
    );

    for (path, expect) in cases {
        let relative = format!("{dir}/{path}");
        check_fixture(&relative, &read(&relative), expect);
    }
}

fn check_fixture(path: &str, body: &[u8], expect: &Expect) {
    let parsed = parse_message(body);
    match expect {
        Checkin {
            message_type,
            enrollment_id,
        } => {
            let Ok(Message::Checkin(message)) = parsed else {
                panic!("{path}: expected a check-in, got {parsed:?}");
            };
            assert_eq!(message.message_type(), *message_type, "{path}");
            let enrollment = message.ids().enrollment().expect("enrollment");
            assert_eq!(enrollment.id, *enrollment_id, "{path}");
            // parse_checkin agrees with parse_message.
            assert_eq!(parse_checkin(body).as_ref(), Ok(&message), "{path}");
        }
        Report {
            status,
            command_uuid,
            udid,
            error_codes,
        } => {
            let Ok(Message::Report(report)) = parsed else {
                panic!("{path}: expected a report, got {parsed:?}");
            };
            assert_eq!(report.status, *status, "{path}");
            assert_eq!(
                report.command_uuid.as_deref(),
                Some(*command_uuid),
                "{path}"
            );
            assert_eq!(report.ids.udid.as_deref(), Some(*udid), "{path}");
            let enrollment = report.ids.enrollment().expect("enrollment");
            assert_eq!(enrollment.id, *udid, "{path}");
            assert_eq!(enrollment.kind, ChannelKind::Device, "{path}");
            let codes: Vec<i64> = report
                .error_chain
                .iter()
                .map(|item| item.error_code.expect("error code"))
                .collect();
            assert_eq!(codes, *error_codes, "{path}");
            assert_eq!(parse_report(body).as_ref(), Ok(&report), "{path}");
        }
        InvalidBase64 => {
            let err = parsed.expect_err(path);
            assert!(
                matches!(err, ParseError::InvalidData { .. }),
                "{path}: {err:?}"
            );
            let message = err.to_string();
            assert!(
                message.contains("invalid base64 in <data>"),
                "{path}: {message}"
            );
        }
        NotAMessage => {
            let value = parse_plist_value(body).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(value.as_dictionary().is_some(), "{path}");
            assert_eq!(parsed, Err(ParseError::UnknownMessageKind), "{path}");
        }
        NotAPlist => {
            assert_eq!(
                parse_plist_value(body),
                Err(ParseError::NotAPlist),
                "{path}"
            );
        }
        ExpectedValues => {
            // Checked by `nanomdm_expected_values`.
        }
    }
}

#[test]
fn commandment_fixtures() {
    check_directory(COMMANDMENT, &commandment_cases());
}

#[test]
fn nanomdm_fixtures() {
    check_directory(NANOMDM, &nanomdm_cases());
}

fn checkin_at(path: &str) -> CheckinMessage {
    parse_checkin(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Device facts of an Authenticate, in a fixed order for comparison.
fn facts(path: &str) -> [Option<String>; 9] {
    let CheckinMessage::Authenticate(a) = checkin_at(path) else {
        panic!("{path}: not Authenticate");
    };
    [
        a.os_version,
        a.build_version,
        a.product_name,
        a.serial_number,
        a.imei,
        a.meid,
        a.device_name,
        a.model,
        a.model_name,
    ]
}

fn some(values: [&str; 9]) -> [Option<String>; 9] {
    values.map(|v| (!v.is_empty()).then(|| v.to_owned()))
}

#[test]
fn authenticate_device_facts() {
    let cases = [
        (
            "commandment/testdata/Authenticate/10.11.x.xml",
            [
                "10.11.6",
                "15G1004",
                "iMac15,1",
                "C00000000004",
                "",
                "",
                "micromdm-test",
                "iMac15,1",
                "iMac",
            ],
        ),
        (
            "commandment/testdata/Authenticate/10.12.2.xml",
            [
                "10.12.2",
                "16C67",
                "iMac17,1",
                "000000000000",
                "",
                "",
                "commandment",
                "iMac17,1",
                "iMac",
            ],
        ),
        (
            "commandment/testdata/Authenticate/IOS-11.3.1.xml",
            [
                "11.3.1",
                "15E302",
                "iPad4,1",
                "XXXXXXXXXXXX",
                "",
                "",
                "",
                "",
                "",
            ],
        ),
        (
            "commandment/testdata/Authenticate/IOS-9.x.xml",
            [
                "9.3.2",
                "13F69",
                "iPad4,1",
                "XXXXXXXXXXXX",
                "",
                "",
                "",
                "",
                "",
            ],
        ),
        (
            "commandment/testdata/Authenticate/iOS-11.3.1-cell.xml",
            [
                "11.3.1",
                "15E302",
                "iPhone7,2",
                "XXXXXXXXXXXX",
                "11 111111 111111 1",
                "1111111111111",
                "",
                "",
                "",
            ],
        ),
        (
            "nanomdm/mdm/testdata/Authenticate.1.plist",
            [
                "9.3.5",
                "13G36",
                "iPad2,5",
                "F5JM992LF193",
                "",
                "",
                "",
                "",
                "",
            ],
        ),
        (
            "nanomdm/mdm/testdata/Authenticate.2.plist",
            [
                "10.12.6",
                "16G2136",
                "iMac14,2",
                "C02MT66KFLHH",
                "",
                "",
                "Fruit",
                "iMac14,2",
                "iMac",
            ],
        ),
    ];
    for (path, expected) in cases {
        assert_eq!(facts(path), some(expected), "{path}");
    }
}

#[test]
fn authenticate_topics_and_raw() {
    let CheckinMessage::Authenticate(a) =
        checkin_at("commandment/testdata/Authenticate/10.11.x.xml")
    else {
        panic!("not Authenticate");
    };
    assert_eq!(
        a.topic,
        "com.apple.mgmt.test.00000000-1111-2222-3333-444455556666"
    );
    // The Challenge is not modelled but kept.
    assert_eq!(
        a.raw.get("Challenge").and_then(Value::as_data),
        Some(b"apple".as_slice())
    );

    let CheckinMessage::Authenticate(a) = checkin_at("nanomdm/mdm/testdata/Authenticate.1.plist")
    else {
        panic!("not Authenticate");
    };
    assert_eq!(
        a.topic,
        "com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9"
    );
}

fn token_update(path: &str) -> mdm_core::TokenUpdate {
    match checkin_at(path) {
        CheckinMessage::TokenUpdate(t) => t,
        other => panic!("{path}: {other:?}"),
    }
}

#[test]
fn token_update_with_non_canonical_padding() {
    // Token `AAAA=`: one '=' too many, in a real macOS 10.11 user-channel capture.
    let t = token_update("commandment/testdata/TokenUpdate/10.11.x-user.plist");
    assert_eq!(t.token, [0, 0, 0]);
    assert_eq!(t.push_magic, ZEROS);
    assert_eq!(
        t.topic,
        "com.apple.mgmt.test.00000000-1111-2222-3333-444455556666"
    );
    assert_eq!(t.not_on_console, Some(false));
    assert_eq!(t.awaiting_configuration, None);
    assert_eq!(t.ids.udid.as_deref(), Some(ZEROS));
    assert_eq!(t.ids.user_id.as_deref(), Some(ZEROS));
    assert_eq!(t.ids.user_short_name.as_deref(), Some("admin"));
    assert_eq!(t.ids.user_long_name.as_deref(), Some("Administrator"));
    let enrollment = t.ids.enrollment().expect("enrollment");
    assert_eq!(enrollment.kind, ChannelKind::User);
    assert_eq!(enrollment.device_id, ZEROS);
    assert_eq!(enrollment.user_id.as_deref(), Some(ZEROS));
}

#[test]
fn token_update_user_channel() {
    let t = token_update("commandment/testdata/TokenUpdate/10.12.2-user.xml");
    assert_eq!(t.token, b"00201052-A2D0-403D-B857-72F913F5BCCD\n");
    assert_eq!(t.push_magic, "B81B1FEC-09C6-4EC2-871C-E521EC971B38");
    assert_eq!(t.ids.user_short_name.as_deref(), Some("cjoe"));
    assert_eq!(t.ids.user_long_name.as_deref(), Some("Commando Joe"));
    let enrollment = t.ids.enrollment().expect("enrollment");
    assert!(enrollment.is_user_channel());
    assert_eq!(enrollment.device_id, IMAC);
    assert_eq!(
        enrollment.user_id.as_deref(),
        Some("A522C2FB-D0BA-487E-BBC6-BE0DB2DC7883")
    );
}

#[test]
fn token_update_device_channel() {
    let t = token_update("commandment/testdata/TokenUpdate/10.12.2.xml");
    assert_eq!(t.token, b"00201052-A2D0-403D-B857-72F913F5BCCE\n");
    assert_eq!(t.awaiting_configuration, Some(false));
    assert_eq!(t.not_on_console, None);
    assert_eq!(t.topic, "com.apple.mgmt.commandment.dev");

    let t = token_update("commandment/testdata/TokenUpdate/10.11.x.plist");
    assert_eq!(t.token, b"apple");
    assert_eq!(t.push_magic, ZEROS);
}

#[test]
fn nanomdm_token_updates() {
    let t = token_update("nanomdm/mdm/testdata/TokenUpdate.1.plist");
    assert_eq!(
        hex::encode(&t.token),
        "47e8eec062c2f729ec1703c1b3e18f1971d85f00be76445d34080baa701b5f51"
    );
    assert_eq!(t.push_magic, "CEFDF0BD-E342-4A27-8742-E930EA116B0A");
    assert_eq!(t.awaiting_configuration, Some(false));
    let unlock = t.unlock_token.expect("unlock token");
    assert_eq!(unlock.len(), 1288);
    assert!(unlock.starts_with(b"DATA"));
    assert_eq!(t.ids.enrollment().map(|e| e.kind), Ok(ChannelKind::Device));

    let t = token_update("nanomdm/mdm/testdata/TokenUpdate.2.plist");
    assert_eq!(
        hex::encode(&t.token),
        "1ba7c90066c50f77689a24f3a425caf68a300f729e88e460a9416022d5d642cc"
    );
    assert_eq!(t.push_magic, "888CEB39-BFFA-40F6-89FA-B60752EB63C2");
    assert_eq!(t.unlock_token, None);
}

/// Each nanomdm `X.txt` lists device facts (tab-separated) expected for the device that sent
/// `X.plist`; they come from that device's Authenticate, found in the same directory by UDID.
#[test]
fn nanomdm_expected_values() {
    let dir = Path::new(FIXTURES).join(NANOMDM);
    let authenticates: Vec<_> = ["Authenticate.1.plist", "Authenticate.2.plist"]
        .into_iter()
        .map(|name| match checkin_at(&format!("{NANOMDM}/{name}")) {
            CheckinMessage::Authenticate(a) => a,
            other => panic!("{name}: {other:?}"),
        })
        .collect();
    let mut checked = 0;
    for name in walk(NANOMDM).into_iter().filter(|n| n.ends_with(".txt")) {
        let text = std::fs::read_to_string(dir.join(&name)).expect("read txt");
        let plist_name = name.replace(".txt", ".plist");
        let message = parse_message(&read(&format!("{NANOMDM}/{plist_name}"))).expect("parse");
        let udid = message.ids().udid.clone().expect("udid");
        let auth = authenticates
            .iter()
            .find(|a| a.ids.udid.as_deref() == Some(udid.as_str()))
            .unwrap_or_else(|| panic!("{name}: no Authenticate for {udid}"));
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (key, value) = line.split_once('\t').expect("tab-separated line");
            let actual = match key {
                "BuildVersion" => auth.build_version.as_deref(),
                "OSVersion" => auth.os_version.as_deref(),
                "ProductName" => auth.product_name.as_deref(),
                other => panic!("{name}: unexpected key {other}"),
            };
            assert_eq!(actual, Some(value), "{name}: {key}");
            // The raw dictionary agrees with the typed field.
            assert_eq!(
                auth.raw.get(key).and_then(Value::as_string),
                Some(value),
                "{name}: {key}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 9, "three files of three values each");
}

#[test]
fn report_results_are_kept() {
    let body = read("nanomdm/mdm/testdata/DeviceInformation.1.plist");
    let report = parse_report(&body).expect("parse");
    let host = report
        .raw
        .get("QueryResponses")
        .and_then(Value::as_dictionary)
        .and_then(|d| d.get("HostName"))
        .and_then(Value::as_string);
    assert_eq!(host, Some("fruit.example.com"));
    assert!(report.status.is_terminal());

    let body = read("commandment/testdata/InstalledApplicationList/iOS-12.1.xml");
    let report = parse_report(&body).expect("parse");
    let apps = report
        .raw
        .get("InstalledApplicationList")
        .and_then(Value::as_array)
        .expect("list");
    assert!(!apps.is_empty());
}

#[test]
fn error_chain_details() {
    let report = parse_report(&read(
        "commandment/testdata/Errors/iOS-11.3.1-AvailableOSUpdatesFailure.xml",
    ))
    .expect("parse");
    assert_eq!(report.error_chain.len(), 2);
    assert_eq!(
        report.error_chain[0].error_domain.as_deref(),
        Some("DeviceManagement.error")
    );
    assert_eq!(
        report.error_chain[0].localized_description.as_deref(),
        Some("No update available.")
    );
    assert_eq!(
        report.error_chain[1].error_domain.as_deref(),
        Some("com.apple.softwareupdateservices.errors")
    );
    assert_eq!(report.error_chain[1].us_english_description, None);

    let report = parse_report(&read(
        "commandment/testdata/Errors/error_invalid_request_type.plist",
    ))
    .expect("parse");
    let item = &report.error_chain[0];
    assert_eq!(item.error_domain.as_deref(), Some("MCMDMErrorDomain"));
    assert_eq!(
        item.us_english_description.as_deref(),
        Some("\u{201c}OSUpdateStatus\u{201d} is not a valid request type.")
    );
    assert_eq!(item.localized_description, item.us_english_description);
}

#[test]
fn invalid_base64_names_the_problem() {
    for path in [
        "commandment/testdata/TokenUpdate/iOS-11.3.1.xml",
        "commandment/testdata/CertificateList/iOS-11.3.1.xml",
    ] {
        let body = read(path);
        for result in [
            parse_plist_value(&body).map(|_| ()),
            parse_message(&body).map(|_| ()),
        ] {
            match result {
                Err(ParseError::InvalidData { offset, .. }) => {
                    // The offset points just past the offending element.
                    let before = String::from_utf8_lossy(&body[..offset]);
                    assert!(before.trim_end().ends_with("</data>"), "{path}: {before}");
                    assert!(before.contains("Base64="), "{path}");
                }
                other => panic!("{path}: {other:?}"),
            }
        }
    }
}

// ---- micromdm/plist conformance ----

#[test]
fn plist_xml_conformance() {
    let dir = Path::new(FIXTURES).join("plist/testdata/xml");
    let names = walk("plist/testdata/xml");
    assert!(names.len() >= 19, "{names:?}");
    for name in names {
        let body = std::fs::read(dir.join(&name)).expect("read");
        let result = parse_plist_value(&body);
        if name.ends_with(".failure.plist") {
            assert!(result.is_err(), "{name} must be rejected, got {result:?}");
        } else {
            let value = result.unwrap_or_else(|e| panic!("{name} must be accepted: {e}"));
            let dict = value
                .as_dictionary()
                .unwrap_or_else(|| panic!("{name}: not a dict"));
            assert_eq!(
                dict.get("key").and_then(Value::as_string),
                Some("val"),
                "{name}"
            );
        }
    }
}

#[test]
fn plist_binary_fixtures() {
    let sample = parse_plist_value(&read("plist/testdata/sample2.binary.plist")).expect("sample2");
    let dict = sample.as_dictionary().expect("dict");
    let strings = dict
        .get("strings")
        .and_then(Value::as_array)
        .expect("strings");
    assert_eq!(strings[1].as_string(), Some("こんにちは世界"));
    let ints = dict.get("ints").and_then(Value::as_array).expect("ints");
    assert_eq!(ints[2].as_signed_integer(), Some(-42));
    assert_eq!(ints[7].as_signed_integer(), Some(i64::MAX));

    let uid = parse_plist_value(&read("plist/testdata/uid.binary.plist")).expect("uid");
    let dict = uid.as_dictionary().expect("dict");
    assert_eq!(
        dict.get("$archiver").and_then(Value::as_string),
        Some("NSKeyedArchiver")
    );
    let root = dict
        .get("$top")
        .and_then(Value::as_dictionary)
        .and_then(|top| top.get("root"))
        .and_then(Value::as_uid)
        .map(|uid| uid.get());
    assert_eq!(root, Some(1));
}

#[test]
fn plist_crashers_neither_panic_nor_hang() {
    let dir = Path::new(FIXTURES).join("plist/testdata/crashers");
    let names = walk("plist/testdata/crashers");
    assert!(!names.is_empty());
    for name in names {
        let body = std::fs::read(dir.join(&name)).expect("read");
        let (done, result) = mpsc::channel();
        std::thread::spawn(move || {
            // A panic drops `done` without sending, which the receiver reports.
            let _ = done.send(parse_plist_value(&body).map(|_| ()));
        });
        match result.recv_timeout(Duration::from_secs(20)) {
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("{name}: parsing hangs"),
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{name}: parsing panicked"),
        }
    }
}
