//! The results of `mdmctl dev simulate`: one row per simulated device with what it answered to
//! DeviceInformation (as the admin API stored it, so the row shows the whole round trip) and
//! whether its wake-up push reached the mock APNs.

use crate::commands::results::status_label;
use crate::table::Table;
use mdm_api::commands::DeliveryStatus;
use mdm_api::devices::Delivery;
use serde::Serialize;
use serde_json::Value;

/// One simulated device's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceResult {
    /// Its UDID (the CN of its identity certificate).
    pub udid: String,
    /// The delivery's status as the API reports it (`acknowledged`, `queued`, ...); `missing`
    /// when the command was not queued for it.
    pub status: String,
    /// DeviceName from its answer.
    pub device_name: Option<String>,
    /// OSVersion from its answer.
    pub os_version: Option<String>,
    /// SerialNumber from its answer.
    pub serial_number: Option<String>,
    /// Whether the mock APNs received its wake-up push.
    pub pushed: bool,
    #[serde(skip)]
    label: String,
}

impl DeviceResult {
    /// Whether the device answered Acknowledged.
    pub fn acknowledged(&self) -> bool {
        self.status == DeliveryStatus::Acknowledged.as_str()
    }
}

/// The outcome of each of `udids` among the command's `deliveries`; `pushed` says whose push
/// arrived.
pub fn results(deliveries: &[Delivery], udids: &[String], pushed: &[bool]) -> Vec<DeviceResult> {
    udids
        .iter()
        .enumerate()
        .map(|(i, udid)| {
            let delivery = deliveries.iter().find(|d| d.enrollment_id == *udid);
            let answer = |key: &str| {
                delivery
                    .and_then(|d| d.result.as_ref())
                    .and_then(|r| r.get("QueryResponses"))
                    .and_then(|q| q.get(key))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            DeviceResult {
                udid: udid.clone(),
                status: delivery.map_or("missing", |d| d.status.as_str()).to_owned(),
                device_name: answer("DeviceName"),
                os_version: answer("OSVersion"),
                serial_number: answer("SerialNumber"),
                pushed: pushed.get(i).copied().unwrap_or(false),
                label: delivery.map_or_else(|| "not queued".into(), status_label),
            }
        })
        .collect()
}

/// The results as a table for people.
pub fn table(results: &[DeviceResult]) -> Table {
    let mut table = Table::new(["UDID", "STATUS", "DEVICE NAME", "OS VERSION", "PUSHED"]);
    for r in results {
        table.row([
            r.udid.clone(),
            r.label.clone(),
            r.device_name.clone().unwrap_or_default(),
            r.os_version.clone().unwrap_or_default(),
            if r.pushed { "yes" } else { "no" }.into(),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_are_read_from_the_stored_results() {
        let deliveries: Vec<Delivery> = serde_json::from_value(json!([
            {"enrollment_id": "U1", "command_uuid": "C1", "request_type": "DeviceInformation",
             "status": "acknowledged", "not_now_count": 0, "priority": 0,
             "result": {"QueryResponses": {"DeviceName": "Simulated iPhone 1", "OSVersion": "17.1"}}},
            {"enrollment_id": "U2", "command_uuid": "C1", "request_type": "DeviceInformation",
             "status": "queued", "not_now_count": 0, "priority": 0}
        ]))
        .expect("deliveries");
        let udids = ["U1".to_string(), "U2".to_string(), "U3".to_string()];
        let results = results(&deliveries, &udids, &[true, false]);
        assert!(results[0].acknowledged());
        assert_eq!(
            results[0].device_name.as_deref(),
            Some("Simulated iPhone 1")
        );
        assert!(!results[1].acknowledged());
        assert_eq!(results[2].status, "missing");
        let text = table(&results).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("UDID"), "{text}");
        assert!(
            lines[1].contains("Acknowledged")
                && lines[1].contains("17.1")
                && lines[1].ends_with("yes"),
            "{text}"
        );
        assert!(
            lines[2].contains("pending") && lines[2].ends_with("no"),
            "{text}"
        );
    }
}
