//! `mdmctl config set|unset|show`: edit and inspect the config file.

use super::file::ConfigFile;
use super::{config_path, Env, Resolved, Setting};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::exit::UsageError;
use crate::output;
use crate::table::Table;
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// `mdmctl config ...`
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// What to do with the config file.
    #[command(subcommand)]
    pub verb: ConfigVerb,
}

/// The verbs of `mdmctl config`.
#[derive(Debug, Subcommand)]
pub enum ConfigVerb {
    /// Store a setting in the config file (created readable by you only).
    Set {
        /// Which setting.
        key: Key,
        /// Its value. For `token`, `-` reads the token from stdin, keeping it out of the shell
        /// history. A `ca-file` is stored as an absolute path.
        value: String,
    },
    /// Remove a setting from the config file.
    Unset {
        /// Which setting.
        key: Key,
    },
    /// Show each setting, where it comes from, and the config file's path (the token hidden).
    Show,
}

/// A setting of the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Key {
    /// Base URL of the admin API.
    Url,
    /// Bearer token.
    Token,
    /// PEM file of the CA that signed the server's certificate.
    CaFile,
}

/// Runs `mdmctl config ...`.
pub fn run(args: ConfigArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    match args.verb {
        ConfigVerb::Set { key, value } => set(key, &value, global, env),
        ConfigVerb::Unset { key } => unset(key, global, env),
        ConfigVerb::Show => show(global, env),
    }
}

fn path_or_usage(global: &GlobalArgs, env: &Env) -> Result<PathBuf, UsageError> {
    config_path(global.config.as_deref(), env).ok_or_else(|| {
        UsageError::with_hint(
            "no config file location: neither XDG_CONFIG_HOME nor HOME is set",
            "pass --config FILE or set MDM_CONFIG",
        )
    })
}

fn set(key: Key, value: &str, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let path = path_or_usage(global, env)?;
    let mut file = ConfigFile::load(&path)?;
    match key {
        Key::Url => {
            super::parse_url(value).map_err(|why| UsageError::new(format!("the URL {why}")))?;
            file.url = Some(value.trim().to_owned());
        }
        Key::Token => {
            let token = if value == "-" {
                read_token_line(std::io::stdin().lock())?
            } else {
                value.trim().to_owned()
            };
            if token.is_empty() {
                return Err(UsageError::new("the token is empty").into());
            }
            file.token = Some(token);
        }
        Key::CaFile => file.ca_file = Some(absolute_existing(Path::new(value))?),
    }
    file.save(&path)?;
    eprintln!("{} saved in {}", key_name(key), path.display());
    Ok(())
}

fn unset(key: Key, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let path = path_or_usage(global, env)?;
    let mut file = ConfigFile::load(&path)?;
    match key {
        Key::Url => file.url = None,
        Key::Token => file.token = None,
        Key::CaFile => file.ca_file = None,
    }
    file.save(&path)?;
    eprintln!("{} removed from {}", key_name(key), path.display());
    Ok(())
}

fn show(global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let (resolved, path) = super::load(global, env)?;
    match global.output {
        OutputFormat::Json => output::json(&show_json(&resolved, path.as_deref())),
        OutputFormat::Table => output::text(&show_table(&resolved, path.as_deref()).to_string()),
    }
}

/// The settings as a table; the token is never printed, only whether it is set.
pub fn show_table(resolved: &Resolved, path: Option<&Path>) -> Table {
    let mut table = Table::new(["SETTING", "VALUE", "FROM"]);
    table.row(described("url", &resolved.url, String::clone));
    table.row(described("token", &resolved.token, |_| "(hidden)".into()));
    table.row(described("ca-file", &resolved.ca_file, |p| {
        p.display().to_string()
    }));
    let file = path.map_or_else(|| "-".into(), |p| p.display().to_string());
    table.row(["config file".into(), file, String::new()]);
    table
}

/// A row of `config show`: the name, the value as `shown`, and where it came from.
fn described<T>(
    name: &str,
    setting: &Option<Setting<T>>,
    shown: impl Fn(&T) -> String,
) -> [String; 3] {
    match setting {
        Some(s) => [name.into(), shown(&s.value), s.source.to_string()],
        None => [name.into(), "-".into(), "not set".into()],
    }
}

fn show_json(resolved: &Resolved, path: Option<&Path>) -> serde_json::Value {
    json!({
        "config_file": path.map(|p| p.display().to_string()),
        "url": resolved.url.as_ref().map(|s| json!({"value": s.value, "from": s.source.to_string()})),
        "token": resolved.token.as_ref().map(|s| json!({"set": true, "from": s.source.to_string()})),
        "ca_file": resolved.ca_file.as_ref().map(|s| json!({"value": s.value.display().to_string(), "from": s.source.to_string()})),
    })
}

fn key_name(key: Key) -> &'static str {
    match key {
        Key::Url => "url",
        Key::Token => "token",
        Key::CaFile => "ca-file",
    }
}

/// The first line of `input`, trimmed.
fn read_token_line(mut input: impl BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("reading the token from stdin")?;
    Ok(line.trim().to_owned())
}

/// The file's absolute path; it must exist now, so that a typo is caught here and not at the
/// first TLS handshake.
fn absolute_existing(path: &Path) -> anyhow::Result<PathBuf> {
    std::fs::canonicalize(path).map_err(|e| {
        UsageError::new(format!("CA file {} cannot be used: {e}", path.display())).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Source;

    #[test]
    fn show_never_prints_the_token() {
        let resolved = Resolved {
            token: Some(Setting {
                value: "s3cret-token".into(),
                source: Source::Env("MDM_TOKEN"),
            }),
            ..Resolved::default()
        };
        let text = show_table(&resolved, Some(Path::new("/c.toml"))).to_string();
        assert!(!text.contains("s3cret"), "{text}");
        assert!(
            text.contains("(hidden)") && text.contains("env MDM_TOKEN"),
            "{text}"
        );
        assert!(!show_json(&resolved, None).to_string().contains("s3cret"));
    }

    #[test]
    fn a_token_is_read_from_the_first_line() {
        let token = read_token_line("  abc \nnext\n".as_bytes()).expect("reads");
        assert_eq!(token, "abc");
    }
}
