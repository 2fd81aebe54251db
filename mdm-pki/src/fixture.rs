//! Test-time keys, certificates and signatures, and a DER-to-BER re-encoder, for the tests of
//! [`crate::trust`] and [`crate::signature`].

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use p256::ecdsa::signature::hazmat::PrehashSigner;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};
use x509_cert::attr::Attribute;
use x509_cert::der::asn1::{BitString, OctetString, SetOfVec, UtcTime};
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::{Any, Decode, Encode};
use x509_cert::ext::pkix::{BasicConstraints, SubjectKeyIdentifier};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, EncodePublicKey, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

use crate::algorithm::*;
use crate::{ChainCert, SignatureVerifier, TrustAnchors};

/// The time the tests verify at (2025-06-15).
pub(crate) const NOW: i64 = 1_750_000_000;
pub(crate) const DAY: i64 = 86_400;
/// Every digest the verifier accepts.
pub(crate) const DIGESTS: [DigestAlgorithm; 4] = [
    DigestAlgorithm::Sha1,
    DigestAlgorithm::Sha256,
    DigestAlgorithm::Sha384,
    DigestAlgorithm::Sha512,
];

/// A private key.
pub(crate) enum Key {
    Rsa(Box<RsaPrivateKey>),
    P256(p256::ecdsa::SigningKey),
}

/// Distinct RSA keys, generated once per test binary: 2048-bit generation takes seconds in a
/// debug build. 2048 bits, the size devices use.
pub(crate) fn rsa_key(index: usize) -> &'static Key {
    static KEYS: OnceLock<Vec<Key>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key generation")
                })
            })
            .collect();
        let keys = threads.into_iter();
        keys.map(|t| Key::Rsa(Box::new(t.join().expect("keygen thread"))))
            .collect()
    });
    &keys[index]
}

impl Key {
    /// A fresh P-256 key.
    pub(crate) fn p256() -> Key {
        Key::P256(p256::ecdsa::SigningKey::random(&mut rand::thread_rng()))
    }

    pub(crate) fn spki(&self) -> SubjectPublicKeyInfoOwned {
        let der = match self {
            Key::Rsa(key) => key.to_public_key().to_public_key_der(),
            Key::P256(key) => key.verifying_key().to_public_key_der(),
        };
        let der = der.expect("public key DER");
        SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).expect("SPKI")
    }

    /// Signs the `digest` of `data`: PKCS#1 v1.5 or ECDSA (DER).
    pub(crate) fn sign(&self, digest: DigestAlgorithm, data: &[u8]) -> Vec<u8> {
        let hashed = digest.digest(data);
        match self {
            Key::Rsa(key) => {
                let padding = match digest {
                    DigestAlgorithm::Sha1 => Pkcs1v15Sign::new::<Sha1>(),
                    DigestAlgorithm::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
                    DigestAlgorithm::Sha384 => Pkcs1v15Sign::new::<Sha384>(),
                    DigestAlgorithm::Sha512 => Pkcs1v15Sign::new::<Sha512>(),
                };
                key.sign(padding, &hashed).expect("RSA sign")
            }
            Key::P256(key) => {
                let signature: p256::ecdsa::Signature =
                    key.sign_prehash(&hashed).expect("ECDSA sign");
                signature.to_der().as_bytes().to_vec()
            }
        }
    }

    /// The signature algorithm identifier for this key and digest; for RSA, `named` chooses
    /// `sha*WithRSAEncryption` over plain `rsaEncryption`.
    pub(crate) fn algorithm(
        &self,
        digest: DigestAlgorithm,
        named: bool,
    ) -> AlgorithmIdentifierOwned {
        let oid = match (self, digest) {
            (Key::Rsa(_), _) if !named => RSA_ENCRYPTION,
            (Key::Rsa(_), DigestAlgorithm::Sha1) => SHA1_WITH_RSA,
            (Key::Rsa(_), DigestAlgorithm::Sha256) => SHA256_WITH_RSA,
            (Key::Rsa(_), DigestAlgorithm::Sha384) => SHA384_WITH_RSA,
            (Key::Rsa(_), DigestAlgorithm::Sha512) => SHA512_WITH_RSA,
            (Key::P256(_), DigestAlgorithm::Sha1) => ECDSA_WITH_SHA1,
            (Key::P256(_), DigestAlgorithm::Sha256) => ECDSA_WITH_SHA256,
            (Key::P256(_), DigestAlgorithm::Sha384) => ECDSA_WITH_SHA384,
            (Key::P256(_), DigestAlgorithm::Sha512) => ECDSA_WITH_SHA512,
        };
        let parameters = matches!(self, Key::Rsa(_)).then(Any::null);
        AlgorithmIdentifierOwned { oid, parameters }
    }

    /// PKCS#8 DER, for the openssl CLI.
    pub(crate) fn pkcs8_der(&self) -> Vec<u8> {
        use rsa::pkcs8::EncodePrivateKey;
        let der = match self {
            Key::Rsa(key) => key.to_pkcs8_der(),
            Key::P256(key) => key.to_pkcs8_der(),
        };
        der.expect("PKCS#8").as_bytes().to_vec()
    }
}

