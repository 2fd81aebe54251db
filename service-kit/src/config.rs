//! Layered configuration: serde defaults < a TOML file < `MDM_<SERVICE>_*` environment variables.
//!
//! The loader is pure: it takes the file text and an environment map, so tests never touch the
//! process environment. Unknown keys are errors in both layers, because a misspelt setting that is
//! silently ignored is how a production server ends up on its defaults.
//!
//! Environment names: `MDM_ENROLL_DATABASE__URL=...` sets `database.url` of enroll-svc. The
//! service prefix keeps one shell from configuring every service at once; `__` separates nesting
//! levels; the rest is lower-cased. Values are read as TOML scalars when they parse as one
//! (`true`, `42`, `[1, 2]`, `"quoted string"`) and as plain strings otherwise.

use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("config file {path} is not valid TOML: {source}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: toml::de::Error,
    },
    /// An environment variable names a key that nests under a plain value.
    #[error("environment variable {name} does not fit the configuration shape")]
    EnvShape {
        /// The variable.
        name: String,
    },
    /// The merged configuration does not match the service's settings (unknown key, wrong type).
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// A value is well-formed but not acceptable (validated after loading).
    #[error("invalid setting {key}: {reason}")]
    Setting {
        /// The dotted key.
        key: String,
        /// Why it is refused.
        reason: String,
    },
}

/// A service's configuration type: how its environment variables are named and how it validates
/// itself after loading.
pub trait ServiceConfig: DeserializeOwned {
    /// The environment prefix, e.g. `MDM_ENROLL_`.
    const ENV_PREFIX: &'static str;

    /// Checks what types cannot express (files exist, keys decode, ranges). Called by [`load`].
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// Loads `T` from an optional TOML text (with its path, for messages) and an environment map.
pub fn load_from<T: ServiceConfig>(
    file: Option<(&Path, &str)>,
    env: &HashMap<String, String>,
) -> Result<T, ConfigError> {
    let mut root = match file {
        Some((path, text)) => {
            toml::from_str::<toml::Table>(text).map_err(|source| ConfigError::Syntax {
                path: path.to_path_buf(),
                source,
            })?
        }
        None => toml::Table::new(),
    };
    let mut names: Vec<&String> = env
        .keys()
        .filter(|k| k.starts_with(T::ENV_PREFIX))
        .collect();
    names.sort();
    for name in &names {
        let path: Vec<String> = name[T::ENV_PREFIX.len()..]
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect();
        set_path(&mut root, &path, env_value(&env[*name])).ok_or_else(|| {
            ConfigError::EnvShape {
                name: name.to_string(),
            }
        })?;
    }
    let config: T = toml::Value::Table(root)
        .try_into()
        .map_err(|e: toml::de::Error| {
            let mut message = e.message().to_string();
            if !names.is_empty() {
                // serde cannot say which layer a bad value came from; name the overrides so an
                // operator can check them first.
                let applied: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
                message.push_str(&format!(
                    " (environment overrides applied: {})",
                    applied.join(", ")
                ));
            }
            ConfigError::Invalid(message)
        })?;
    config.validate()?;
    Ok(config)
}

/// Loads `T` from an optional file path and the process environment.
pub fn load<T: ServiceConfig>(path: Option<&Path>) -> Result<T, ConfigError> {
    let env: HashMap<String, String> = std::env::vars().collect();
    match path {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            load_from(Some((path, &text)), &env)
        }
        None => load_from(None, &env),
    }
}

