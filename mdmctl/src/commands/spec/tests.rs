use super::*;
use crate::exit::{code_of, USAGE};
use serde_json::json;

fn usage_message(result: anyhow::Result<Built>) -> String {
    let error = result.expect_err("refused");
    assert_eq!(code_of(&error), USAGE, "{error:#}");
    format!("{error:#}")
}

#[test]
fn typed_commands_become_the_api_json() {
    let flags = CommandFlags {
        queries: vec!["OSVersion".into(), "DeviceName".into()],
        ..CommandFlags::default()
    };
    let built = build("deviceinformation", &flags).expect("built");
    assert_eq!(built.request_type, "DeviceInformation");
    assert_eq!(
        Value::Object(built.command),
        json!({"request_type": "DeviceInformation", "queries": ["OSVersion", "DeviceName"]})
    );
    let flags = CommandFlags {
        pin: Some("123456".into()),
        message: Some("Call me".into()),
        ..CommandFlags::default()
    };
    let built = build("DeviceLock", &flags).expect("built");
    assert_eq!(
        Value::Object(built.command),
        json!({"request_type": "DeviceLock", "pin": "123456", "message": "Call me"})
    );
    let built = build("EraseDevice", &CommandFlags::default()).expect("no flags needed");
    assert_eq!(
        Value::Object(built.command),
        json!({"request_type": "EraseDevice"})
    );
}

#[test]
fn mistakes_are_usage_errors_before_anything_is_sent() {
    let pin = CommandFlags {
        pin: Some("1234".into()),
        ..CommandFlags::default()
    };
    assert!(usage_message(build("DeviceLock", &pin)).contains("PIN"));
    let message = usage_message(build("RestartDevice", &pin));
    assert!(
        message.contains("--pin does not apply to RestartDevice"),
        "{message}"
    );
    let message = usage_message(build("RemoveProfile", &CommandFlags::default()));
    assert!(message.contains("--identifier"), "{message}");
    let message = usage_message(build("Settings", &CommandFlags::default()));
    assert!(message.contains("no typed flags"), "{message}");
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
    assert_eq!(built.command["payload"], "PHBsaXN0PnByb2ZpbGU8L3BsaXN0Pg==");
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

    let garbage = dir.path().join("garbage.plist");
    std::fs::write(&garbage, "not a plist").expect("written");
    let flags = CommandFlags {
        plist: Some(garbage),
        ..CommandFlags::default()
    };
    let error = build("Settings", &flags).expect_err("refused");
    assert!(format!("{error:#}").contains("is not a Command dictionary plist"));
}
