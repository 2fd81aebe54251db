//! Certificates for Apple MDM, with no I/O: which device certificates the server trusts, the
//! `Mdm-Signature` a device sends when its TLS is terminated by a load balancer, SCEP (both ends),
//! configuration profiles (signed, encrypted) and the helpers that issue certificates.
//!
//! It builds on `mdm-core`, the wire model, for the bounded plist decoder and the rules for quoting
//! untrusted text in errors; `mdm-core` knows nothing of certificates, so the services that only
//! read messages do not build any of this.
//!
//! Input is untrusted: nothing here panics on it, and everything read from a request is bounded
//! before it is parsed.
//!
//! # Modules
//! - [`trust`]: **the** trust check for device certificates, [`TrustAnchors::verify`]: issued by
//!   one of our device CAs, valid now give or take the configured clock skew. It answers with a
//!   [`VerifiedCertificate`] or a [`TrustError`]. Also [`ChainCert`] and [`trust::chain`], the
//!   general chain verification (intermediates, time-exempt CAs) it is built on.
//! - [`signature`]: the `Mdm-Signature` header, a device's detached CMS signature of the body
//!   ([`SignatureVerifier`], [`SignatureError`]); the signer certificate goes through
//!   [`TrustAnchors::verify`] like any other. [`signature::inspect()`] describes one for the
//!   operator's tool.
//! - [`scep`]: the SCEP codec (RFC 8894), server and client side, on OpenSSL.
//! - [`profile`]: `.mobileconfig` building, signing and payload encryption, reading a device's
//!   signed answers, and the Apple device CA bundle OTA enrollment verifies against
//!   ([`profile::chain::APPLE_DEVICE_CAS`], from `certs/apple/`).
//! - [`pki`]: certificate helpers on OpenSSL: keys, serials, a self-signed CA, issuing identities.
//! - `algorithm`, `raw` (private): digests, signature schemes and keys; the exact bytes that
//!   signatures cover, cut out of DER.
//!
//! Fuzz targets are in `fuzz/` (outside the workspace; see its README).

#![warn(missing_docs)]

mod algorithm;
#[cfg(test)]
mod fixture;
pub mod pki;
pub mod profile;
mod raw;
pub mod scep;
pub mod signature;
pub mod trust;

pub use signature::{SignatureError, SignatureVerifier};
pub use trust::{ChainCert, TrustAnchors, TrustError, VerifiedCertificate};
