//! Inventory updates as they travel (protobuf) and as the store applies them
//! ([`mdm_core::InventoryUpdate`]). command-svc encodes with [`to_proto`]; enroll-svc decodes
//! with [`from_proto`].

use crate::v1;
use mdm_core::{InstalledApp, InventoryUpdate};

/// The wire form of an update.
pub fn to_proto(update: &InventoryUpdate) -> v1::InventoryUpdate {
    v1::InventoryUpdate {
        device_name: update.device_name.clone(),
        os_version: update.os_version.clone(),
        build_version: update.build_version.clone(),
        model: update.model.clone(),
        model_name: update.model_name.clone(),
        product_name: update.product_name.clone(),
        serial_number: update.serial_number.clone(),
        imei: update.imei.clone(),
        meid: update.meid.clone(),
        capacity_gb: update.capacity_gb,
        available_gb: update.available_gb,
        battery_level: update.battery_level,
        supervised: update.supervised,
        encrypted: update.encrypted,
        passcode_present: update.passcode_present,
        has_apps: update.apps.is_some(),
        apps: update
            .apps
            .iter()
            .flatten()
            .map(|app| v1::App {
                identifier: app.identifier.clone(),
                name: app.name.clone().unwrap_or_default(),
                version: app.version.clone().unwrap_or_default(),
                build: app.build.clone().unwrap_or_default(),
                size_bytes: app.size_bytes,
            })
            .collect(),
    }
}

/// An update as the store applies it; over-long apps lists are cut to
/// [`mdm_core::inventory::MAX_APPS`].
pub fn from_proto(update: v1::InventoryUpdate) -> InventoryUpdate {
    let text = |value: String| Some(value).filter(|v| !v.is_empty());
    InventoryUpdate {
        device_name: update.device_name,
        os_version: update.os_version,
        build_version: update.build_version,
        model: update.model,
        model_name: update.model_name,
        product_name: update.product_name,
        serial_number: update.serial_number,
        imei: update.imei,
        meid: update.meid,
        capacity_gb: update.capacity_gb,
        available_gb: update.available_gb,
        battery_level: update.battery_level,
        supervised: update.supervised,
        encrypted: update.encrypted,
        passcode_present: update.passcode_present,
        apps: update.has_apps.then(|| {
            update
                .apps
                .into_iter()
                .filter(|app| !app.identifier.is_empty())
                .take(mdm_core::inventory::MAX_APPS)
                .map(|app| InstalledApp {
                    identifier: app.identifier,
                    name: text(app.name),
                    version: text(app.version),
                    build: text(app.build),
                    size_bytes: app.size_bytes,
                })
                .collect()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_round_trips() {
        let update = InventoryUpdate {
            os_version: Some("17.4".into()),
            battery_level: Some(0.5),
            apps: Some(vec![InstalledApp {
                identifier: "com.a".into(),
                name: Some("A".into()),
                size_bytes: Some(7),
                ..Default::default()
            }]),
            ..Default::default()
        };
        assert_eq!(from_proto(to_proto(&update)), update);
        let facts_only = InventoryUpdate {
            supervised: Some(true),
            ..Default::default()
        };
        assert_eq!(from_proto(to_proto(&facts_only)).apps, None);
    }
}
