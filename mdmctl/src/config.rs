//! Where mdmctl finds the server: its URL, the bearer token, and a CA file to trust.
//!
//! Each setting is taken from the first place that has it: a flag (`--url`, `--token`,
//! `--ca-file`), else the environment (`MDM_URL`, `MDM_TOKEN`, `MDM_CA_FILE`), else the config
//! file. The file is `--config`, else `MDM_CONFIG`, else `$XDG_CONFIG_HOME/mdmctl/config.toml`,
//! else `~/.config/mdmctl/config.toml`. [`resolve`] and [`config_path`] are pure functions over
//! an [`Env`] map, so tests never touch the process environment.
//!
//! - [`file`]: the TOML file (read, write with owner-only permissions).
//! - [`command`]: `mdmctl config set|show`.

pub mod command;
pub mod file;

#[cfg(test)]
mod tests;

use crate::cli::GlobalArgs;
use crate::exit::UsageError;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Server URL variable.
pub const URL_ENV: &str = "MDM_URL";
/// Bearer token variable.
pub const TOKEN_ENV: &str = "MDM_TOKEN";
/// CA file variable.
pub const CA_FILE_ENV: &str = "MDM_CA_FILE";
/// Config file path variable.
pub const CONFIG_ENV: &str = "MDM_CONFIG";

/// The environment variables mdmctl reads, captured once.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// The variables that matter to mdmctl from this process's environment (`MDM_*`,
    /// `XDG_CONFIG_HOME`, `HOME`); values that are not UTF-8 are ignored.
    pub fn from_process() -> Env {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| k.starts_with("MDM_") || k == "XDG_CONFIG_HOME" || k == "HOME")
            .collect();
        Env { vars }
    }

    /// An environment of exactly these variables.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Env {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    /// A variable's value; an empty one counts as unset, so `MDM_TOKEN= mdmctl ...` falls back
    /// to the file instead of sending an empty token.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}

/// The settings one place provides; `None` where it says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layer {
    /// Base URL of the admin API.
    pub url: Option<String>,
    /// Bearer token.
    pub token: Option<String>,
    /// CA certificate file (PEM).
    pub ca_file: Option<PathBuf>,
}

impl Layer {
    /// What the command line says.
    pub fn from_flags(global: &GlobalArgs) -> Layer {
        Layer {
            url: global.url.clone(),
            token: global.token.clone(),
            ca_file: global.ca_file.clone(),
        }
    }

    /// What the environment says.
    pub fn from_env(env: &Env) -> Layer {
        Layer {
            url: env.get(URL_ENV).map(str::to_owned),
            token: env.get(TOKEN_ENV).map(str::to_owned),
            ca_file: env.get(CA_FILE_ENV).map(PathBuf::from),
        }
    }
}

/// Where a setting came from, for `mdmctl config show` and for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag.
    Flag(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// The config file.
    File(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

/// A setting's value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    /// The value.
    pub value: T,
    /// Its origin.
    pub source: Source,
}

/// Every setting after precedence was applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Base URL of the admin API.
    pub url: Option<Setting<String>>,
    /// Bearer token.
    pub token: Option<Setting<String>>,
    /// CA certificate file.
    pub ca_file: Option<Setting<PathBuf>>,
}

/// Applies precedence: flags over environment over file (read from `file_path`).
pub fn resolve(flags: &Layer, env: &Env, file: &Layer, file_path: &Path) -> Resolved {
    let env_layer = Layer::from_env(env);
    fn pick<T: Clone>(candidates: [(Option<&T>, Source); 3]) -> Option<Setting<T>> {
        candidates.into_iter().find_map(|(value, source)| {
            value.map(|value| Setting {
                value: value.clone(),
                source,
            })
        })
    }
    let from_file = || Source::File(file_path.to_path_buf());
    Resolved {
        url: pick([
            (flags.url.as_ref(), Source::Flag("--url")),
            (env_layer.url.as_ref(), Source::Env(URL_ENV)),
            (file.url.as_ref(), from_file()),
        ]),
        token: pick([
            (flags.token.as_ref(), Source::Flag("--token")),
            (env_layer.token.as_ref(), Source::Env(TOKEN_ENV)),
            (file.token.as_ref(), from_file()),
        ]),
        ca_file: pick([
            (flags.ca_file.as_ref(), Source::Flag("--ca-file")),
            (env_layer.ca_file.as_ref(), Source::Env(CA_FILE_ENV)),
            (file.ca_file.as_ref(), from_file()),
        ]),
    }
}

/// The config file: `--config`, else `MDM_CONFIG`, else under `$XDG_CONFIG_HOME`, else under
/// `$HOME/.config`. `None` only when none of these is set.
pub fn config_path(flag: Option<&Path>, env: &Env) -> Option<PathBuf> {
    if let Some(path) = flag {
        return Some(path.to_path_buf());
    }
    if let Some(path) = env.get(CONFIG_ENV) {
        return Some(PathBuf::from(path));
    }
    let base = match env.get("XDG_CONFIG_HOME") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env.get("HOME")?).join(".config"),
    };
    Some(base.join("mdmctl").join("config.toml"))
}

/// The settings for this run (flags, environment, config file) and the config file's path.
pub fn load(global: &GlobalArgs, env: &Env) -> anyhow::Result<(Resolved, Option<PathBuf>)> {
    let path = config_path(global.config.as_deref(), env);
    let file = match &path {
        Some(path) => file::ConfigFile::load(path)?.layer(),
        None => Layer::default(),
    };
    let file_path = path.as_deref().unwrap_or(Path::new(""));
    let resolved = resolve(&Layer::from_flags(global), env, &file, file_path);
    Ok((resolved, path))
}

/// What a command needs to call the API.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Base URL, checked to be http(s).
    pub url: reqwest::Url,
    /// Bearer token.
    pub token: String,
    /// Extra CA to trust.
    pub ca_file: Option<PathBuf>,
}

impl Resolved {
    /// The connection settings, or a usage error naming the three ways to give what is missing.
    pub fn connection(&self) -> Result<Connection, UsageError> {
        let Some(url) = &self.url else {
            return Err(UsageError::with_hint(
                "no server URL is configured",
                "pass --url, set MDM_URL, or run `mdmctl config set url https://mdm.example.com:9443`",
            ));
        };
        let parsed = parse_url(&url.value)
            .map_err(|why| UsageError::new(format!("the URL from {} {why}", url.source)))?;
        let Some(token) = &self.token else {
            return Err(UsageError::with_hint(
                "no admin token is configured",
                "set MDM_TOKEN, run `mdmctl config set token -` (reads it from stdin), or pass --token",
            ));
        };
        Ok(Connection {
            url: parsed,
            token: token.value.clone(),
            ca_file: self.ca_file.as_ref().map(|s| s.value.clone()),
        })
    }
}

/// An http(s) base URL; the reason it is not one otherwise.
pub fn parse_url(text: &str) -> Result<reqwest::Url, String> {
    let url =
        reqwest::Url::parse(text.trim()).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "https" | "http") || url.cannot_be_a_base() {
        return Err(format!(
            "{text:?} is not an http(s) URL such as https://mdm.example.com:9443"
        ));
    }
    Ok(url)
}
