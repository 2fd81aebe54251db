//! The development server's secrets, made on the first run and kept in `secrets.json` (0600):
//! the admin token (admin-svc is given only its SHA-256) and the keys enroll-svc and push-svc
//! seal secrets with at rest (losing one loses what it sealed: UnlockTokens, the push
//! certificate's key), so they must survive restarts.

use super::files;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Prefix of generated admin tokens, so that one is recognisable in a shell history or a leak
/// scanner.
const TOKEN_PREFIX: &str = "mdmdev_";

/// What `secrets.json` holds.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    /// Bearer token of the admin API with every scope.
    pub admin_token: String,
    /// enroll-svc's `secret_key` (base64 of 32 bytes).
    pub enroll_secret_key: String,
    /// push-svc's `secret_key` (base64 of 32 bytes).
    pub push_secret_key: String,
    /// admin-svc's `secret_key` (base64 of 32 bytes; webhook secrets). Absent from files
    /// written before webhooks existed: made then and saved.
    #[serde(default)]
    pub admin_secret_key: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

impl Secrets {
    /// Fresh secrets.
    pub fn generate() -> anyhow::Result<Secrets> {
        Ok(Secrets {
            admin_token: format!("{TOKEN_PREFIX}{}", hex::encode(random_bytes()?)),
            enroll_secret_key: sealing_key()?,
            push_secret_key: sealing_key()?,
            admin_secret_key: sealing_key()?,
        })
    }

    /// The secrets in `path`, or new ones written there (the bool says they are new).
    pub fn load_or_create(path: &Path) -> anyhow::Result<(Secrets, bool)> {
        if path.exists() {
            let text = files::read_text(path)?;
            let secrets: Secrets = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not what mdmctl dev wrote; remove it to make new secrets (the \
                     services' sealed data and the push certificate are lost with it)",
                    path.display()
                )
            })?;
            let mut secrets: Secrets = secrets;
            if secrets.admin_secret_key.is_empty() {
                secrets.admin_secret_key = sealing_key()?;
                files::write_private(path, serde_json::to_string_pretty(&secrets)?.as_bytes())?;
            }
            return Ok((secrets, false));
        }
        let secrets = Secrets::generate()?;
        let text = serde_json::to_string_pretty(&secrets)?;
        files::write_private(path, text.as_bytes())?;
        Ok((secrets, true))
    }

    /// Lower-case hex SHA-256 of the admin token: what admin-svc's configuration holds.
    pub fn admin_token_sha256(&self) -> String {
        hex::encode(openssl::sha::sha256(self.admin_token.as_bytes()))
    }
}

/// 32 random bytes from OpenSSL's generator.
pub fn random_bytes() -> anyhow::Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    openssl::rand::rand_bytes(&mut bytes).context("drawing random bytes")?;
    Ok(bytes)
}

/// A services' `secret_key`: base64 of 32 random bytes (an AES-256 key).
fn sealing_key() -> anyhow::Result<String> {
    use base64::Engine;
    Ok(base64::engine::general_purpose::STANDARD.encode(random_bytes()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    // The services' own key parser: what they are given must open.
    use service_kit::secrets::SecretBox;

    #[test]
    fn made_once_then_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("secrets.json");
        let (first, new) = Secrets::load_or_create(&path).expect("first");
        assert!(new);
        assert!(first.admin_token.starts_with(TOKEN_PREFIX));
        SecretBox::from_base64(&first.enroll_secret_key).expect("a valid key");
        assert_ne!(first.enroll_secret_key, first.push_secret_key);
        let (second, new) = Secrets::load_or_create(&path).expect("second");
        assert!(!new);
        assert_eq!(first, second);
    }

    #[test]
    fn the_hash_is_sha256_of_the_token() {
        let secrets = Secrets {
            admin_token: "abc".into(),
            enroll_secret_key: String::new(),
            push_secret_key: String::new(),
            admin_secret_key: String::new(),
        };
        assert_eq!(
            secrets.admin_token_sha256(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(format!("{secrets:?}"), "Secrets(..)");
    }
}
