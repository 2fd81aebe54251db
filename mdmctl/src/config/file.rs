//! The config file: TOML with `url`, `token` and `ca_file`. Unknown keys are refused so that a
//! misspelt key (`tokn = ...`) is an error, not a silently ignored setting. The file holds a
//! bearer token, so it is written readable by its owner only.

use super::Layer;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Base URL of the admin API, e.g. `https://mdm.example.com:9443`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// PEM file of the CA that signed the server's certificate (an absolute path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

impl ConfigFile {
    /// Parses the file's text; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> anyhow::Result<ConfigFile> {
        toml::from_str(text).with_context(|| format!("config file {} is invalid", path.display()))
    }

    /// Reads `path`; a file that does not exist is an empty config.
    pub fn load(path: &Path) -> anyhow::Result<ConfigFile> {
        match std::fs::read_to_string(path) {
            Ok(text) => ConfigFile::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
            Err(e) => Err(e).with_context(|| format!("reading config file {}", path.display())),
        }
    }

    /// Writes the file (and its directory), replacing it whole: written to a sibling first and
    /// renamed, so an interrupted write never leaves half a file.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let text = toml::to_string(self).context("serializing the config")?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating config directory {}", dir.display()))?;
        let temporary = path.with_extension("toml.tmp");
        // A leftover from an interrupted run would keep its old permissions: `mode` below only
        // applies to a file it creates.
        let _ = std::fs::remove_file(&temporary);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut out = options
            .open(&temporary)
            .with_context(|| format!("writing {}", temporary.display()))?;
        out.write_all(text.as_bytes())
            .and_then(|()| out.sync_all())
            .with_context(|| format!("writing {}", temporary.display()))?;
        std::fs::rename(&temporary, path)
            .with_context(|| format!("replacing config file {}", path.display()))
    }

    /// The file as a settings layer.
    pub fn layer(&self) -> Layer {
        Layer {
            url: self.url.clone(),
            token: self.token.clone(),
            ca_file: self.ca_file.clone(),
        }
    }
}
