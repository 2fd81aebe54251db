//! One JSON document as `field value` rows, for the verbs that show one object: every field the
//! server sent, nested objects flattened (`inventory.capacity_gb`), so that a field this mdmctl
//! does not know yet is shown too. The fields a person looks for come first, as the caller
//! names them; the rest follow in the order serde_json keeps (sorted, unless its
//! `preserve_order` feature is on).

use crate::table::Table;
use serde_json::Value;

/// The fields of `document` as rows, those named in `first` first; a document that is not an
/// object is one `value` row.
pub fn rows(document: &Value, first: &[&str]) -> Table {
    let mut table = Table::without_header();
    let Value::Object(fields) = document else {
        table.row(["value".to_owned(), text(Some(document))]);
        return table;
    };
    let leading = first.iter().filter_map(|name| fields.get_key_value(*name));
    let rest = fields
        .iter()
        .filter(|(name, _)| !first.contains(&name.as_str()));
    for (name, value) in leading.chain(rest) {
        flatten(name, value, &mut table);
    }
    table
}

fn flatten(prefix: &str, value: &Value, table: &mut Table) {
    match value {
        Value::Object(fields) if !fields.is_empty() => {
            for (name, value) in fields {
                flatten(&format!("{prefix}.{name}"), value, table);
            }
        }
        Value::Object(_) => table.row([prefix.to_owned(), String::new()]),
        other => table.row([prefix.to_owned(), text(Some(other))]),
    }
}

/// A JSON value as one cell: strings bare, nothing for null, a list of plain values joined with
/// `, `, anything else as compact JSON.
pub fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.iter().all(is_plain) => items
            .iter()
            .map(|item| text(Some(item)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

fn is_plain(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_field_is_a_row_nested_ones_by_path() {
        let document = json!({
            "enrollment_id": "UDID-1",
            "user_id": null,
            "inventory": {"capacity_gb": 64.0, "supervised": true},
            "push": null,
            "scopes": ["read", "admin"],
            "status_counts": {},
            "unknown_to_mdmctl": [{"a": 1}],
        });
        let text = rows(&document, &["user_id", "scopes", "not_sent"]).to_string();
        let mut lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[..2],
            [
                "user_id                -",
                "scopes                 read, admin"
            ]
        );
        // The rest in serde_json's order, which depends on its features: compare as sets.
        lines.sort_unstable();
        assert_eq!(
            lines,
            [
                "enrollment_id          UDID-1",
                "inventory.capacity_gb  64.0",
                "inventory.supervised   true",
                "push                   -",
                "scopes                 read, admin",
                "status_counts          -",
                "unknown_to_mdmctl      [{\"a\":1}]",
                "user_id                -",
            ]
        );
        assert_eq!(rows(&json!(3), &[]).to_string(), "value  3\n");
    }
}
