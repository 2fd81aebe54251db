//! Enrollments as tables: a row per device for `list`, a field per row for `show`.

use crate::client::model::Enrollment;
use crate::duration::age;
use crate::table::Table;
use std::time::SystemTime;

/// One row per enrollment; "last seen" as an age relative to `now`.
pub fn list(devices: &[Enrollment], now: SystemTime) -> Table {
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
            d.status.clone(),
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

/// Every field of one enrollment, in the API's order; unknown fields last.
pub fn show(d: &Enrollment) -> Table {
    let mut table = Table::without_header();
    let mut field = |name: &str, value: String| table.row([name.to_owned(), value]);
    field("enrollment_id", d.enrollment_id.clone());
    field("device_id", d.device_id.clone());
    field("user_id", text(&d.user_id));
    field("status", d.status.clone());
    field("device_name", text(&d.device_name));
    field("serial_number", text(&d.serial_number));
    field("product_name", text(&d.product_name));
    field("model", text(&d.model));
    field("model_name", text(&d.model_name));
    field("os_version", text(&d.os_version));
    field("build_version", text(&d.build_version));
    field("imei", text(&d.imei));
    field("meid", text(&d.meid));
    field("user_short_name", text(&d.user_short_name));
    field("user_long_name", text(&d.user_long_name));
    field("topic", text(&d.topic));
    field("push_token", text(&d.push_token));
    field("cert_sha256", text(&d.cert_sha256));
    field("has_push_magic", d.has_push_magic.to_string());
    field("has_unlock_token", d.has_unlock_token.to_string());
    field("has_bootstrap_token", d.has_bootstrap_token.to_string());
    field(
        "awaiting_configuration",
        d.awaiting_configuration.to_string(),
    );
    field("created_at", text(&d.created_at));
    field("authenticated_at", text(&d.authenticated_at));
    field("token_updated_at", text(&d.token_updated_at));
    field("checked_out_at", text(&d.checked_out_at));
    field("last_seen_at", text(&d.last_seen_at));
    for (name, value) in &d.other {
        field(name, value.to_string());
    }
    table
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::parse_timestamp;

    #[test]
    fn a_list_row_shows_identity_os_and_age() {
        let now = parse_timestamp("2026-11-21T12:00:00Z").expect("time");
        let devices = [
            Enrollment {
                enrollment_id: "UDID-1".into(),
                status: "enrolled".into(),
                device_name: Some("Test iPhone".into()),
                product_name: Some("iPhone10,4".into()),
                os_version: Some("11.3.1".into()),
                serial_number: Some("C39TEST0001".into()),
                last_seen_at: Some("2026-11-21T11:00:00Z".into()),
                ..Enrollment::default()
            },
            Enrollment {
                enrollment_id: "UDID-2".into(),
                status: "authenticated".into(),
                ..Enrollment::default()
            },
        ];
        let text = list(&devices, now).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("ENROLLMENT ID  STATUS"), "{text}");
        assert!(
            lines[1].contains("Test iPhone") && lines[1].ends_with("1h ago"),
            "{text}"
        );
        assert!(lines[2].ends_with("never"), "{text}");
    }

    #[test]
    fn show_lists_every_field_and_unknown_ones() {
        let mut device = Enrollment {
            enrollment_id: "UDID-1".into(),
            ..Enrollment::default()
        };
        device
            .other
            .insert("supervised".into(), serde_json::Value::Bool(true));
        let text = show(&device).to_string();
        assert_eq!(text.lines().count(), 28, "{text}");
        assert!(text.lines().last().is_some_and(|l| l.ends_with("true")));
    }
}
