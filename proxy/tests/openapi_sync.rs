//! `openapi.json` documents exactly the routes the admin router serves: every `(method, path)` of
//! [`proxy::admin::routes::ROUTES`] is in the document and the document has no other operation.
//!
//! Run: `cargo test -p proxy --test openapi_sync`.

use std::collections::BTreeSet;

/// The keys of a path item that are operations (the others: `parameters`, `summary`, …).
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> serde_json::Value {
    serde_json::from_str(proxy::admin::app::OPENAPI).expect("openapi.json is JSON")
}

#[test]
fn openapi_documents_exactly_the_routes() {
    let doc = document();
    let paths = doc["paths"].as_object().expect("a paths object");
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_object().expect("a path item object");
            item.keys()
                .filter(|key| METHODS.contains(&key.as_str()))
                .map(|method| (method.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let routed: BTreeSet<(String, String)> = proxy::admin::routes::ROUTES
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from openapi.json: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "openapi.json operations with no route: {unrouted:?}"
    );
    assert_eq!(
        routed.len(),
        proxy::admin::routes::ROUTES.len(),
        "a route is listed twice"
    );
}

#[test]
fn every_reference_resolves() {
    // A dangling `$ref` makes generators and viewers fail on the whole document.
    fn walk(value: &serde_json::Value, doc: &serde_json::Value, broken: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                    let pointer = target.trim_start_matches('#');
                    if doc.pointer(pointer).is_none() {
                        broken.push(target.clone());
                    }
                }
                map.values().for_each(|v| walk(v, doc, broken));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, doc, broken)),
            _ => {}
        }
    }
    let doc = document();
    let mut broken = Vec::new();
    walk(&doc, &doc, &mut broken);
    assert!(broken.is_empty(), "unresolved $ref: {broken:?}");
    assert_eq!(
        doc["openapi"].as_str().map(|v| v.starts_with("3.0")),
        Some(true)
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}