pub(crate) fn digest_oid(digest: DigestAlgorithm) -> ObjectIdentifier {
    match digest {
        DigestAlgorithm::Sha1 => SHA1,
        DigestAlgorithm::Sha256 => SHA256,
        DigestAlgorithm::Sha384 => SHA384,
        DigestAlgorithm::Sha512 => SHA512,
    }
}

/// A certificate to make. Start from [`CertSpec::ca`] or [`CertSpec::device`].
pub(crate) struct CertSpec<'a> {
    /// The subject as RFC 4514 text; empty for an empty subject.
    pub subject: &'a str,
    /// The subject's key.
    pub key: &'a Key,
    /// The issuer and its key; `None` for self-signed.
    pub issuer: Option<(&'a ChainCert, &'a Key)>,
    /// notBefore and notAfter.
    pub validity: (i64, i64),
    /// basicConstraints cA (and the path length), or `None` for no basicConstraints.
    pub ca: Option<(bool, Option<u8>)>,
    /// The digest of the issuer's signature.
    pub digest: DigestAlgorithm,
}

impl<'a> CertSpec<'a> {
    /// A self-signed CA valid a year either side of [`NOW`].
    pub(crate) fn ca(subject: &'a str, key: &'a Key) -> Self {
        CertSpec {
            subject,
            key,
            issuer: None,
            validity: (NOW - 365 * DAY, NOW + 365 * DAY),
            ca: Some((true, None)),
            digest: DigestAlgorithm::Sha256,
        }
    }

    /// A device certificate valid a month either side of [`NOW`].
    pub(crate) fn device(subject: &'a str, key: &'a Key, issuer: (&'a ChainCert, &'a Key)) -> Self {
        CertSpec {
            subject,
            key,
            issuer: Some(issuer),
            validity: (NOW - 30 * DAY, NOW + 30 * DAY),
            ca: None,
            digest: DigestAlgorithm::Sha256,
        }
    }

    pub(crate) fn build(&self) -> ChainCert {
        static SERIAL: AtomicU32 = AtomicU32::new(1);
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed).to_be_bytes();
        let subject = match self.subject {
            "" => Name::default(),
            text => Name::from_str(text).expect("subject"),
        };
        let (issuer_name, issuer_key) = match self.issuer {
            Some((cert, key)) => (cert.certificate().tbs_certificate.subject.clone(), key),
            None => (subject.clone(), self.key),
        };
        let mut extensions = vec![extension(SubjectKeyIdentifier(
            OctetString::new(serial.to_vec()).expect("SKI"),
        ))];
        if let Some((ca, path_len_constraint)) = self.ca {
            extensions.push(extension(BasicConstraints {
                ca,
                path_len_constraint,
            }));
        }
        let tbs = TbsCertificate {
            version: Version::V3,
            serial_number: SerialNumber::new(&serial).expect("serial"),
            signature: issuer_key.algorithm(self.digest, true),
            issuer: issuer_name,
            validity: Validity {
                not_before: time(self.validity.0),
                not_after: time(self.validity.1),
            },
            subject,
            subject_public_key_info: self.key.spki(),
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(extensions),
        };
        let signature = issuer_key.sign(self.digest, &tbs.to_der().expect("TBS DER"));
        let cert = Certificate {
            signature_algorithm: tbs.signature.clone(),
            tbs_certificate: tbs,
            signature: BitString::from_bytes(&signature).expect("signature bits"),
        };
        ChainCert::from_der(cert.to_der().expect("certificate DER")).expect("own certificate")
    }
}

