//! Sealing secrets stored in databases (UnlockToken, BootstrapToken, later CA and push keys).
//!
//! AES-256-GCM with a key from configuration. Each sealed value is bound to a context string
//! (for example `unlock-token:<enrollment id>`) as associated data, so a sealed value copied into
//! another row or column fails to open instead of silently decrypting.
//!
//! Format: `0x01 || nonce (12 bytes) || ciphertext || tag (16 bytes)`. The leading version byte
//! leaves room for key rotation.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use rand::RngCore;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// Why a secret could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The configured key is not base64 of 32 bytes.
    #[error("the secret key must be base64 of exactly 32 bytes (generate one with `openssl rand -base64 32`)")]
    BadKey,
    /// The stored value is truncated, from another key or context, or was altered.
    #[error("a sealed secret cannot be opened: wrong key or context, or the value was altered")]
    Unsealable,
}

/// Seals and opens secrets with one key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// Builds a box from the base64 key in configuration.
    pub fn from_base64(key: &str) -> Result<SecretBox, SecretError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key.trim())
            .map_err(|_| SecretError::BadKey)?;
        let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| SecretError::BadKey)?;
        Ok(SecretBox { cipher })
    }

    /// A fresh random key, base64-encoded, for first-run development set-ups.
    pub fn generate_key() -> String {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    /// Encrypts `plaintext` bound to `context`.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: context.as_bytes(),
        };
        // Encryption with a valid key and a 12-byte nonce cannot fail for in-memory sizes.
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Decrypts a value made by [`SecretBox::seal`] with the same key and context.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, SecretError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(SecretError::Unsealable);
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: context.as_bytes(),
        };
        self.cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| SecretError::Unsealable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips_and_hides_the_plaintext() {
        let secrets = SecretBox::from_base64(&SecretBox::generate_key()).expect("key");
        let sealed = secrets.seal(b"unlock me", "unlock-token:A");
        assert!(!sealed.windows(9).any(|w| w == b"unlock me"));
        assert_eq!(
            secrets.open(&sealed, "unlock-token:A").expect("opens"),
            b"unlock me"
        );
    }

    #[test]
    fn wrong_context_key_or_tampering_fails() {
        let secrets = SecretBox::from_base64(&SecretBox::generate_key()).expect("key");
        let other = SecretBox::from_base64(&SecretBox::generate_key()).expect("key");
        let mut sealed = secrets.seal(b"secret", "ctx:A");
        assert!(secrets.open(&sealed, "ctx:B").is_err());
        assert!(other.open(&sealed, "ctx:A").is_err());
        assert!(secrets.open(&sealed[..10], "ctx:A").is_err());
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(secrets.open(&sealed, "ctx:A").is_err());
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(SecretBox::from_base64("not base64!").is_err());
        assert!(SecretBox::from_base64("c2hvcnQ=").is_err());
    }
}
