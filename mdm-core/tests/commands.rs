//! Commands and command results against third-party fixtures, read from the repository's
//! `fixtures/` (see its README for provenance and licences): real command results converted to JSON for the admin API, and micromdm's
//! InstallProfile command in both its plist and its JSON form.
//!
//! The result directories are walked, and every file must appear in the table below: a new
//! capture dropped in the tree fails the test until someone says what it should convert to.

use std::collections::BTreeSet;
use std::path::Path;

use mdm_core::{
    parse_full_command, render_command, report_to_json, request_type_of, CommandSpec, ParseError,
};
use plist::Value;
use serde_json::{json, Value as Json};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");
const COMMANDMENT: &str = "commandment/testdata";
const RESULT_DIRS: [&str; 5] = [
    "DeviceInformation",
    "SecurityInfo",
    "ProfileList",
    "InstalledApplicationList",
    "CertificateList",
];

fn read(path: &str) -> Vec<u8> {
    let full = Path::new(FIXTURES).join(path);
    std::fs::read(&full).unwrap_or_else(|err| panic!("read {}: {err}", full.display()))
}

/// Looks up a JSON pointer (`/QueryResponses/DeviceName`), failing with the file's name.
fn at<'a>(name: &str, json: &'a Json, pointer: &str) -> &'a Json {
    json.pointer(pointer)
        .unwrap_or_else(|| panic!("{name}: nothing at {pointer}"))
}

/// Checks the values at the given pointers.
fn expect_values(name: &str, json: &Json, expected: &[(&str, Json)]) {
    for (pointer, value) in expected {
        assert_eq!(at(name, json, pointer), value, "{name}: {pointer}");
    }
}

/// The text of every `<data>` element in a fixture, whitespace removed: the base64 the JSON must
/// carry, read without a plist parser.
fn data_texts(xml: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(xml);
    text.split("<data>")
        .skip(1)
        .filter_map(|rest| rest.split("</data>").next())
        .map(|data| data.chars().filter(|c| !c.is_whitespace()).collect())
        .collect()
}

type Check = fn(&str, &[u8], &Json);

