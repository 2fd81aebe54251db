//! What a command result says about the device: the facts of a DeviceInformation answer, the
//! security state of a SecurityInfo answer, the apps of an InstalledApplicationList answer.
//! Only acknowledged results count. Fields of the wrong type, empty or over-long strings are
//! left out rather than failing the result: the report is kept whole anyway.

use crate::report::{CommandReport, CommandStatus};
use plist::{Dictionary, Value};

/// The most apps kept from one answer; a Mac's list runs to hundreds.
pub const MAX_APPS: usize = 10_000;

/// The longest string kept from a result.
const MAX_FIELD: usize = 1024;

/// The fields one result reported; `None` means "not in this result", not "unknown".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InventoryUpdate {
    /// DeviceName.
    pub device_name: Option<String>,
    /// OSVersion.
    pub os_version: Option<String>,
    /// BuildVersion.
    pub build_version: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// ModelName.
    pub model_name: Option<String>,
    /// ProductName.
    pub product_name: Option<String>,
    /// SerialNumber.
    pub serial_number: Option<String>,
    /// IMEI.
    pub imei: Option<String>,
    /// MEID.
    pub meid: Option<String>,
    /// DeviceCapacity, GB.
    pub capacity_gb: Option<f64>,
    /// AvailableDeviceCapacity, GB.
    pub available_gb: Option<f64>,
    /// BatteryLevel, 0 to 1.
    pub battery_level: Option<f64>,
    /// IsSupervised.
    pub supervised: Option<bool>,
    /// Storage encrypted: iOS data protection (hardware encryption with a passcode set), or
    /// FileVault on macOS.
    pub encrypted: Option<bool>,
    /// PasscodePresent.
    pub passcode_present: Option<bool>,
    /// The whole app list, when the result was an InstalledApplicationList.
    pub apps: Option<Vec<InstalledApp>>,
}

/// One app of an InstalledApplicationList answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstalledApp {
    /// Identifier (bundle ID).
    pub identifier: String,
    /// Name.
    pub name: Option<String>,
    /// ShortVersion.
    pub version: Option<String>,
    /// Version.
    pub build: Option<String>,
    /// BundleSize, bytes.
    pub size_bytes: Option<u64>,
}

impl InventoryUpdate {
    /// Whether the result said anything this record keeps.
    pub fn is_empty(&self) -> bool {
        *self == InventoryUpdate::default()
    }
}

/// What an acknowledged result says about the device, if anything.
pub fn from_report(report: &CommandReport) -> Option<InventoryUpdate> {
    if report.status != CommandStatus::Acknowledged {
        return None;
    }
    let mut update = InventoryUpdate::default();
    if let Some(Value::Dictionary(answers)) = report.raw.get("QueryResponses") {
        device_information(answers, &mut update);
    }
    if let Some(Value::Dictionary(security)) = report.raw.get("SecurityInfo") {
        security_info(security, &mut update);
    }
    if let Some(Value::Array(apps)) = report.raw.get("InstalledApplicationList") {
        update.apps = Some(
            apps.iter()
                .filter_map(Value::as_dictionary)
                .filter_map(app)
                .take(MAX_APPS)
                .collect(),
        );
    }
    (!update.is_empty()).then_some(update)
}

fn device_information(answers: &Dictionary, update: &mut InventoryUpdate) {
    update.device_name = text(answers, "DeviceName");
    update.os_version = text(answers, "OSVersion");
    update.build_version = text(answers, "BuildVersion");
    update.model = text(answers, "Model");
    update.model_name = text(answers, "ModelName");
    update.product_name = text(answers, "ProductName");
    update.serial_number = text(answers, "SerialNumber");
    update.imei = text(answers, "IMEI");
    update.meid = text(answers, "MEID");
    update.capacity_gb = number(answers, "DeviceCapacity");
    update.available_gb = number(answers, "AvailableDeviceCapacity");
    update.battery_level = number(answers, "BatteryLevel").filter(|l| (0.0..=1.0).contains(l));
    update.supervised = flag(answers, "IsSupervised");
}

