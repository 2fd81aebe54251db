//! The committed `admin-svc/openapi.json` is the document the code generates. This test writes
//! it, and fails when the committed copy was stale, so a change to the API that is not
//! committed with its document fails CI (run the test, commit the file).

use std::path::Path;

#[test]
fn the_committed_openapi_document_is_current() {
    let document = admin_svc::openapi();
    let mut text = serde_json::to_string_pretty(&document).expect("the document serializes");
    text.push('\n');
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != text {
        std::fs::write(&path, &text).expect("write openapi.json");
        panic!(
            "{} was stale; it is rewritten now: commit it with the change",
            path.display()
        );
    }
}

#[test]
fn every_operation_is_documented_and_secured() {
    let document = serde_json::to_value(admin_svc::openapi()).expect("json");
    let paths = document["paths"].as_object().expect("paths");
    let mut operations = 0;
    let mut ids = std::collections::HashSet::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            operations += 1;
            let id = format!("{} {path}", method.to_uppercase());
            let operation_id = operation["operationId"].as_str().expect("an operationId");
            assert!(
                ids.insert(operation_id.to_owned()),
                "{id}: {operation_id} is used twice"
            );
            assert!(operation["summary"].is_string(), "{id}: no summary");
            let responses = operation["responses"].as_object().expect("responses");
            if path == "/v1/openapi.json" {
                continue;
            }
            let scopes = operation["security"][0]["bearer"]
                .as_array()
                .expect("secured");
            assert_eq!(scopes.len(), 1, "{id}: names one scope");
            for status in ["400", "401", "403", "404", "500", "503"] {
                assert!(
                    responses.contains_key(status),
                    "{id}: {status} is not documented"
                );
            }
        }
    }
    assert!(operations >= 21, "only {operations} operations");
}

#[test]
fn every_reference_resolves() {
    let document = serde_json::to_value(admin_svc::openapi()).expect("json");
    let mut references = Vec::new();
    collect_references(&document, &mut references);
    assert!(!references.is_empty());
    for reference in references {
        let pointer = reference.strip_prefix('#').expect("a local reference");
        assert!(
            document.pointer(pointer).is_some(),
            "{reference} resolves to nothing"
        );
    }
}

fn collect_references(value: &serde_json::Value, into: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(fields) => {
            if let Some(serde_json::Value::String(reference)) = fields.get("$ref") {
                into.push(reference.clone());
            }
            fields.values().for_each(|v| collect_references(v, into));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_references(v, into)),
        _ => {}
    }
}
