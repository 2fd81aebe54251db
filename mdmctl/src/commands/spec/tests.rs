use super::*;
use crate::exit::{code_of, USAGE};
use serde_json::json;

fn usage_message(result: anyhow::Result<Built>) -> String {
    let error = result.expect_err("refused");
    assert_eq!(code_of(&error), USAGE, "{error:#}");
    format!("{error:#}")
}

fn set(settings: &[&str]) -> CommandFlags {
    CommandFlags {
        set: settings.iter().map(|s| (*s).to_owned()).collect(),
        ..CommandFlags::default()
    }
}

#[test]
fn flags_become_the_command_with_apples_keys() {
    let flags = CommandFlags {
        queries: vec!["OSVersion".into(), "DeviceName".into()],
        ..CommandFlags::default()
    };
    let built = build("deviceinformation", &flags).expect("built");
    assert_eq!(built.request_type, "DeviceInformation");
    assert_eq!(
        Value::Object(built.command),
        json!({"RequestType": "DeviceInformation", "Queries": ["OSVersion", "DeviceName"]})
    );
    let flags = CommandFlags {
        pin: Some("123456".into()),
        message: Some("Call me".into()),
        ..CommandFlags::default()
    };
    let built = build("DeviceLock", &flags).expect("built");
    assert_eq!(
        Value::Object(built.command),
        json!({"RequestType": "DeviceLock", "PIN": "123456", "Message": "Call me"})
    );
    let built = build("EraseDevice", &CommandFlags::default()).expect("no flags needed");
    assert_eq!(
        Value::Object(built.command),
        json!({"RequestType": "EraseDevice"})
    );
    // Without --query, DeviceInformation asks for the default inventory.
    let built = build("DeviceInformation", &CommandFlags::default()).expect("built");
    assert_eq!(
        built.command["Queries"],
        json!(DEFAULT_DEVICE_INFORMATION_QUERIES)
    );
    // A flag applies wherever the schema has its key: --managed-only is ManagedOnly here.
    let flags = CommandFlags {
        managed_only: true,
        ..CommandFlags::default()
    };
    let built = build("ProfileList", &flags).expect("built");
    assert_eq!(built.command["ManagedOnly"], json!(true));
}

