//! The status reports a device sends: the whole status after its first sync (`FullReport`),
//! then only the items whose value changed since the last report it delivered; the declarations'
//! states travel as one item (`management.declarations`, every declaration), so a report that
//! carries them always lists the device's complete set.

use super::held::HeldDeclaration;
use super::status_items::{
    client_capabilities, device_items, nest, CAPABILITIES_ITEM, DECLARATIONS_ITEM,
};
use crate::sim::responder::DeviceFacts;
use mdm_core::ddm::Category;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

/// Every status item the device has now, by name.
pub(super) fn current_items(
    facts: &DeviceFacts,
    held: &BTreeMap<String, HeldDeclaration>,
) -> BTreeMap<String, Json> {
    let mut items = device_items(facts);
    items.insert(DECLARATIONS_ITEM.into(), declarations_item(held));
    let mut names: Vec<String> = items.keys().cloned().collect();
    names.push(CAPABILITIES_ITEM.into());
    names.sort();
    items.insert(CAPABILITIES_ITEM.into(), client_capabilities(facts, &names));
    items
}

/// `management.declarations`: each category's declarations, in identifier order.
fn declarations_item(held: &BTreeMap<String, HeldDeclaration>) -> Json {
    let mut item = Map::new();
    for category in Category::ALL {
        let entries = held
            .values()
            .filter(|d| d.category == category)
            .map(HeldDeclaration::status_entry)
            .collect();
        item.insert(category.status_key().into(), Json::Array(entries));
    }
    Json::Object(item)
}

/// The report due now: every item when no full report was delivered yet, else the items that
/// differ from `reported`; `None` when nothing changed.
pub(super) fn due(
    current: &BTreeMap<String, Json>,
    reported: &BTreeMap<String, Json>,
    full_report_sent: bool,
) -> Option<Json> {
    if !full_report_sent {
        return Some(document(current, true));
    }
    let changed: BTreeMap<String, Json> = current
        .iter()
        .filter(|(name, value)| reported.get(*name) != Some(*value))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    (!changed.is_empty()).then(|| document(&changed, false))
}

/// `{"StatusItems": {…nested…}, "Errors": [], "FullReport": full}`.
fn document(items: &BTreeMap<String, Json>, full: bool) -> Json {
    json!({
        "StatusItems": nest(items),
        "Errors": [],
        "FullReport": full,
    })
}