fn cases() -> Vec<(&'static str, Check)> {
    vec![
        ("DeviceInformation/10.11.x.xml", |name, _, json| {
            expect_values(
                name,
                json,
                &[
                    ("/Status", json!("Acknowledged")),
                    (
                        "/CommandUUID",
                        json!("00000000-1111-2222-3333-444455556666"),
                    ),
                    ("/QueryResponses/DeviceName", json!("micromdm-testing")),
                    ("/QueryResponses/OSVersion", json!("10.11.6")),
                    ("/QueryResponses/SerialNumber", json!("C00000000004")),
                    (
                        "/QueryResponses/DeviceCapacity",
                        json!(464.822_410_583_496_1),
                    ),
                    (
                        "/QueryResponses/AvailableDeviceCapacity",
                        json!(60.977_592_468_261_72),
                    ),
                    ("/QueryResponses/AwaitingConfiguration", json!(false)),
                    ("/QueryResponses/iTunesStoreAccountIsActive", json!(true)),
                    ("/QueryResponses/Languages", json!(["en"])),
                    (
                        "/QueryResponses/OSUpdateSettings/PreviousScanDate",
                        json!("2016-11-03T03:12:26Z"),
                    ),
                    (
                        "/QueryResponses/OSUpdateSettings/PreviousScanResult",
                        json!(0),
                    ),
                ],
            );
        }),
        ("DeviceInformation/iOS-11.3.1.xml", |name, _, json| {
            expect_values(
                name,
                json,
                &[
                    (
                        "/CommandUUID",
                        json!("3ab89975-490b-4f33-80c7-0982069272ba"),
                    ),
                    ("/QueryResponses/DeviceName", json!("iPad")),
                    ("/QueryResponses/ProductName", json!("iPad4,1")),
                    ("/QueryResponses/DeviceCapacity", json!(26.914535522460938)),
                    ("/QueryResponses/IsRoaming", json!(false)),
                    ("/QueryResponses/SubscriberMCC", json!("")),
                    ("/UDID", json!("1c111c111c111c111c111c111c111c111c111c11")),
                ],
            );
        }),
        ("DeviceInformation/macOS-10.13.1.xml", |name, _, json| {
            expect_values(
                name,
                json,
                &[
                    ("/QueryResponses/DeviceName", json!("commandment")),
                    ("/QueryResponses/ModelName", json!("Mac Pro")),
                    ("/QueryResponses/ActiveManagedUsers", json!([])),
                    (
                        "/QueryResponses/SystemIntegrityProtectionEnabled",
                        json!(false),
                    ),
                    (
                        "/QueryResponses/OSUpdateSettings/PreviousScanDate",
                        json!("2018-06-30T13:46:38Z"),
                    ),
                    ("/QueryResponses/Locales/0", json!("en_AU")),
                ],
            );
            let locales = at(name, json, "/QueryResponses/Locales").as_array();
            assert_eq!(locales.map(Vec::len), Some(789), "{name}");
        }),
        ("SecurityInfo/10.11.x.xml", |name, _, json| {
            expect_values(
                name,
                json,
                &[
                    ("/RequestType", json!("SecurityInfo")),
                    ("/SecurityInfo", json!({ "FDE_Enabled": false })),
                ],
            );
        }),
        ("SecurityInfo/IOS-9.x.xml", |name, _, json| {
            expect_values(
                name,
                json,
                &[
                    ("/SecurityInfo/HardwareEncryptionCaps", json!(3)),
                    ("/SecurityInfo/PasscodeCompliant", json!(true)),
                    ("/SecurityInfo/PasscodePresent", json!(false)),
                    ("/SecurityInfo/PasscodeLockGracePeriod", json!(0)),
                    ("/UDID", json!("1111111111111111111111111111111111111111")),
                ],
            );
        }),
        ("SecurityInfo/iOS-11.3.1.xml", |name, _, json| {
            expect_values(
                name,
                json,
                &[
                    (
                        "/CommandUUID",
                        json!("f1048316-6628-4b32-b2f2-708d7f4d7105"),
                    ),
                    ("/SecurityInfo/HardwareEncryptionCaps", json!(3)),
                    ("/SecurityInfo/PasscodeCompliantWithProfiles", json!(true)),
                    ("/SecurityInfo/PasscodeLockGracePeriodEnforced", json!(0)),
                ],
            );
        }),
        ("SecurityInfo/macOS-10.13.1.xml", |name, _, json| {
            expect_values(
                name,
                json,
                &[
                    ("/SecurityInfo/FDE_Enabled", json!(false)),
                    (
                        "/SecurityInfo/FirewallSettings/Applications",
                        json!([
                            { "Allowed": true, "Name": "pia_openvpn" },
                            { "Allowed": true, "Name": "pia_openvpn_client" },
                        ]),
                    ),
                    ("/SecurityInfo/FirewallSettings/StealthMode", json!(false)),
                    ("/SecurityInfo/FirmwarePasswordStatus", json!({})),
                ],
            );
        }),
        ("ProfileList/10.11.x.xml", |name, _, json| {
            expect_values(
                name,
                json,
                &[
                    ("/RequestType", json!("ProfileList")),
                    (
                        "/ProfileList/0/PayloadIdentifier",
                        json!("com.github.micromdm.micromdm.mdm"),
                    ),
                    (
                        "/ProfileList/0/PayloadUUID",
                        json!("dd3c707b-b18c-4979-bd94-2fe5cd804a47"),
                    ),
                    ("/ProfileList/0/HasRemovalPasscode", json!(false)),
                    (
                        "/ProfileList/0/PayloadContent/0/PayloadIdentifier",
                        json!("com.github.micromdm.tls"),
                    ),
                    ("/ProfileList/0/PayloadContent/0/PayloadVersion", json!(1)),
                ],
            );
            assert_eq!(
                at(name, json, "/ProfileList/0/PayloadContent")
                    .as_array()
                    .map(Vec::len),
                Some(4)
            );
        }),
        ("ProfileList/iOS-11.3.1.xml", |name, _, json| {
            expect_values(
                name,
                json,
                &[
                    (
                        "/ProfileList/0/PayloadIdentifier",
                        json!("dev.commandment.enroll"),
                    ),
                    (
                        "/ProfileList/0/PayloadOrganization",
                        json!("Commandment Inc"),
                    ),
                    ("/ProfileList/0/IsManaged", json!(false)),
                    (
                        "/ProfileList/0/PayloadContent/0/PayloadIdentifier",
                        json!("dev.commandment.ca"),
                    ),
                    (
                        "/ProfileList/0/PayloadContent/3/PayloadType",
                        json!("com.apple.mdm"),
                    ),
                ],
            );
        }),
        ("InstalledApplicationList/10.11.x.xml", |name, _, json| {
            expect_values(
                name,
                json,
                &[
                    (
                        "/InstalledApplicationList/0/Identifier",
                        json!("com.apple.systempreferences"),
                    ),
                    ("/InstalledApplicationList/0/BundleSize", json!(5855484)),
                    ("/InstalledApplicationList/1/Name", json!("Set Info")),
                    ("/InstalledApplicationList/2/BundleSize", json!(0)),
                ],
            );
            assert_eq!(
                json.pointer("/InstalledApplicationList/1/Identifier"),
                None,
                "{name}: absent keys stay absent"
            );
        }),
        (
            "InstalledApplicationList/iOS-11.3.1.xml",
            |name, _, json| {
                expect_values(
                    name,
                    json,
                    &[
                        (
                            "/InstalledApplicationList/0/Identifier",
                            json!("com.microsoft.lync2013.iphone"),
                        ),
                        ("/InstalledApplicationList/0/BundleSize", json!(143695872)),
                        (
                            "/InstalledApplicationList/0/ExternalVersionIdentifier",
                            json!(827127239),
                        ),
                        ("/InstalledApplicationList/0/IsValidated", json!(true)),
                        ("/InstalledApplicationList/1/Name", json!("1Password")),
                    ],
                );
                let apps = at(name, json, "/InstalledApplicationList").as_array();
                assert_eq!(apps.map(Vec::len), Some(5), "{name}");
            },
        ),
        ("InstalledApplicationList/iOS-12.1.xml", |name, _, json| {
            expect_values(
                name,
                json,
                &[
                    (
                        "/InstalledApplicationList/1/Identifier",
                        json!("com.seek.jobseeker"),
                    ),
                    ("/InstalledApplicationList/1/Version", json!("714")),
                    (
                        "/InstalledApplicationList/0/HasUpdateAvailable",
                        json!(true),
                    ),
                ],
            );
            let apps = at(name, json, "/InstalledApplicationList").as_array();
            assert_eq!(apps.map(Vec::len), Some(12), "{name}");
        }),
        ("CertificateList/10.11.x.xml", |name, xml, json| {
            expect_values(
                name,
                json,
                &[
                    (
                        "/CertificateList/0/CommonName",
                        json!("com.apple.systemdefault"),
                    ),
                    ("/CertificateList/0/IsIdentity", json!(true)),
                    (
                        "/CertificateList/1/CommonName",
                        json!("Apple Worldwide Developer Relations Certification Authority"),
                    ),
                ],
            );
            // Data becomes the base64 the device sent (minus its line wrapping).
            let expected = data_texts(xml);
            assert_eq!(expected.len(), 2, "{name}");
            for (index, base64) in expected.iter().enumerate() {
                let pointer = format!("/CertificateList/{index}/Data");
                assert_eq!(
                    at(name, json, &pointer),
                    &json!(base64),
                    "{name}: {pointer}"
                );
                // A DER certificate: a SEQUENCE with a two-byte length, "MII…" in base64.
                assert!(base64.starts_with("MII"), "{name}: {base64}");
            }
        }),
        ("CertificateList/iOS-11.3.1.xml", |name, _, json| {
            panic!("{name}: converted although its <data> is a placeholder: {json}")
        }),
    ]
}