fn security_info(security: &Dictionary, update: &mut InventoryUpdate) {
    update.passcode_present = flag(security, "PasscodePresent");
    // macOS reports FileVault; iOS reports its hardware encryption capabilities, which protect
    // data only once a passcode is set (bit 2: file-level encryption).
    update.encrypted = match flag(security, "FDE_Enabled") {
        Some(filevault) => Some(filevault),
        None => security
            .get("HardwareEncryptionCaps")
            .and_then(Value::as_signed_integer)
            .map(|caps| caps & 2 != 0 && update.passcode_present == Some(true)),
    };
}

fn app(entry: &Dictionary) -> Option<InstalledApp> {
    Some(InstalledApp {
        identifier: text(entry, "Identifier")?,
        name: text(entry, "Name"),
        version: text(entry, "ShortVersion"),
        build: text(entry, "Version"),
        size_bytes: entry.get("BundleSize").and_then(Value::as_unsigned_integer),
    })
}

fn text(dict: &Dictionary, key: &str) -> Option<String> {
    match dict.get(key) {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_FIELD => Some(s.clone()),
        _ => None,
    }
}

fn number(dict: &Dictionary, key: &str) -> Option<f64> {
    match dict.get(key)? {
        Value::Real(n) => Some(*n),
        Value::Integer(n) => n.as_signed().map(|n| n as f64),
        _ => None,
    }
    .filter(|n| n.is_finite() && *n >= 0.0)
}

fn flag(dict: &Dictionary, key: &str) -> Option<bool> {
    dict.get(key).and_then(Value::as_boolean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_report;

    fn report(entries: &str) -> CommandReport {
        parse_report(
            format!(
                "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict>\
                 <key>UDID</key><string>U</string><key>CommandUUID</key><string>C</string>\
                 <key>Status</key><string>Acknowledged</string>{entries}</dict></plist>"
            )
            .as_bytes(),
        )
        .expect("report")
    }

    #[test]
    fn device_information_facts_are_read() {
        let update = from_report(&report(
            "<key>QueryResponses</key><dict>\
             <key>OSVersion</key><string>17.4</string>\
             <key>DeviceCapacity</key><real>128.5</real>\
             <key>BatteryLevel</key><real>0.5</real>\
             <key>IsSupervised</key><true/>\
             <key>DeviceName</key><integer>3</integer>\
             </dict>",
        ))
        .expect("facts");
        assert_eq!(update.os_version.as_deref(), Some("17.4"));
        assert_eq!(update.capacity_gb, Some(128.5));
        assert_eq!(update.battery_level, Some(0.5));
        assert_eq!(update.supervised, Some(true));
        assert_eq!(update.device_name, None, "a wrong type is left out");
        assert_eq!(update.apps, None);
    }

    #[test]
    fn encryption_needs_a_passcode_on_ios_and_is_filevault_on_macos() {
        let ios = |caps: i64, passcode: &str| {
            from_report(&report(&format!(
                "<key>SecurityInfo</key><dict>\
                 <key>HardwareEncryptionCaps</key><integer>{caps}</integer>\
                 <key>PasscodePresent</key><{passcode}/></dict>"
            )))
            .expect("security")
            .encrypted
        };
        assert_eq!(ios(3, "true"), Some(true));
        assert_eq!(ios(3, "false"), Some(false));
        assert_eq!(ios(1, "true"), Some(false));
        let mac = from_report(&report(
            "<key>SecurityInfo</key><dict><key>FDE_Enabled</key><true/></dict>",
        ))
        .expect("security");
        assert_eq!(mac.encrypted, Some(true));
    }

    #[test]
    fn an_app_list_replaces_and_errors_say_nothing() {
        let update = from_report(&report(
            "<key>InstalledApplicationList</key><array>\
             <dict><key>Identifier</key><string>com.a</string><key>BundleSize</key><integer>7</integer></dict>\
             <dict><key>Name</key><string>no identifier</string></dict>\
             </array>",
        ))
        .expect("apps");
        let apps = update.apps.expect("a list");
        assert_eq!(apps.len(), 1);
        assert_eq!(apps[0].size_bytes, Some(7));
        let empty = from_report(&report(
            "<key>InstalledApplicationList</key><array></array>",
        ))
        .expect("an empty list is a list");
        assert_eq!(empty.apps, Some(Vec::new()));
        let mut error =
            report("<key>QueryResponses</key><dict><key>OSVersion</key><string>1</string></dict>");
        error.status = CommandStatus::Error;
        assert_eq!(from_report(&error), None);
        assert_eq!(from_report(&report("")), None);
    }
}
