//! The catalogue generator: Apple's YAML schema of MDM commands to the facts the catalogue keeps
//! (no titles, descriptions or notes).

use std::collections::BTreeMap;
use std::path::Path;

use mdm_core::catalogue::{
    Bounds, Catalogue, CommandSchema, DeclarationCatalogue, DeclarationSchema, KeySchema, KeyType,
    Platform, Support, WILDCARD,
};
use serde_json::{Map, Value as Json};

/// Reads every `mdm/commands/*.yaml` under `root` (a copy of Apple's schema repository) and
/// builds the catalogue.
pub fn generate(root: &Path) -> Catalogue {
    let mut commands = BTreeMap::new();
    for file in yaml_files(&root.join("mdm/commands")) {
        let doc = read_yaml(&file);
        let schema = command(&doc);
        let previous = commands.insert(schema.request_type.clone(), schema);
        assert!(
            previous.is_none(),
            "{}: a second schema for its request type",
            file.display()
        );
    }
    Catalogue {
        source: source(root),
        commands,
    }
}

/// Reads every declaration type under `declarative/declarations/` (the envelope,
/// `declarationbase.yaml`, is the server's to check) and every status item type under
/// `declarative/status/`.
pub fn generate_declarations(root: &Path) -> DeclarationCatalogue {
    let mut declarations = BTreeMap::new();
    for file in yaml_files(&root.join("declarative/declarations")) {
        let doc = read_yaml(&file);
        let Some(kind) = doc["payload"]["declarationtype"].as_str() else {
            continue;
        };
        if kind == "any" {
            continue;
        }
        let platforms = Platform::ALL
            .iter()
            .filter_map(|p| Some((*p, support(doc["payload"]["supportedOS"].get(p.name())?)?)))
            .collect();
        let schema = DeclarationSchema {
            declaration_type: kind.to_owned(),
            platforms,
            keys: keys(&doc["payloadkeys"]),
        };
        let previous = declarations.insert(kind.to_owned(), schema);
        assert!(
            previous.is_none(),
            "{}: a second schema for {kind}",
            file.display()
        );
    }
    let mut status_items: Vec<String> = yaml_files(&root.join("declarative/status"))
        .iter()
        .filter_map(|file| {
            read_yaml(file)["payload"]["statusitemtype"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    status_items.sort();
    DeclarationCatalogue {
        source: source(root),
        declarations,
        status_items,
    }
}

/// The `.yaml` files under `dir`, at any depth, sorted.
fn yaml_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn read_yaml(file: &Path) -> Json {
    let text = std::fs::read_to_string(file).expect("a readable schema file");
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    serde_json::to_value(yaml).expect("YAML as JSON")
}

/// "Apple device-management schema: iOS 18.1, macOS 15.1, …", from the release table of the
/// schema's README.
fn source(root: &Path) -> String {
    let readme = std::fs::read_to_string(root.join("README.md")).expect("the schema's README");
    let versions: Vec<String> = readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", os, version, ""] if Platform::ALL.iter().any(|p| p.name() == *os) => {
                    Some(format!("{os} {version}"))
                }
                _ => None,
            }
        })
        .collect();
    assert!(!versions.is_empty(), "the README names no OS versions");
    format!("Apple device-management schema: {}", versions.join(", "))
}

fn command(doc: &Json) -> CommandSchema {
    let payload = &doc["payload"];
    let request_type = payload["requesttype"]
        .as_str()
        .expect("requesttype")
        .to_owned();
    let mut platforms = BTreeMap::new();
    for platform in Platform::ALL {
        let Some(os) = payload["supportedOS"].get(platform.name()) else {
            continue;
        };
        if let Some(support) = support(os) {
            platforms.insert(platform, support);
        }
    }
    CommandSchema {
        request_type,
        platforms,
        keys: keys(&doc["payloadkeys"]),
        response_keys: keys(&doc["responsekeys"]),
    }
}

fn support(os: &Json) -> Option<Support> {
    let version = |name: &str| {
        os.get(name)
            .and_then(Json::as_str)
            .filter(|v| *v != "n/a")
            .map(str::to_owned)
    };
    let flag = |name: &str| os.get(name).and_then(Json::as_bool);
    Some(Support {
        introduced: version("introduced")?,
        deprecated: version("deprecated"),
        removed: version("removed"),
        supervised: flag("supervised").unwrap_or(false),
        requires_dep: flag("requiresdep").unwrap_or(false),
        user_approved_mdm: flag("userapprovedmdm").unwrap_or(false),
        device_channel: flag("devicechannel"),
        user_channel: flag("userchannel"),
        user_enrollment: os
            .pointer("/userenrollment/mode")
            .and_then(Json::as_str)
            .map(str::to_owned),
    })
}

fn keys(list: &Json) -> Vec<KeySchema> {
    list.as_array()
        .map(|keys| keys.iter().map(key).collect())
        .unwrap_or_default()
}

fn key(doc: &Json) -> KeySchema {
    let name = doc["key"].as_str().expect("key");
    let kind = kind(doc["type"].as_str().expect("type"));
    let mut subkeys = keys(&doc["subkeys"]);
    let allowed = doc["rangelist"].as_array().cloned().unwrap_or_default();
    // A string with "subkeys" names values it may take (DeviceInformation's queries), each with
    // its own OS support. Real devices answer queries it does not name (a macOS capture answers
    // `Languages`), so these are known values, not a closed set.
    let mut known = Vec::new();
    if kind == KeyType::String && !subkeys.is_empty() {
        assert!(
            allowed.is_empty(),
            "{name}: both a rangelist and value subkeys"
        );
        known = subkeys.drain(..).map(|k| Json::String(k.key)).collect();
    }
    KeySchema {
        // "ANY", "ANY app identifier"…: a dictionary's free keys.
        key: if name.starts_with("ANY") {
            WILDCARD.to_owned()
        } else {
            name.to_owned()
        },
        kind,
        required: doc["presence"].as_str() == Some("required"),
        allowed,
        known,
        range: bounds(&doc["range"]),
        repetition: bounds(&doc["repetition"]),
        default: doc.get("default").cloned(),
        subkeys,
    }
}

fn kind(name: &str) -> KeyType {
    match name {
        "<string>" => KeyType::String,
        "<integer>" => KeyType::Integer,
        "<real>" => KeyType::Real,
        "<boolean>" => KeyType::Boolean,
        "<date>" => KeyType::Date,
        "<data>" => KeyType::Data,
        "<array>" => KeyType::Array,
        "<dictionary>" => KeyType::Dictionary,
        "<any>" => KeyType::Any,
        other => panic!("unknown schema type {other}"),
    }
}

fn bounds(doc: &Json) -> Option<Bounds> {
    let Json::Object(map) = doc else {
        return None;
    };
    let number = |map: &Map<String, Json>, name: &str| map.get(name).and_then(Json::as_f64);
    Some(Bounds {
        min: number(map, "min"),
        max: number(map, "max"),
    })
}