fn env_value(raw: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut table) => table
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Option<()> {
    let (last, parents) = path.split_last()?;
    if last.is_empty() {
        return None;
    }
    let mut current = table;
    for key in parents {
        let entry = current
            .entry(key.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry.as_table_mut()?;
    }
    current.insert(last.clone(), value);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Example {
        #[serde(default = "default_name")]
        name: String,
        #[serde(default)]
        port: u16,
        #[serde(default)]
        nested: Nested,
    }
    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Nested {
        #[serde(default)]
        url: Option<String>,
        #[serde(default)]
        flag: bool,
    }
    fn default_name() -> String {
        "default".into()
    }
    impl ServiceConfig for Example {
        const ENV_PREFIX: &'static str = "MDM_EX_";
        fn validate(&self) -> Result<(), ConfigError> {
            if self.name == "forbidden" {
                return Err(ConfigError::Setting {
                    key: "name".into(),
                    reason: "not allowed".into(),
                });
            }
            Ok(())
        }
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn layers_apply_in_order() {
        let path = Path::new("ex.toml");
        let file = "name = \"file\"\nport = 1\n[nested]\nurl = \"f\"\n";
        let loaded: Example = load_from(
            Some((path, file)),
            &env(&[
                ("MDM_EX_PORT", "8443"),
                ("MDM_EX_NESTED__FLAG", "true"),
                ("OTHER_PORT", "9"),
            ]),
        )
        .expect("loads");
        assert_eq!(loaded.name, "file");
        assert_eq!(loaded.port, 8443);
        assert_eq!(loaded.nested.url.as_deref(), Some("f"));
        assert!(loaded.nested.flag);
        let defaults: Example = load_from(None, &HashMap::new()).expect("defaults");
        assert_eq!(defaults.name, "default");
    }

    #[test]
    fn unknown_keys_are_rejected_in_file_and_environment() {
        let err = load_from::<Example>(Some((Path::new("x"), "nmae = 1")), &HashMap::new())
            .expect_err("unknown file key");
        assert!(err.to_string().contains("nmae"), "{err}");
        let err = load_from::<Example>(None, &env(&[("MDM_EX_NESTED__URLL", "x")]))
            .expect_err("unknown env key");
        assert!(err.to_string().contains("urll"), "{err}");
    }

    #[test]
    fn bad_syntax_shape_and_validation_are_clear() {
        let err = load_from::<Example>(Some((Path::new("bad.toml"), "name = ")), &HashMap::new())
            .expect_err("syntax");
        assert!(err.to_string().contains("bad.toml"), "{err}");
        let err = load_from::<Example>(None, &env(&[("MDM_EX_NAME__X", "1")]))
            .expect_err("a scalar cannot be nested into");
        assert!(err.to_string().contains("MDM_EX_NAME__X"), "{err}");
        let err = load_from::<Example>(None, &env(&[("MDM_EX_NAME", "forbidden")]))
            .expect_err("validated");
        assert!(err.to_string().contains("not allowed"), "{err}");
        let err = load_from::<Example>(None, &env(&[("MDM_EX_PORT", "high")])).expect_err("type");
        assert!(err.to_string().contains("invalid"), "{err}");
    }

    #[test]
    fn quoted_environment_values_stay_strings() {
        let loaded: Example = load_from(None, &env(&[("MDM_EX_NAME", "\"123\"")])).expect("quoted");
        assert_eq!(loaded.name, "123");
    }
}

/// Hides the password of a URL (`postgres://user:secret@host` → `postgres://user:***@host`)
/// before it is printed or logged.
pub fn redact_url(url: &str) -> String {
    let (Some(scheme), Some(at)) = (url.find("://"), url.rfind('@')) else {
        return url.to_string();
    };
    if at < scheme {
        return url.to_string();
    }
    let credentials = &url[scheme + 3..at];
    match credentials.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme + 3],
            &credentials[..colon],
            &url[at..]
        ),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod redact_tests {
    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            super::redact_url("postgres://u:p@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(super::redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            super::redact_url("sqlite://data/x.db"),
            "sqlite://data/x.db"
        );
    }
}

/// Refuses a service address that is not one `http(s)://host:port` URL or a comma-separated list
/// of them (see [`crate::upstream`]).
pub fn check_service_urls(key: &str, urls: &str) -> Result<(), ConfigError> {
    crate::upstream::check_urls(urls).map_err(|e| ConfigError::Setting {
        key: key.to_owned(),
        reason: format!("{e}; give an http(s)://host:port URL, or several separated by commas"),
    })
}
