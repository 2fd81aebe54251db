//! What the device makes of the declarations it holds: each one's `active`, `valid` and
//! reasons, recomputed as a whole after every sync (a change to an activation, a property or the
//! device's own status can change any configuration's state).
//!
//! - An activation is active when it passed the schema and its `Predicate` is absent or true;
//!   one whose predicate cannot be parsed is invalid.
//! - A configuration is active when an active activation lists it in `StandardConfigurations`;
//!   one no active activation lists is not looked at (`unknown`), as on a real device.
//! - Assets and management declarations are active when they passed the schema.
//! - Whatever failed the schema is invalid and inactive, with the checker's text as its reason.

use super::held::{HeldDeclaration, Validity};
use super::predicate::{Inputs, Predicate};
use mdm_core::ddm::{Category, Reason};
use serde_json::{json, Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet};

/// The declaration type whose payload sets the properties `@property(…)` reads.
const PROPERTIES_TYPE: &str = "com.apple.management.properties";

/// Recomputes the state of every declaration in `held`, with the device's status items.
pub(super) fn apply(held: &mut BTreeMap<String, HeldDeclaration>, status: &BTreeMap<String, Json>) {
    let properties = properties(held);
    let inputs = Inputs {
        status,
        properties: &properties,
    };
    let configurations: BTreeSet<String> = held
        .values()
        .filter(|d| d.category == Category::Configuration)
        .map(|d| d.identifier.clone())
        .collect();
    let mut selected = BTreeSet::new();
    for declaration in held.values_mut() {
        if declaration.category == Category::Activation {
            activation(declaration, &inputs, &configurations, &mut selected);
        }
    }
    for declaration in held.values_mut() {
        match declaration.category {
            Category::Activation => {}
            Category::Configuration => configuration(declaration, &selected),
            Category::Asset | Category::Management => standalone(declaration),
        }
    }
}

/// The management properties: the payload keys of every `com.apple.management.properties`
/// declaration that passed the schema, later identifiers winning over earlier ones.
fn properties(held: &BTreeMap<String, HeldDeclaration>) -> Map<String, Json> {
    let mut properties = Map::new();
    for declaration in held.values() {
        if declaration.declaration_type == PROPERTIES_TYPE && declaration.refused.is_none() {
            properties.extend(declaration.payload.clone());
        }
    }
    properties
}

fn activation(
    declaration: &mut HeldDeclaration,
    inputs: &Inputs<'_>,
    configurations: &BTreeSet<String>,
    selected: &mut BTreeSet<String>,
) {
    if let Some(why) = declaration.refused.clone() {
        return set_invalid(declaration, invalid_payload(declaration, &why));
    }
    let predicate = declaration
        .payload
        .get("Predicate")
        .and_then(Json::as_str)
        .map(str::to_owned);
    let holds = match &predicate {
        None => true,
        Some(text) => match Predicate::parse(text) {
            Ok(parsed) => parsed.evaluate(inputs),
            Err(error) => {
                let reason = Reason {
                    code: "Error.UnableToParsePredicate".into(),
                    description: Some(format!("The predicate cannot be parsed: {error}")),
                    details: Some(json!({
                        "Identifier": declaration.identifier,
                        "ServerToken": declaration.server_token,
                        "Predicate": text,
                    })),
                };
                return set_invalid(declaration, reason);
            }
        },
    };
    declaration.valid = Validity::Valid;
    declaration.active = holds;
    declaration.reasons.clear();
    if !holds {
        declaration.reasons.push(Reason {
            code: "Info.Predicate".into(),
            description: Some("The activation's predicate is false on this device.".into()),
            details: Some(json!({
                "Identifier": declaration.identifier,
                "ServerToken": declaration.server_token,
                "Predicate": predicate,
            })),
        });
        return;
    }
    let listed: Vec<String> = declaration
        .payload
        .get("StandardConfigurations")
        .and_then(Json::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Json::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let missing: Vec<&String> = listed
        .iter()
        .filter(|id| !configurations.contains(*id))
        .collect();
    if !missing.is_empty() {
        declaration.reasons.push(Reason {
            code: "Error.MissingConfigurations".into(),
            description: Some(
                "The activation lists configurations the device does not hold.".into(),
            ),
            details: Some(json!({
                "Identifier": declaration.identifier,
                "ServerToken": declaration.server_token,
                "ConfigurationIdentifiers": missing,
            })),
        });
    }
    selected.extend(listed);
}

fn configuration(declaration: &mut HeldDeclaration, selected: &BTreeSet<String>) {
    if let Some(why) = declaration.refused.clone() {
        let reason = Reason {
            code: "Error.ConfigurationIsInvalid".into(),
            description: Some(why.clone()),
            details: Some(json!({"Error": why})),
        };
        return set_invalid(declaration, reason);
    }
    declaration.reasons.clear();
    if selected.contains(&declaration.identifier) {
        declaration.active = true;
        declaration.valid = Validity::Valid;
    } else {
        declaration.active = false;
        declaration.valid = Validity::Unknown;
        declaration.reasons.push(Reason {
            code: "Info.NotReferencedByActivation".into(),
            description: Some(format!(
                "No active activation lists the configuration {}:{}.",
                declaration.identifier, declaration.server_token
            )),
            details: Some(json!({
                "Identifier": declaration.identifier,
                "ServerToken": declaration.server_token,
            })),
        });
    }
}

fn standalone(declaration: &mut HeldDeclaration) {
    if let Some(why) = declaration.refused.clone() {
        return set_invalid(declaration, invalid_payload(declaration, &why));
    }
    declaration.active = true;
    declaration.valid = Validity::Valid;
    declaration.reasons.clear();
}

fn invalid_payload(declaration: &HeldDeclaration, why: &str) -> Reason {
    Reason {
        code: "Error.InvalidPayload".into(),
        description: Some(why.to_owned()),
        details: Some(json!({
            "Identifier": declaration.identifier,
            "ServerToken": declaration.server_token,
        })),
    }
}

fn set_invalid(declaration: &mut HeldDeclaration, reason: Reason) {
    declaration.active = false;
    declaration.valid = Validity::Invalid;
    declaration.reasons = vec![reason];
}
