//! The algorithms a signature may use, and the arithmetic behind them: digests by RustCrypto
//! `sha1`/`sha2`, public-key operations by OpenSSL.
//!
//! The public-key operation is the expensive part of every signed device request (two of them
//! before [`crate::trust`]'s results were cached, one since): OpenSSL's RSA-2048 verification is
//! over ten times faster than the pure-Rust `rsa` crate's on this kind of machine.
//!
//! Both kinds of signature checked here, the CMS signature over a body and a CA's signature over a
//! certificate, come down to one question: did this key sign a message with this digest? So the
//! digest is always computed first, and [`PublicKey::verify_digest`] checks the signature over it.
//!
//! An unknown OID is `None` here and a failed check a [`Rejected`]: each caller names the error in
//! its own terms (a `SignerInfo`'s algorithm is a [`crate::SignatureError`], a certificate's a
//! [`crate::TrustError`]). A key that cannot be read is always the certificate's fault.

#[cfg(test)]
use openssl::hash::MessageDigest;
use openssl::md::{Md, MdRef};
use openssl::pkey::{Id, PKey, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::Encode;
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

    /// OpenSSL's name for this digest, for the DigestInfo of an RSA signature.
    fn md(self) -> &'static MdRef {
        match self {
            Self::Sha1 => Md::sha1(),
            Self::Sha256 => Md::sha256(),
            Self::Sha384 => Md::sha384(),
            Self::Sha512 => Md::sha512(),
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

/// The largest RSA modulus accepted, in bits. A verification costs the square of the size: an
/// attacker's self-made 16384-bit key would cost 64 times a device's 2048-bit one, before the
/// certificate is even found untrusted.
const MAX_RSA_BITS: u32 = 4096;
/// The largest RSA public exponent accepted, in bits (65537 has 17): a verification costs one
/// multiplication per bit, so a key with a 2048-bit exponent would cost a hundred times more.
const MAX_RSA_EXPONENT_BITS: i32 = 33;

/// A public key taken from a certificate: RSA (up to [`MAX_RSA_BITS`]) or EC on P-256, ready for
/// OpenSSL.
pub(crate) struct PublicKey {
    key: PKey<Public>,
    kind: KeyKind,
}

impl PublicKey {
    /// Reads a SubjectPublicKeyInfo: RSA (up to 4096 bits) or EC on P-256.
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, TrustError> {
        let unsupported = |what: String| TrustError::UnsupportedPublicKey { what };
        let kind = match spki.algorithm.oid {
            RSA_ENCRYPTION => KeyKind::Rsa,
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
                KeyKind::Ecdsa
            }
            other => return Err(unsupported(format!("key algorithm {other}"))),
        };
        let der = spki
            .to_der()
            .map_err(|e| unsupported(format!("public key: {e}")))?;
        // OpenSSL reads the key as the certificate states it (and checks an EC point is on its
        // curve); the algorithm was checked above so that it cannot pick another one.
        let key = PKey::public_key_from_der(&der).map_err(|_| {
            unsupported(match kind {
                KeyKind::Rsa => "RSA key that does not decode".to_owned(),
                KeyKind::Ecdsa => "P-256 point not on the curve".to_owned(),
            })
        })?;
        match (kind, key.id()) {
            (KeyKind::Rsa, Id::RSA) => {
                let rsa = key
                    .rsa()
                    .map_err(|_| unsupported("RSA key that does not decode".to_owned()))?;
                if key.bits() > MAX_RSA_BITS {
                    return Err(unsupported(format!(
                        "RSA key of {} bits, over {MAX_RSA_BITS}",
                        key.bits()
                    )));
                }
                let exponent = rsa.e();
                if exponent.num_bits() > MAX_RSA_EXPONENT_BITS || exponent.num_bits() < 2 {
                    return Err(unsupported(format!(
                        "RSA public exponent of {} bits",
                        exponent.num_bits()
                    )));
                }
            }
            (KeyKind::Ecdsa, Id::EC) => {}
            _ => return Err(unsupported("key of another type than named".to_owned())),
        }
        Ok(Self { key, kind })
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
        if kind != self.kind {
            return Err(Rejected::WrongKeyKind);
        }
        // Any OpenSSL error (a signature of the wrong length, a malformed ECDSA DER) is a
        // signature that does not verify; the error queue is drained by the binding.
        let verified = (|| {
            let mut ctx = PkeyCtx::new(&self.key)?;
            ctx.verify_init()?;
            if kind == KeyKind::Rsa {
                // PKCS#1 v1.5 with the DigestInfo of this digest algorithm.
                ctx.set_rsa_padding(Padding::PKCS1)?;
                ctx.set_signature_md(digest_alg.md())?;
            }
            // ECDSA signs the digest itself (truncated to the curve's size), as DER.
            ctx.verify(digest, signature)
        })();
        match verified {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err(Rejected::BadSignature),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::bn::BigNum;
    use openssl::rsa::Rsa;
    use x509_cert::der::Decode;

    fn spki_of_rsa(modulus_bits: i32, exponent: &BigNum) -> SubjectPublicKeyInfoOwned {
        let mut n = BigNum::new().expect("bignum");
        n.rand(modulus_bits, openssl::bn::MsbOption::ONE, true)
            .expect("random modulus");
        let rsa =
            Rsa::from_public_components(n, BigNum::from_slice(&exponent.to_vec()).expect("copy"))
                .expect("public key");
        let der = PKey::from_rsa(rsa)
            .and_then(|k| k.public_key_to_der())
            .expect("SPKI");
        SubjectPublicKeyInfoOwned::from_der(&der).expect("decodes")
    }

    /// What a key costs to verify with is bounded before any signature is checked with it.
    #[test]
    fn rsa_keys_are_bounded_in_modulus_and_exponent() {
        let f4 = BigNum::from_u32(65537).expect("e");
        assert!(PublicKey::from_spki(&spki_of_rsa(2048, &f4)).is_ok());
        assert!(PublicKey::from_spki(&spki_of_rsa(4096, &f4)).is_ok());
        let refused = |spki| match PublicKey::from_spki(&spki) {
            Err(TrustError::UnsupportedPublicKey { what }) => what,
            other => panic!("accepted: {:?}", other.map(|k| k.kind)),
        };
        assert!(refused(spki_of_rsa(4104, &f4)).contains("over 4096"));
        let mut huge_exponent = BigNum::new().expect("e");
        huge_exponent
            .rand(1024, openssl::bn::MsbOption::ONE, true)
            .expect("random exponent");
        assert!(refused(spki_of_rsa(2048, &huge_exponent)).contains("exponent"));
        assert!(refused(spki_of_rsa(2048, &BigNum::from_u32(1).expect("e"))).contains("exponent"));
    }

    /// OpenSSL's verdicts: the signature over the digest by this key, of this kind and digest
    /// algorithm, and nothing else.
    #[test]
    fn signatures_verify_only_as_made() {
        let private = PKey::from_rsa(Rsa::generate(2048).expect("key")).expect("pkey");
        let spki = SubjectPublicKeyInfoOwned::from_der(&private.public_key_to_der().expect("der"))
            .expect("SPKI");
        let key = PublicKey::from_spki(&spki).expect("RSA");
        let digest = DigestAlgorithm::Sha256.digest(b"body");
        let mut signer =
            openssl::sign::Signer::new(MessageDigest::sha256(), &private).expect("signer");
        signer.update(b"body").expect("update");
        let signature = signer.sign_to_vec().expect("sign");
        let verify = |kind, alg, digest: &[u8], signature: &[u8]| {
            key.verify_digest(kind, alg, digest, signature)
        };
        assert_eq!(
            verify(KeyKind::Rsa, DigestAlgorithm::Sha256, &digest, &signature),
            Ok(())
        );
        assert_eq!(
            verify(KeyKind::Ecdsa, DigestAlgorithm::Sha256, &digest, &signature),
            Err(Rejected::WrongKeyKind)
        );
        let other_body = DigestAlgorithm::Sha256.digest(b"other");
        for (alg, digest, signature) in [
            (DigestAlgorithm::Sha256, &other_body[..], &signature[..]),
            (DigestAlgorithm::Sha1, &digest[..20], &signature[..]),
            (DigestAlgorithm::Sha256, &digest[..], &signature[..100]),
            (DigestAlgorithm::Sha256, &digest[..], &[][..]),
        ] {
            assert_eq!(
                verify(KeyKind::Rsa, alg, digest, signature),
                Err(Rejected::BadSignature)
            );
        }
        assert!(
            openssl::error::ErrorStack::get().errors().is_empty(),
            "no OpenSSL error is left on the thread for the next caller"
        );
    }
}