fn extension<E: Encode + x509_cert::der::oid::AssociatedOid>(value: E) -> Extension {
    Extension {
        extn_id: E::OID,
        critical: false,
        extn_value: OctetString::new(value.to_der().expect("extension DER")).expect("octets"),
    }
}

fn time(unix: i64) -> Time {
    let since = Duration::from_secs(u64::try_from(unix).expect("after 1970"));
    Time::UtcTime(UtcTime::from_unix_duration(since).expect("UTCTime range"))
}

/// A certificate as PEM.
pub(crate) fn pem(der: &[u8]) -> String {
    x509_cert::der::pem::encode_string("CERTIFICATE", Default::default(), der).expect("PEM")
}

/// A CA, a device certificate it issued, and the device's key: the usual cast of a test.
pub(crate) struct Pki {
    pub ca: ChainCert,
    pub ca_key: &'static Key,
    pub device: ChainCert,
    pub device_key: &'static Key,
}

impl Pki {
    /// An RSA CA with an RSA device (the common real case).
    pub(crate) fn rsa() -> Pki {
        let ca_key = rsa_key(0);
        let ca = CertSpec::ca("CN=Test Device CA,O=MDM Tests", ca_key).build();
        let device_key = rsa_key(1);
        let device = CertSpec::device("CN=UDID-RSA-0001", device_key, (&ca, ca_key)).build();
        Pki {
            ca,
            ca_key,
            device,
            device_key,
        }
    }

    /// An ECDSA P-256 CA with a P-256 device.
    pub(crate) fn p256() -> Pki {
        let ca_key: &'static Key = Box::leak(Box::new(Key::p256()));
        let ca = CertSpec::ca("CN=Test EC Device CA", ca_key).build();
        let device_key: &'static Key = Box::leak(Box::new(Key::p256()));
        let device = CertSpec::device("CN=UDID-EC-0001", device_key, (&ca, ca_key)).build();
        Pki {
            ca,
            ca_key,
            device,
            device_key,
        }
    }

    /// Anchors trusting this CA, with a five-minute skew.
    pub(crate) fn anchors(&self) -> TrustAnchors {
        TrustAnchors::new(vec![self.ca.der().to_vec()], Duration::from_secs(300)).expect("anchors")
    }

    /// A signature verifier trusting this CA, with a five-minute skew.
    pub(crate) fn verifier(&self) -> SignatureVerifier {
        SignatureVerifier::new(self.anchors())
    }
}

/// How to sign.
#[derive(Clone, Copy)]
pub(crate) struct SignSpec {
    pub digest: DigestAlgorithm,
    /// Include contentType, signingTime and messageDigest signed attributes.
    pub signed_attrs: bool,
    /// Name the digest in the RSA signature algorithm (`sha256WithRSAEncryption`).
    pub named_algorithm: bool,
    /// Identify the signer by subjectKeyIdentifier instead of issuer and serial.
    pub by_key_id: bool,
}

impl SignSpec {
    pub(crate) fn new(digest: DigestAlgorithm, signed_attrs: bool) -> SignSpec {
        SignSpec {
            digest,
            signed_attrs,
            named_algorithm: false,
            by_key_id: false,
        }
    }
}