#[test]
fn any_key_of_any_request_type_is_set_by_its_schema_type() {
    let built = build(
        "Settings",
        &set(&[r#"Settings=[{"Item": "Bluetooth", "Enabled": false}]"#]),
    )
    .expect("built");
    assert_eq!(
        built.command["Settings"],
        json!([{"Item": "Bluetooth", "Enabled": false}])
    );
    let built = build(
        "RestartDevice",
        &set(&["NotifyUser=yes", "KextPaths=/a", "KextPaths=/b"]),
    )
    .expect("built");
    assert_eq!(built.command["NotifyUser"], json!(true));
    assert_eq!(built.command["KextPaths"], json!(["/a", "/b"]));
    let built = build(
        "InstallMedia",
        &set(&["MediaType=Book", "iTunesStoreID=42"]),
    )
    .expect("built");
    assert_eq!(built.command["iTunesStoreID"], json!(42));

    let message = usage_message(build(
        "InstallMedia",
        &set(&["MediaType=Book", "iTunesStoreID=x"]),
    ));
    assert!(
        message.contains("iTunesStoreID: \"x\" is not an integer"),
        "{message}"
    );
    let message = usage_message(build("DeviceLock", &set(&["Pin=123456"])));
    assert!(
        message.contains("DeviceLock has no key \"Pin\""),
        "{message}"
    );
    assert!(message.contains("Message, PhoneNumber, PIN"), "{message}");
    let message = usage_message(build("DeviceLock", &set(&["PIN"])));
    assert!(message.contains("write KEY=VALUE"), "{message}");
}

#[test]
fn mistakes_are_usage_errors_before_anything_is_sent() {
    let pin = CommandFlags {
        pin: Some("1234".into()),
        ..CommandFlags::default()
    };
    let message = usage_message(build("DeviceLock", &pin));
    assert!(message.contains("PIN must be six digits"), "{message}");
    let message = usage_message(build("RestartDevice", &pin));
    assert!(
        message.contains("--pin does not apply to RestartDevice"),
        "{message}"
    );
    let message = usage_message(build("RemoveProfile", &CommandFlags::default()));
    assert!(
        message.contains("RemoveProfile needs Identifier (--identifier"),
        "{message}"
    );
    let message = usage_message(build("Settings", &CommandFlags::default()));
    assert!(
        message.contains("Settings needs Settings (--set Settings=JSON)"),
        "{message}"
    );
    let message = usage_message(build("InstallProfile", &CommandFlags::default()));
    assert!(
        message.contains("InstallProfile needs Payload (--file FILE)"),
        "{message}"
    );
    let message = usage_message(build(
        "Settings",
        &set(&[r#"Settings=[{"Item": "Bluetooth", "Enabled": "no"}]"#]),
    ));
    assert!(
        message.contains("Settings[0].Enabled must be a boolean, not a string"),
        "{message}"
    );
    let message = usage_message(build("DeviceLok", &CommandFlags::default()));
    assert!(message.contains("did you mean DeviceLock?"), "{message}");
}

#[test]
fn a_profile_file_is_sent_as_base64() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wifi.mobileconfig");
    std::fs::write(&path, b"<plist>profile</plist>").expect("written");
    let flags = CommandFlags {
        file: Some(path),
        ..CommandFlags::default()
    };
    let built = build("InstallProfile", &flags).expect("built");
    assert_eq!(
        built.command["Payload"],
        json!({"$data": "PHBsaXN0PnByb2ZpbGU8L3BsaXN0Pg=="})
    );
}

#[test]
fn the_help_lists_every_request_type_of_the_schema() {
    let help = request_types_help();
    for request_type in catalogue().commands.keys() {
        assert!(
            help.contains(&format!("  {request_type}  (")),
            "{request_type}"
        );
    }
    assert!(
        help.contains("  DeviceLock  (iOS 4.0, macOS 10.7, visionOS 2.0, watchOS 10.0)"),
        "{help}"
    );
    assert!(help.contains("keys: Identifier*"), "{help}");
}

#[test]
fn a_plist_file_is_sent_raw_and_must_match_the_request_type() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bare = dir.path().join("settings.plist");
    std::fs::write(
        &bare,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>\
         <key>RequestType</key><string>Settings</string>\
         <key>Settings</key><array/></dict></plist>",
    )
    .expect("written");
    let flags = CommandFlags {
        plist: Some(bare.clone()),
        ..CommandFlags::default()
    };
    let built = build("Settings", &flags).expect("built");
    assert_eq!(built.request_type, "Settings");
    let xml = built.command["plist"].as_str().expect("xml text");
    assert!(xml.contains("<string>Settings</string>"), "{xml}");
    let message = usage_message(build("ProfileList", &flags));
    assert!(message.contains("holds a Settings command"), "{message}");

    // The whole document as sent to a device is accepted too, its CommandUUID dropped.
    let full = dir.path().join("erase.plist");
    std::fs::write(
        &full,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>\
         <key>Command</key><dict><key>RequestType</key><string>EraseDevice</string></dict>\
         <key>CommandUUID</key><string>abc</string></dict></plist>",
    )
    .expect("written");
    let flags = CommandFlags {
        plist: Some(full),
        ..CommandFlags::default()
    };
    let built = build("EraseDevice", &flags).expect("built");
    let xml = built.command["plist"].as_str().expect("xml text");
    assert!(!xml.contains("CommandUUID"), "{xml}");

    // A plist is checked against the schema like any other form.
    let wrong = dir.path().join("wrong.plist");
    std::fs::write(
        &wrong,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>\
         <key>RequestType</key><string>EraseDevice</string><key>Pin</key><string>1</string>\
         </dict></plist>",
    )
    .expect("written");
    let flags = CommandFlags {
        plist: Some(wrong),
        ..CommandFlags::default()
    };
    let message = usage_message(build("EraseDevice", &flags));
    assert!(
        message.contains("EraseDevice: unknown key Pin"),
        "{message}"
    );

    let garbage = dir.path().join("garbage.plist");
    std::fs::write(&garbage, "not a plist").expect("written");
    let flags = CommandFlags {
        plist: Some(garbage),
        ..CommandFlags::default()
    };
    let error = build("Settings", &flags).expect_err("refused");
    assert!(format!("{error:#}").contains("is not a Command dictionary plist"));
}
