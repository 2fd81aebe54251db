//! Devices and their apps as tables (`devices show` prints every field: [`crate::record`]).

use crate::duration::age;
use crate::table::Table;
use mdm_api::devices::{App, Device};
use std::time::SystemTime;

/// The fields `devices show` puts first: which device it is and where it stands.
pub const SHOWN_FIRST: &[&str] = &[
    "enrollment_id",
    "device_id",
    "user_id",
    "status",
    "device_name",
    "serial_number",
    "product_name",
    "model_name",
    "os_version",
    "last_seen_at",
];

/// One row per enrollment; "last seen" as an age relative to `now`.
pub fn list(devices: &[Device], now: SystemTime) -> Table {
    let mut table = Table::new([
        "ENROLLMENT ID",
        "STATUS",
        "NAME",
        "PRODUCT",
        "OS",
        "SERIAL",
        "LAST SEEN",
    ]);
    for d in devices {
        table.row([
            d.enrollment_id.clone(),
            d.status.as_str().to_owned(),
            text(&d.device_name),
            text(&d.product_name),
            text(&d.os_version),
            text(&d.serial_number),
            d.last_seen_at
                .as_deref()
                .map_or_else(|| "never".into(), |at| age(now, at)),
        ]);
    }
    table
}

/// One row per app, in the server's order.
pub fn apps(apps: &[App]) -> Table {
    let mut table = Table::new(["IDENTIFIER", "NAME", "VERSION", "BUILD", "SIZE"]);
    for a in apps {
        table.row([
            a.identifier.clone(),
            text(&a.name),
            text(&a.version),
            text(&a.build),
            a.size_bytes.map(megabytes).unwrap_or_default(),
        ]);
    }
    table
}

/// A size in MB with one decimal: apps range from kilobytes to gigabytes.
fn megabytes(bytes: u64) -> String {
    // f64 is exact to far beyond any app's size.
    let mb = bytes as f64 / 1_000_000.0;
    format!("{mb:.1} MB")
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::parse_timestamp;
    use serde_json::{json, Value};

    /// A device of the API with `fields` over the required ones.
    fn device(fields: Value) -> Device {
        let mut document = json!({
            "enrollment_id": "", "device_id": "", "status": "enrolled",
            "has_push_magic": false, "has_unlock_token": false, "has_bootstrap_token": false,
            "awaiting_configuration": false, "generation": 1, "inventory": {},
        });
        if let (Some(base), Value::Object(fields)) = (document.as_object_mut(), fields) {
            base.extend(fields);
        }
        serde_json::from_value(document).expect("a Device")
    }

    #[test]
    fn a_list_row_shows_identity_os_and_age() {
        let now = parse_timestamp("2026-11-21T12:00:00Z").expect("time");
        let devices = [
            device(json!({
                "enrollment_id": "UDID-1", "device_name": "Test iPhone",
                "product_name": "iPhone10,4", "os_version": "11.3.1",
                "serial_number": "C39TEST0001", "last_seen_at": "2026-11-21T11:00:00Z",
            })),
            device(json!({"enrollment_id": "UDID-2", "status": "authenticated"})),
        ];
        let text = list(&devices, now).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("ENROLLMENT ID  STATUS"), "{text}");
        assert!(
            lines[1].contains("Test iPhone") && lines[1].ends_with("1h ago"),
            "{text}"
        );
        assert!(
            lines[2].contains("authenticated") && lines[2].ends_with("never"),
            "{text}"
        );
    }

    #[test]
    fn apps_show_versions_and_sizes() {
        let apps = [App {
            identifier: "com.example.app".into(),
            name: Some("Example".into()),
            version: Some("2.1".into()),
            build: None,
            size_bytes: Some(48_230_000),
        }];
        let text = super::apps(&apps).to_string();
        assert_eq!(
            text.lines().nth(1),
            Some("com.example.app  Example  2.1      -      48.2 MB")
        );
    }
}