/// Fixtures that cannot convert, and why.
fn failure(name: &str) -> Option<fn(&ParseError) -> bool> {
    match name {
        // The anonymisation left `Base64=` in the <data> elements, which is not base64 of any
        // byte string; the bounded parser refuses it rather than invent bytes.
        "CertificateList/iOS-11.3.1.xml" => {
            Some(|err| matches!(err, ParseError::InvalidData { .. }))
        }
        _ => None,
    }
}

#[test]
fn command_results_convert_to_json() {
    let cases = cases();
    let listed: BTreeSet<&str> = cases.iter().map(|(name, _)| *name).collect();
    let mut on_disk = BTreeSet::new();
    for dir in RESULT_DIRS {
        let full = Path::new(FIXTURES).join(COMMANDMENT).join(dir);
        let entries =
            std::fs::read_dir(&full).unwrap_or_else(|err| panic!("list {}: {err}", full.display()));
        for entry in entries {
            let entry = entry.expect("directory entry");
            on_disk.insert(format!("{dir}/{}", entry.file_name().to_string_lossy()));
        }
    }
    let on_disk: BTreeSet<&str> = on_disk.iter().map(String::as_str).collect();
    assert_eq!(
        listed, on_disk,
        "every result fixture is listed, and only those"
    );

    for (name, check) in cases {
        let xml = read(&format!("{COMMANDMENT}/{name}"));
        match (report_to_json(&xml), failure(name)) {
            (Ok(json), None) => {
                assert!(json.is_object(), "{name}");
                check(name, &xml, &json);
            }
            (Err(err), Some(expected)) => assert!(expected(&err), "{name}: {err:?}"),
            (Ok(_), Some(_)) => panic!("{name}: converted, but should not"),
            (Err(err), None) => panic!("{name}: {err}"),
        }
    }
}