/// A detached SignedData over `body` by `key`, carrying `certs` (the signer's first), as DER.
pub(crate) fn sign(body: &[u8], key: &Key, certs: &[&ChainCert], spec: SignSpec) -> Vec<u8> {
    let signer = certs[0].certificate();
    let body_digest = spec.digest.digest(body);
    let signed_attrs = spec.signed_attrs.then(|| {
        let attribute = |oid, value: Any| Attribute {
            oid,
            values: SetOfVec::try_from(vec![value]).expect("values"),
        };
        let signing_time = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
        let utc = time(NOW);
        SetOfVec::try_from(vec![
            attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA).expect("oid")),
            attribute(signing_time, Any::encode_from(&utc).expect("time")),
            attribute(
                ID_MESSAGE_DIGEST,
                Any::encode_from(&OctetString::new(body_digest).expect("octets")).expect("md"),
            ),
        ])
        .expect("attributes")
    });
    let signature = match &signed_attrs {
        Some(attrs) => key.sign(spec.digest, &attrs.to_der().expect("attributes DER")),
        None => key.sign(spec.digest, body),
    };
    let sid = if spec.by_key_id {
        let (_, ski) = signer
            .tbs_certificate
            .get::<SubjectKeyIdentifier>()
            .expect("SKI")
            .expect("SKI");
        SignerIdentifier::SubjectKeyIdentifier(ski)
    } else {
        SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: signer.tbs_certificate.issuer.clone(),
            serial_number: signer.tbs_certificate.serial_number.clone(),
        })
    };
    let digest_alg = AlgorithmIdentifierOwned {
        oid: digest_oid(spec.digest),
        parameters: None,
    };
    let info = SignerInfo {
        version: if spec.by_key_id {
            CmsVersion::V3
        } else {
            CmsVersion::V1
        },
        sid,
        digest_alg: digest_alg.clone(),
        signed_attrs,
        signature_algorithm: key.algorithm(spec.digest, spec.named_algorithm),
        signature: OctetString::new(signature).expect("signature"),
        unsigned_attrs: None,
    };
    let certificates = certs
        .iter()
        .map(|c| CertificateChoices::Certificate(c.certificate().clone()))
        .collect::<Vec<_>>();
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![digest_alg]).expect("digests"),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet::try_from(certificates).expect("certs")),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![info]).expect("signer infos"),
    };
    wrap(&signed_data)
}

/// A ContentInfo holding `signed_data`, as DER.
pub(crate) fn wrap(signed_data: &SignedData) -> Vec<u8> {
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(signed_data).expect("SignedData"),
    }
    .to_der()
    .expect("ContentInfo DER")
}

/// Decodes a DER signature, lets `change` alter its SignedData, and encodes it again.
pub(crate) fn modify(der: &[u8], change: impl FnOnce(&mut SignedData)) -> Vec<u8> {
    let info = ContentInfo::from_der(der).expect("ContentInfo");
    let mut signed_data: SignedData = info.content.decode_as().expect("SignedData");
    change(&mut signed_data);
    wrap(&signed_data)
}

/// The header value for a signature: base64.
pub(crate) fn header(der: &[u8]) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .encode(der)
        .into_bytes()
}

/// Re-encodes DER as BER the way streaming encoders (Apple's among them) write it: every
/// constructed element with an indefinite length, and every OCTET STRING longer than `chunk`
/// bytes as a constructed string of `chunk`-byte pieces.
pub(crate) fn to_indefinite_ber(der: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = der;
    while !rest.is_empty() {
        let tag = rest[0];
        let (len, header) = match rest[1] {
            n @ 0..=0x7f => (usize::from(n), 2),
            n => {
                let count = usize::from(n & 0x7f);
                let len = rest[2..2 + count]
                    .iter()
                    .fold(0, |acc, &b| (acc << 8) | usize::from(b));
                (len, 2 + count)
            }
        };
        let content = &rest[header..header + len];
        if tag & 0x20 != 0 {
            out.extend([tag, 0x80]);
            out.extend(to_indefinite_ber(content, chunk));
            out.extend([0, 0]);
        } else if tag == 0x04 && len > chunk {
            out.extend([0x24, 0x80]);
            for piece in content.chunks(chunk) {
                out.push(0x04);
                out.extend(definite_length(piece.len()));
                out.extend(piece);
            }
            out.extend([0, 0]);
        } else {
            out.extend(&rest[..header + len]);
        }
        rest = &rest[header + len..];
    }
    out
}

fn definite_length(len: usize) -> Vec<u8> {
    match len {
        0..=0x7f => vec![len as u8],
        0x80..=0xff => vec![0x81, len as u8],
        _ => vec![0x82, (len >> 8) as u8, len as u8],
    }
}
