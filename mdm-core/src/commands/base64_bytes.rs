//! [`Base64Bytes`]: bytes that travel as a base64 string in JSON.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::decode::decode_base64;

/// Bytes (a profile, a provisioning profile) serialized as a standard base64 string in JSON and
/// written as `<data>` in the command plist.
///
/// Reading accepts what a `<data>` element accepts: whitespace anywhere and non-canonical
/// padding. `{:?}` shows the length only, since a profile can be large and can hold secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Base64Bytes(pub Vec<u8>);

impl Base64Bytes {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Base64Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Base64Bytes(bytes)
    }
}

impl From<Base64Bytes> for Vec<u8> {
    fn from(bytes: Base64Bytes) -> Self {
        bytes.0
    }
}

impl AsRef<[u8]> for Base64Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Base64Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Base64Bytes({} bytes)", self.0.len())
    }
}

impl Serialize for Base64Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Base64Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(Base64Visitor)
    }
}

struct Base64Visitor;

impl Visitor<'_> for Base64Visitor {
    type Value = Base64Bytes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Base64Bytes, E> {
        decode_base64(text)
            .map(Base64Bytes)
            .map_err(|reason| E::custom(format!("invalid base64: {reason}")))
    }
}