#[test]
fn install_profile_fixture_is_a_full_command() {
    let xml = read("micromdm/mdm/mdm/testdata/InstallProfile.plist");
    let (command, uuid) = parse_full_command(&xml).expect("parse");
    assert_eq!(
        uuid.as_deref(),
        Some("7e761ec5-9e20-42d1-9072-3d5a611e3ac5")
    );
    assert_eq!(request_type_of(&command), Some("InstallProfile"));
    assert_eq!(
        command.get("Payload"),
        Some(&Value::Data(b"foobarbaz".to_vec()))
    );
    // Not a bare command dictionary.
    assert_eq!(
        mdm_core::parse_command_plist(&xml),
        Err(ParseError::MissingField("RequestType"))
    );
}

#[test]
fn install_profile_json_renders_as_the_fixture() {
    // micromdm's JSON form of the same command: {"command_uuid", "command": {request_type, …}}.
    let json: Json = serde_json::from_slice(&read("micromdm/mdm/mdm/testdata/InstallProfile.json"))
        .expect("JSON");
    let spec: CommandSpec = serde_json::from_value(json["command"].clone()).expect("a CommandSpec");
    let uuid = json["command_uuid"].as_str().expect("command_uuid");
    let rendered = render_command(&spec.to_command().expect("to_command"), uuid);

    let expected =
        parse_full_command(&read("micromdm/mdm/mdm/testdata/InstallProfile.plist")).expect("parse");
    assert_eq!(
        parse_full_command(&rendered).expect("parse rendered"),
        expected
    );
}
