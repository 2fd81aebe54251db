//! The algorithms a signature may use, and the arithmetic behind them (RustCrypto `rsa`, `p256`,
//! `sha1`, `sha2`).
//!
//! Both kinds of signature checked here, the CMS signature over a body and a CA's signature over a
//! certificate, come down to one question: did this key sign a message with this digest? So the
//! digest is always computed first, and [`PublicKey::verify_digest`] checks the signature over it.
//!
//! An unknown OID is `None` here and a failed check a [`Rejected`]: each caller names the error in
//! its own terms (a `SignerInfo`'s algorithm is a [`crate::SignatureError`], a certificate's a
//! [`crate::TrustError`]). A key that cannot be read is always the certificate's fault.

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use crate::TrustError;

const fn oid(dotted: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(dotted)
}

pub(crate) const ID_DATA: ObjectIdentifier = oid("1.2.840.113549.1.7.1");
pub(crate) const ID_SIGNED_DATA: ObjectIdentifier = oid("1.2.840.113549.1.7.2");
pub(crate) const ID_CONTENT_TYPE: ObjectIdentifier = oid("1.2.840.113549.1.9.3");
pub(crate) const ID_MESSAGE_DIGEST: ObjectIdentifier = oid("1.2.840.113549.1.9.4");

pub(crate) const SHA1: ObjectIdentifier = oid("1.3.14.3.2.26");
pub(crate) const SHA256: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.1");
pub(crate) const SHA384: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.2");
pub(crate) const SHA512: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.3");

pub(crate) const RSA_ENCRYPTION: ObjectIdentifier = oid("1.2.840.113549.1.1.1");
pub(crate) const SHA1_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.5");
pub(crate) const SHA256_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.11");
pub(crate) const SHA384_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.12");
pub(crate) const SHA512_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.13");

pub(crate) const EC_PUBLIC_KEY: ObjectIdentifier = oid("1.2.840.10045.2.1");
pub(crate) const SECP256R1: ObjectIdentifier = oid("1.2.840.10045.3.1.7");
pub(crate) const ECDSA_WITH_SHA1: ObjectIdentifier = oid("1.2.840.10045.4.1");
pub(crate) const ECDSA_WITH_SHA256: ObjectIdentifier = oid("1.2.840.10045.4.3.2");
pub(crate) const ECDSA_WITH_SHA384: ObjectIdentifier = oid("1.2.840.10045.4.3.3");
pub(crate) const ECDSA_WITH_SHA512: ObjectIdentifier = oid("1.2.840.10045.4.3.4");

/// A digest algorithm the verifier computes. SHA-1 is accepted because real devices sign with it;
/// its collision weakness does not help forge a signature over a body an attacker did not choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DigestAlgorithm {
    /// SHA-1 (`1.3.14.3.2.26`): what macOS devices commonly use.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// The algorithm an OID names, if it is one of these.
    pub(crate) fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            SHA1 => Some(Self::Sha1),
            SHA256 => Some(Self::Sha256),
            SHA384 => Some(Self::Sha384),
            SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// The digest of `data`.
    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => Sha1::digest(data).to_vec(),
            Self::Sha256 => Sha256::digest(data).to_vec(),
            Self::Sha384 => Sha384::digest(data).to_vec(),
            Self::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

/// The family of key a signature algorithm needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// RSA, PKCS#1 v1.5 signatures.
    Rsa,
    /// ECDSA (on P-256: the only curve accepted).
    Ecdsa,
}

/// A signature algorithm OID, resolved.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scheme {
    /// The kind of key it needs.
    pub key: KeyKind,
    /// The digest the OID names; `None` for `rsaEncryption` (and `id-ecPublicKey`), which leave
    /// it to the `digestAlgorithm` beside them.
    pub digest: Option<DigestAlgorithm>,
}

