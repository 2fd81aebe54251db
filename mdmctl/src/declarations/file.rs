//! The declaration of `declarations put FILE|-`: Apple's JSON form (`{"Type", "Identifier",
//! "Payload"}`), its identifier from the file or `--identifier`, checked here with the checker
//! the server uses (`mdm_core::ddm::check_declaration`, Apple's schema of its `Type`), so that a
//! mistake is a usage error naming the key before anything is sent, not a 422 after.

use crate::exit::UsageError;
use anyhow::Context;
use mdm_api::declarations::DeclarationRequest;
use mdm_core::ddm::check_declaration;
use serde_json::Value;
use std::io::Read;
use std::path::Path;

/// A declaration ready to send: where it goes and the body.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The identifier of its URL (`PUT /v1/declarations/{identifier}`).
    pub identifier: String,
    /// The body, with the same identifier.
    pub request: DeclarationRequest,
}

/// The file at `path` (`-`: stdin), read and checked.
pub fn read(path: &Path, identifier: Option<&str>) -> anyhow::Result<Checked> {
    let (text, name) = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the declaration from stdin")?;
        (text, "stdin".to_owned())
    } else {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading declaration file {}", path.display()))?;
        (text, path.display().to_string())
    };
    Ok(check(&text, &name, identifier)?)
}

/// The bytes of an asset's data file (`-` reads stdin), at most 1 MiB (the server keeps no more).
pub fn read_bytes(path: &Path) -> anyhow::Result<Vec<u8>> {
    const MAX: u64 = 1024 * 1024;
    let mut data = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX + 1)
            .read_to_end(&mut data)
            .context("reading the asset's data from stdin")?;
    } else {
        std::fs::File::open(path)
            .and_then(|file| file.take(MAX + 1).read_to_end(&mut data))
            .with_context(|| format!("reading asset data file {}", path.display()))?;
    }
    if data.len() as u64 > MAX {
        return Err(UsageError::new(format!(
            "{} is over 1 MiB: the server keeps at most that",
            path.display()
        ))
        .into());
    }
    Ok(data)
}

/// The declaration in `text` (read from `name`), its identifier replaced by `identifier` when
/// one is given, checked against Apple's schema of its type.
pub fn check(text: &str, name: &str, identifier: Option<&str>) -> Result<Checked, UsageError> {
    let mut declaration = match serde_json::from_str(text) {
        Ok(Value::Object(declaration)) => declaration,
        Ok(_) => {
            return Err(UsageError::new(format!(
                "{name} is not a declaration: a JSON object with Type, Identifier and Payload"
            )))
        }
        Err(e) => return Err(UsageError::new(format!("{name} is not JSON: {e}"))),
    };
    if let Some(identifier) = identifier {
        declaration.insert("Identifier".into(), Value::String(identifier.to_owned()));
    } else if !declaration.contains_key("Identifier") {
        return Err(UsageError::with_hint(
            format!("{name} has no Identifier"),
            "add \"Identifier\" to the declaration, or pass --identifier ID",
        ));
    }
    let checked = check_declaration(&Value::Object(declaration))
        .map_err(|why| UsageError::new(format!("{name}: {why}")))?;
    Ok(Checked {
        request: DeclarationRequest {
            declaration_type: checked.declaration_type,
            identifier: Some(checked.identifier.clone()),
            // The server makes its own from the content: one given is dropped here.
            server_token: None,
            payload: checked.payload,
        },
        identifier: checked.identifier,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PASSCODE: &str = r#"{"Type":"com.apple.configuration.passcode.settings",
        "Identifier":"passcode","ServerToken":"mine","Payload":{"MinimumLength":6}}"#;

    #[test]
    fn a_valid_declaration_is_the_request_body() {
        let checked = check(PASSCODE, "p.json", None).expect("valid");
        assert_eq!(checked.identifier, "passcode");
        assert_eq!(
            serde_json::to_value(&checked.request).expect("json"),
            json!({"Type": "com.apple.configuration.passcode.settings",
                   "Identifier": "passcode", "Payload": {"MinimumLength": 6}})
        );
    }

    #[test]
    fn the_identifier_flag_supplies_or_overrides_the_files() {
        let checked = check(PASSCODE, "p.json", Some("lab-passcode")).expect("valid");
        assert_eq!(checked.identifier, "lab-passcode");
        assert_eq!(checked.request.identifier.as_deref(), Some("lab-passcode"));
        let anonymous = r#"{"Type":"com.apple.activation.simple",
            "Payload":{"StandardConfigurations":["passcode"]}}"#;
        let error = check(anonymous, "a.json", None).expect_err("no identifier");
        assert_eq!(error.message, "a.json has no Identifier");
        assert!(
            error
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("--identifier")),
            "{error:?}"
        );
        let checked = check(anonymous, "a.json", Some("activation")).expect("valid");
        assert_eq!(checked.identifier, "activation");
    }

    #[test]
    fn mistakes_are_usage_errors_naming_the_key() {
        for (text, identifier, expected) in [
            (
                r#"{"Type":"com.apple.configuration.passcode.settings","Identifier":"p",
                    "Payload":{"MinimumLength":"six"}}"#,
                None,
                "p.json: com.apple.configuration.passcode.settings: Payload.MinimumLength must be an integer",
            ),
            (
                r#"{"Type":"com.apple.configuration.passcode.settings","Identifier":"p",
                    "Payload":{"MinimumLenght":6}}"#,
                None,
                "p.json: com.apple.configuration.passcode.settings: unknown key Payload.MinimumLenght",
            ),
            (
                r#"{"Type":"com.apple.configuration.nope","Identifier":"p","Payload":{}}"#,
                None,
                "p.json: unknown declaration Type",
            ),
            (
                r#"{"Type":"com.apple.configuration.passcode.settings","Payload":{}}"#,
                Some("a/b"),
                "p.json: Identifier must be",
            ),
            (
                r#"{"Type":"com.apple.configuration.passcode.settings","Identifier":"p"}"#,
                None,
                "p.json: the declaration needs Payload",
            ),
            (
                r#"{"type":"com.apple.configuration.passcode.settings","Identifier":"p"}"#,
                None,
                "p.json: unknown key type",
            ),
            ("[1]", None, "p.json is not a declaration"),
            ("{", None, "p.json is not JSON"),
        ] {
            let error = check(text, "p.json", identifier).expect_err(text);
            assert!(error.message.starts_with(expected), "{text}: {error}");
        }
    }
}
