//! Certificates made at test time with rcgen: a throwaway CA ([`TestCa`]) that issues
//! server and client certificates ([`Issued`]), and PEM files on disk for services that
//! take file paths in their configuration ([`PkiFiles`], [`write_pem`]).
//!
//! Keys are ECDSA P-256 (rcgen's default), which OpenSSL and rustls both accept.

mod ca;
mod files;
mod issued;
mod push;

pub use ca::{ClientCertOptions, TestCa};
pub use files::{write_pem, PkiFiles};
pub use issued::Issued;
pub use push::{pkcs12, rsa_key_pems, PUSH_TOPIC};
/// Re-exported so callers can override a client certificate's extended key usages
/// without depending on rcgen themselves.
pub use rcgen::ExtendedKeyUsagePurpose;

#[cfg(test)]
mod tests;
