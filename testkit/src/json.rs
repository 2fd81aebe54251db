//! Comparing JSON documents by shape: what a consumer written against an example body relies on.

use serde_json::Value;

/// Checks that `ours` has the fields of `theirs` at every level of objects, no more and no
/// fewer, each of the same JSON type (values may differ); `at` names the root in the failure.
pub fn same_shape(ours: &Value, theirs: &Value, at: &str) -> Result<(), String> {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let (mut ka, mut kb): (Vec<_>, Vec<_>) = (a.keys().collect(), b.keys().collect());
            ka.sort();
            kb.sort();
            if ka != kb {
                return Err(format!("the fields of {at}: {ka:?} against {kb:?}"));
            }
            for key in a.keys() {
                same_shape(&a[key], &b[key], &format!("{at}.{key}"))?;
            }
            Ok(())
        }
        (a, b) if std::mem::discriminant(a) == std::mem::discriminant(b) => Ok(()),
        (a, b) => Err(format!("the type of {at}: {a} against {b}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_and_types_count_values_do_not() {
        let theirs = json!({"a": 1, "b": {"c": "x"}});
        assert!(same_shape(&json!({"b": {"c": "y"}, "a": 2}), &theirs, "body").is_ok());
        assert!(same_shape(&json!({"a": 1}), &theirs, "body").is_err());
        assert!(same_shape(&json!({"a": "1", "b": {"c": "x"}}), &theirs, "body").is_err());
        assert!(same_shape(&json!({"a": 1, "b": {"c": "x", "d": 0}}), &theirs, "body").is_err());
    }
}
