//! Settings of the admin listener (`[admin]`, `MDM_PROXY_ADMIN__*`): where it listens, its TLS
//! certificate, the body limit and the bearer tokens with their scopes.

use serde::Deserialize;
use service_kit::config::ConfigError;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The administrator's HTTPS listener (REST API). Server TLS only: callers authenticate with a
/// bearer token, not a client certificate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminListener {
    /// Listen address. Loopback by default: exposing the admin API is a deliberate choice.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// PEM server certificate chain.
    pub cert_file: PathBuf,
    /// PEM private key of the server certificate.
    pub key_file: PathBuf,
    /// Largest request body accepted (a command with an embedded profile can be large).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Who may call the API. Environment form:
    /// `MDM_PROXY_ADMIN__TOKENS='[{name = "ops", sha256 = "…", scopes = ["read"]}]'`.
    #[serde(default)]
    pub tokens: Vec<AdminToken>,
}

/// One bearer token, stored as its hash so that the configuration is not a secret by itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminToken {
    /// Who holds the token: recorded as `requested_by` in command history and the audit log.
    pub name: String,
    /// Hex SHA-256 of the token (e.g. `printf %s "$TOKEN" | sha256sum`).
    pub sha256: String,
    /// What the token may do.
    pub scopes: Vec<Scope>,
}

/// A permission a token carries. Scopes do not imply one another: a token that may erase
/// devices is given `commands` and `destructive` explicitly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Every GET: devices, commands, results.
    Read,
    /// Queue and cancel commands.
    Commands,
    /// Also queue commands that lose data or lock the user out (EraseDevice, DeviceLock, …).
    Destructive,
    /// Also queue ClearPasscode, which removes the device's passcode and Data Protection
    /// (Apple: it must be issued deliberately and accounted for).
    ClearPasscode,
    /// Install the MDM push certificate (a wrong one stops every device from being woken).
    PushCertificate,
}

impl Scope {
    /// The name used in configuration and in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Commands => "commands",
            Scope::Destructive => "destructive",
            Scope::ClearPasscode => "clear-passcode",
            Scope::PushCertificate => "push-certificate",
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9443))
}

fn default_max_body() -> usize {
    16 * 1024 * 1024
}

impl AdminListener {
    /// Checks what the types cannot express: files exist, at least one usable token, hashes are
    /// SHA-256 in hex, names unique.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let setting = |key: &str, reason: String| ConfigError::Setting {
            key: format!("admin.{key}"),
            reason,
        };
        for (key, path) in [("cert_file", &self.cert_file), ("key_file", &self.key_file)] {
            if !path.is_file() {
                return Err(setting(
                    key,
                    format!("{} is not a readable file", path.display()),
                ));
            }
        }
        if self.max_body_bytes < 1024 {
            return Err(setting("max_body_bytes", "must be at least 1024".into()));
        }
        if self.tokens.is_empty() {
            // An admin listener nobody can call is a misconfiguration, not a safe default.
            return Err(setting(
                "tokens",
                "configure at least one token ([[admin.tokens]])".into(),
            ));
        }
        let mut names = HashSet::new();
        let mut digests = HashSet::new();
        for token in &self.tokens {
            let key = format!("tokens.{}", token.name);
            if token.name.trim().is_empty() {
                return Err(setting("tokens", "a token has an empty name".into()));
            }
            if !names.insert(token.name.as_str()) {
                return Err(setting(&key, "the name is used by two tokens".into()));
            }
            let Some(digest) = parse_sha256(&token.sha256) else {
                return Err(setting(
                    &key,
                    "sha256 must be 64 hex characters (the SHA-256 of the token)".into(),
                ));
            };
            // Two names for one token would make the history name the wrong person.
            if !digests.insert(digest) {
                return Err(setting(&key, "the same token is configured twice".into()));
            }
            if token.scopes.is_empty() {
                return Err(setting(&key, "a token needs at least one scope".into()));
            }
        }
        Ok(())
    }
}

/// Decodes a hex SHA-256 (either case); `None` unless it is exactly 32 bytes.
pub fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    let mut digest = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut digest).ok()?;
    Some(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listener(tokens: Vec<AdminToken>) -> AdminListener {
        // Any file that exists stands in for the PEM files: validation only checks presence.
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        AdminListener {
            listen: default_listen(),
            cert_file: file.clone(),
            key_file: file,
            max_body_bytes: default_max_body(),
            tokens,
        }
    }

    fn token(name: &str, sha256: &str) -> AdminToken {
        AdminToken {
            name: name.into(),
            sha256: sha256.into(),
            scopes: vec![Scope::Read],
        }
    }

    #[test]
    fn a_valid_listener_passes() {
        let a = "ab".repeat(32);
        let b = "CD".repeat(32);
        assert!(listener(vec![token("ops", &a), token("ci", &b)])
            .validate()
            .is_ok());
    }

    #[test]
    fn bad_tokens_are_refused() {
        let a = "ab".repeat(32);
        let b = "cd".repeat(32);
        assert!(listener(vec![]).validate().is_err(), "no token");
        assert!(
            listener(vec![token("ops", "abc")]).validate().is_err(),
            "short"
        );
        assert!(
            listener(vec![token("ops", &"zz".repeat(32))])
                .validate()
                .is_err(),
            "not hex"
        );
        assert!(
            listener(vec![token("ops", &a), token("ops", &b)])
                .validate()
                .is_err(),
            "duplicate name"
        );
        assert!(
            listener(vec![token("ops", &a), token("ci", &a)])
                .validate()
                .is_err(),
            "duplicate token"
        );
        let mut no_scope = token("ops", &a);
        no_scope.scopes.clear();
        assert!(listener(vec![no_scope]).validate().is_err(), "no scope");
    }

    #[test]
    fn scopes_parse_from_toml() {
        let text = format!(
            "cert_file = \"c\"\nkey_file = \"k\"\n[[tokens]]\nname = \"ops\"\nsha256 = \"{}\"\n\
             scopes = [\"read\", \"commands\", \"destructive\", \"clear-passcode\"]\n",
            "ab".repeat(32)
        );
        let parsed: AdminListener = toml::from_str(&text).expect("parses");
        assert_eq!(parsed.tokens[0].scopes.len(), 4);
        assert_eq!(parsed.max_body_bytes, 16 * 1024 * 1024);
        let unknown = text.replace("\"read\"", "\"admin\"");
        assert!(toml::from_str::<AdminListener>(&unknown).is_err());
    }
}
