//! `mdmctl commands describe <REQUEST_TYPE>`: a request type as Apple's schema describes it (the
//! command catalogue): where it runs, and every key at every level with its type, whether it is
//! required, and its allowed values. Offline: nothing is asked of the server.

use super::spec::schema_of;
use crate::cli::{GlobalArgs, OutputFormat};
use crate::output;
use crate::table::Table;
use mdm_core::catalogue::{catalogue, CommandSchema, KeySchema, KeyType, Platform, WILDCARD};

/// Runs `mdmctl commands describe`.
pub fn run(request_type: &str, global: &GlobalArgs) -> anyhow::Result<()> {
    let schema = schema_of(request_type)?;
    match global.output {
        OutputFormat::Json => output::json(schema),
        OutputFormat::Table => output::text(&described(schema)),
    }
}

/// The request type's platforms, then a table of its keys.
pub fn described(schema: &CommandSchema) -> String {
    let platforms: Vec<String> = Platform::ALL
        .iter()
        .filter_map(|p| {
            let support = schema.platforms.get(p)?;
            let mut text = format!("{p} {}", support.introduced);
            if support.supervised {
                text.push_str(" (supervised)");
            }
            if let Some(removed) = &support.removed {
                text.push_str(&format!(" (removed in {removed})"));
            }
            Some(text)
        })
        .collect();
    let mut text = format!(
        "{}: runs on {}\n({})\n",
        schema.request_type,
        platforms.join(", "),
        catalogue().source
    );
    if schema.keys.is_empty() {
        text.push_str("No keys besides RequestType.\n");
        return text;
    }
    let mut table = Table::new(["KEY", "TYPE", "REQUIRED", "ALLOWED"]);
    for key in &schema.keys {
        rows(&mut table, &key.key, key);
    }
    text.push('\n');
    text.push_str(&table.to_string());
    text
}

/// A row for `key` at `path`, then its nested keys: `Key.Sub` in a dictionary, `Key[]` for an
/// array's element, `Key[Form]` for each form an element may take, `Key.*` for free keys.
fn rows(table: &mut Table, path: &str, key: &KeySchema) {
    let allowed: Vec<String> = key
        .allowed
        .iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .collect();
    let mut kind = key.kind.name().to_owned();
    if let Some(range) = key.range {
        kind.push_str(&format!(" ({range})"));
    }
    table.row([
        path.to_owned(),
        kind,
        if key.required { "yes" } else { "no" }.to_owned(),
        allowed.join(", "),
    ]);
    match (key.kind, key.subkeys.as_slice()) {
        (KeyType::Array, [element]) => rows(table, &format!("{path}[]"), element),
        (KeyType::Array, forms) => {
            for form in forms {
                rows(table, &format!("{path}[{}]", form.key), form);
            }
        }
        (_, subkeys) => {
            for sub in subkeys {
                let name = if sub.key == WILDCARD { "*" } else { &sub.key };
                rows(table, &format!("{path}.{name}"), sub);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_type_is_described_key_by_key() {
        let text = described(&catalogue().commands["DeviceLock"]);
        assert!(
            text.starts_with(
                "DeviceLock: runs on iOS 4.0, macOS 10.7, visionOS 2.0, watchOS 10.0\n"
            ),
            "{text}"
        );
        assert!(text.contains("PIN "), "{text}");
        let settings = described(&catalogue().commands["Settings"]);
        assert!(
            settings.contains("Settings[Wallpaper].Where") && settings.contains("1, 2, 3"),
            "{settings}"
        );
        let restart = described(&catalogue().commands["RestartDevice"]);
        assert!(restart.contains("KextPaths[]"), "{restart}");
        assert!(described(&catalogue().commands["SecurityInfo"]).contains("No keys"));
    }
}
