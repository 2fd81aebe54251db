//! The status items a simulated device reports about itself, from its [`DeviceFacts`], by the
//! schema's names (`device.model.family`): what predicates read with `@status(…)` and what the
//! status report nests (`{"device": {"model": {"family": …}}}`).

use crate::sim::responder::DeviceFacts;
use mdm_core::catalogue::{compare_versions, declarations, Platform};
use mdm_core::ddm::Category;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

/// `management.declarations`: each declaration's state.
pub const DECLARATIONS_ITEM: &str = "management.declarations";

/// `management.client-capabilities`: what the device supports.
pub const CAPABILITIES_ITEM: &str = "management.client-capabilities";

/// The device's own items: identity, model, operating system.
pub fn device_items(facts: &DeviceFacts) -> BTreeMap<String, Json> {
    let (model_family, os_family) = families(&facts.product_name);
    [
        ("device.identifier.udid", facts.udid.clone()),
        (
            "device.identifier.serial-number",
            facts.serial_number.clone(),
        ),
        ("device.model.family", model_family.to_owned()),
        ("device.model.identifier", facts.product_name.clone()),
        ("device.model.marketing-name", facts.model_name.clone()),
        ("device.operating-system.family", os_family.to_owned()),
        ("device.operating-system.version", facts.os_version.clone()),
        (
            "device.operating-system.build-version",
            facts.build_version.clone(),
        ),
        (
            "device.operating-system.marketing-name",
            format!("{os_family} {}", facts.os_version),
        ),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), Json::String(value)))
    .collect()
}

/// The model family and OS family of a `ProductName`: `iPhone15,2` is an `iPhone` on `iOS`,
/// `Mac14,2` a `Mac` on `macOS`.
fn families(product_name: &str) -> (&'static str, &'static str) {
    const FAMILIES: [(&str, &str, &str); 8] = [
        ("iPhone", "iPhone", "iOS"),
        ("iPad", "iPad", "iPadOS"),
        ("iPod", "iPod", "iOS"),
        ("AppleTV", "AppleTV", "tvOS"),
        ("Watch", "Watch", "watchOS"),
        ("RealityDevice", "RealityDevice", "visionOS"),
        ("iMac", "Mac", "macOS"),
        ("Mac", "Mac", "macOS"),
    ];
    FAMILIES
        .iter()
        .find(|(prefix, _, _)| product_name.starts_with(prefix))
        .map_or(("Unknown", "Unknown"), |(_, model, os)| (*model, *os))
}

/// `management.client-capabilities`: protocol version 1.0.0, the declaration types Apple's
/// schema gives the device's platform at its OS version, and the status items it reports.
pub fn client_capabilities(facts: &DeviceFacts, reported: &[String]) -> Json {
    let platform = Platform::of_product(&facts.product_name);
    let mut by_category: Map<String, Json> = Category::ALL
        .iter()
        .map(|c| (c.status_key().to_owned(), Json::Array(Vec::new())))
        .collect();
    for (declaration_type, schema) in &declarations().declarations {
        let supported = platform
            .and_then(|p| schema.platforms.get(&p))
            .is_some_and(|support| {
                compare_versions(&facts.os_version, &support.introduced)
                    .is_none_or(|order| order.is_ge())
            });
        let category = Category::of(declaration_type);
        if let (true, Some(category)) = (supported, category) {
            if let Some(Json::Array(types)) = by_category.get_mut(category.status_key()) {
                types.push(Json::String(declaration_type.clone()));
            }
        }
    }
    json!({
        "supported-versions": ["1.0.0"],
        "supported-payloads": {
            "declarations": by_category,
            "status-items": reported,
        },
        "supported-features": {},
    })
}

/// Status items by name, nested as reports write them: `a.b.c` under `a`, then `b`.
pub fn nest(items: &BTreeMap<String, Json>) -> Json {
    let mut root = Map::new();
    for (name, value) in items {
        let mut parts: Vec<&str> = name.split('.').collect();
        let Some(leaf) = parts.pop() else { continue };
        // Two items never claim one name as a leaf and as a branch; if they did, the later
        // would be dropped rather than the earlier overwritten.
        if let Some(level) = branch(&mut root, &parts) {
            level
                .entry(leaf.to_owned())
                .or_insert_with(|| value.clone());
        }
    }
    Json::Object(root)
}

/// The object at `path` under `root`, made as needed; `None` when a leaf is in the way.
fn branch<'a>(root: &'a mut Map<String, Json>, path: &[&str]) -> Option<&'a mut Map<String, Json>> {
    let mut level = root;
    for part in path {
        level = level
            .entry((*part).to_owned())
            .or_insert_with(|| Json::Object(Map::new()))
            .as_object_mut()?;
    }
    Some(level)
}