impl Scheme {
    /// The scheme an OID names, if it is one of these.
    pub(crate) fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        let (key, digest) = match *oid {
            RSA_ENCRYPTION => (KeyKind::Rsa, None),
            SHA1_WITH_RSA => (KeyKind::Rsa, Some(DigestAlgorithm::Sha1)),
            SHA256_WITH_RSA => (KeyKind::Rsa, Some(DigestAlgorithm::Sha256)),
            SHA384_WITH_RSA => (KeyKind::Rsa, Some(DigestAlgorithm::Sha384)),
            SHA512_WITH_RSA => (KeyKind::Rsa, Some(DigestAlgorithm::Sha512)),
            EC_PUBLIC_KEY => (KeyKind::Ecdsa, None),
            ECDSA_WITH_SHA1 => (KeyKind::Ecdsa, Some(DigestAlgorithm::Sha1)),
            ECDSA_WITH_SHA256 => (KeyKind::Ecdsa, Some(DigestAlgorithm::Sha256)),
            ECDSA_WITH_SHA384 => (KeyKind::Ecdsa, Some(DigestAlgorithm::Sha384)),
            ECDSA_WITH_SHA512 => (KeyKind::Ecdsa, Some(DigestAlgorithm::Sha512)),
            _ => return None,
        };
        Some(Self { key, digest })
    }
}

/// A readable name for an algorithm OID, for descriptions: the usual name when known, else the
/// dotted OID.
pub(crate) fn algorithm_name(oid: &ObjectIdentifier) -> String {
    let name = match *oid {
        SHA1 => "SHA-1",
        SHA256 => "SHA-256",
        SHA384 => "SHA-384",
        SHA512 => "SHA-512",
        RSA_ENCRYPTION => "rsaEncryption",
        SHA1_WITH_RSA => "sha1WithRSAEncryption",
        SHA256_WITH_RSA => "sha256WithRSAEncryption",
        SHA384_WITH_RSA => "sha384WithRSAEncryption",
        SHA512_WITH_RSA => "sha512WithRSAEncryption",
        EC_PUBLIC_KEY => "id-ecPublicKey",
        ECDSA_WITH_SHA1 => "ecdsa-with-SHA1",
        ECDSA_WITH_SHA256 => "ecdsa-with-SHA256",
        ECDSA_WITH_SHA384 => "ecdsa-with-SHA384",
        ECDSA_WITH_SHA512 => "ecdsa-with-SHA512",
        _ => return oid.to_string(),
    };
    name.to_owned()
}

/// Why a key did not verify a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// The signature algorithm is for another kind of key (RSA for an EC key, or the reverse).
    WrongKeyKind,
    /// The signature is not this key's over this digest.
    BadSignature,
}

/// A public key taken from a certificate.
pub(crate) enum PublicKey {
    Rsa(Box<RsaPublicKey>),
    P256(p256::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// Reads a SubjectPublicKeyInfo: RSA (up to 4096 bits) or EC on P-256.
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, TrustError> {
        let unsupported = |what: String| TrustError::UnsupportedPublicKey { what };
        let bits = spki.subject_public_key.raw_bytes();
        match spki.algorithm.oid {
            RSA_ENCRYPTION => RsaPublicKey::from_pkcs1_der(bits)
                .map(|key| Self::Rsa(Box::new(key)))
                .map_err(|e| unsupported(format!("RSA key: {e}"))),
            EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
                if curve != Some(SECP256R1) {
                    let curve = curve.map_or_else(|| "unnamed".to_owned(), |c| c.to_string());
                    return Err(unsupported(format!("EC key on curve {curve}, not P-256")));
                }
                p256::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                    .map(Self::P256)
                    .map_err(|_| unsupported("P-256 point not on the curve".to_owned()))
            }
            other => Err(unsupported(format!("key algorithm {other}"))),
        }
    }

    /// Checks that this key made `signature`, of kind `kind`, over a message whose digest by
    /// `digest_alg` is `digest`.
    pub(crate) fn verify_digest(
        &self,
        kind: KeyKind,
        digest_alg: DigestAlgorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<(), Rejected> {
        let verified = match (self, kind) {
            (Self::Rsa(key), KeyKind::Rsa) => {
                let padding = match digest_alg {
                    DigestAlgorithm::Sha1 => Pkcs1v15Sign::new::<Sha1>(),
                    DigestAlgorithm::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
                    DigestAlgorithm::Sha384 => Pkcs1v15Sign::new::<Sha384>(),
                    DigestAlgorithm::Sha512 => Pkcs1v15Sign::new::<Sha512>(),
                };
                key.verify(padding, digest, signature).is_ok()
            }
            (Self::P256(key), KeyKind::Ecdsa) => p256::ecdsa::Signature::from_der(signature)
                .is_ok_and(|signature| key.verify_prehash(digest, &signature).is_ok()),
            _ => return Err(Rejected::WrongKeyKind),
        };
        if verified {
            Ok(())
        } else {
            Err(Rejected::BadSignature)
        }
    }
}
