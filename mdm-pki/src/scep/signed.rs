//! The PKCS#7 SignedData that carries every SCEP message (`pkiMessage`): building one with SCEP's
//! signed attributes, and reading the attributes and content of one a peer sent. Signature
//! *verification* is OpenSSL's (`Pkcs7::verify`); this module only does what OpenSSL's Rust
//! bindings cannot: custom signed attributes.

use super::asn1::{self, tag};
use super::attributes::{self, ScepAttributes};
use super::ScepError;
use openssl::hash::MessageDigest;
use openssl::pkcs7::Pkcs7;
use openssl::pkey::{Id, PKeyRef, Private};
use openssl::x509::X509Ref;

/// id-data.
pub const ID_DATA: &str = "1.2.840.113549.1.7.1";
/// id-signedData.
pub const ID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
/// rsaEncryption: the signature algorithm most SCEP peers write in a SignerInfo.
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

/// A message digest algorithm of a SignerInfo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    /// SHA-1: still common from older clients.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512: Apple's mdmclient.
    Sha512,
}

impl Digest {
    const ALL: [Digest; 4] = [Digest::Sha1, Digest::Sha256, Digest::Sha384, Digest::Sha512];

    /// The algorithm's OID, dotted.
    pub fn oid(self) -> &'static str {
        match self {
            Digest::Sha1 => "1.3.14.3.2.26",
            Digest::Sha256 => "2.16.840.1.101.3.4.2.1",
            Digest::Sha384 => "2.16.840.1.101.3.4.2.2",
            Digest::Sha512 => "2.16.840.1.101.3.4.2.3",
        }
    }

    fn ecdsa_oid(self) -> &'static str {
        match self {
            Digest::Sha1 => "1.2.840.10045.4.1",
            Digest::Sha256 => "1.2.840.10045.4.3.2",
            Digest::Sha384 => "1.2.840.10045.4.3.3",
            Digest::Sha512 => "1.2.840.10045.4.3.4",
        }
    }

    /// OpenSSL's digest.
    pub fn openssl(self) -> MessageDigest {
        match self {
            Digest::Sha1 => MessageDigest::sha1(),
            Digest::Sha256 => MessageDigest::sha256(),
            Digest::Sha384 => MessageDigest::sha384(),
            Digest::Sha512 => MessageDigest::sha512(),
        }
    }

    /// The digest of an encoded OID (the whole TLV).
    pub fn from_oid_tlv(raw: &[u8]) -> Option<Digest> {
        Digest::ALL.into_iter().find(|d| asn1::oid(d.oid()) == raw)
    }
}

/// A certificate and its private key, signing a message.
#[derive(Clone, Copy)]
pub struct Signer<'a> {
    /// The signer's certificate (named in the SignerInfo and included in the message).
    pub cert: &'a X509Ref,
    /// Its private key (RSA or EC).
    pub key: &'a PKeyRef<Private>,
}

impl std::fmt::Debug for Signer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("subject", &self.cert.subject_name())
            .finish_non_exhaustive()
    }
}

/// Builds a DER ContentInfo(SignedData) over `content` (id-data; absent when `None`) with
/// contentType, messageDigest and `scep_attributes` signed, the signer's certificate included.
pub fn build(
    signer: Signer<'_>,
    digest: Digest,
    content: Option<&[u8]>,
    scep_attributes: Vec<Vec<u8>>,
) -> Result<Vec<u8>, ScepError> {
    let content_digest = openssl::hash::hash(digest.openssl(), content.unwrap_or_default())?;
    let mut signed_attributes = scep_attributes;
    signed_attributes.push(asn1::attribute(
        attributes::CONTENT_TYPE,
        asn1::oid(ID_DATA),
    ));
    signed_attributes.push(attributes::octets(
        attributes::MESSAGE_DIGEST,
        &content_digest,
    ));
    // The signature covers the attributes encoded as a DER SET OF; in the SignerInfo the same
    // octets appear under the [0] IMPLICIT tag.
    let attribute_set = asn1::set_of(signed_attributes);
    let mut sign = openssl::sign::Signer::new(digest.openssl(), signer.key)?;
    sign.update(&attribute_set)?;
    let signature = sign.sign_to_vec()?;
    let signature_algorithm = match signer.key.id() {
        Id::EC => asn1::algorithm_without_parameters(digest.ecdsa_oid()),
        _ => asn1::algorithm(RSA_ENCRYPTION),
    };
    let cert_der = signer.cert.to_der()?;
    let mut implicit_attributes = attribute_set;
    implicit_attributes[0] = tag::CONTEXT_0;
    let signer_info = asn1::sequence(&[
        &asn1::small_uint(1),
        &issuer_and_serial(&cert_der)?,
        &asn1::algorithm(digest.oid()),
        &implicit_attributes,
        &signature_algorithm,
        &asn1::tlv(tag::OCTET_STRING, &signature),
    ]);
    let encapsulated = match content {
        Some(content) => asn1::sequence(&[
            &asn1::oid(ID_DATA),
            &asn1::tlv(tag::CONTEXT_0, &asn1::tlv(tag::OCTET_STRING, content)),
        ]),
        None => asn1::sequence(&[&asn1::oid(ID_DATA)]),
    };
    let signed_data = asn1::sequence(&[
        &asn1::small_uint(1),
        &asn1::set_of(vec![asn1::algorithm(digest.oid())]),
        &encapsulated,
        &asn1::tlv(tag::CONTEXT_0, &cert_der),
        &asn1::set_of(vec![signer_info]),
    ]);
    Ok(content_info(ID_SIGNED_DATA, &signed_data))
}

/// A "degenerate" certificates-only SignedData: how a CertRep carries the issued certificate.
pub fn certificates_only(certs: &[&X509Ref]) -> Result<Vec<u8>, ScepError> {
    let mut ders = Vec::with_capacity(certs.len());
    for cert in certs {
        ders.push(cert.to_der()?);
    }
    let signed_data = asn1::sequence(&[
        &asn1::small_uint(1),
        &asn1::tlv(tag::SET, &[]),
        &asn1::sequence(&[&asn1::oid(ID_DATA)]),
        &asn1::tlv(tag::CONTEXT_0, &ders.concat()),
        &asn1::tlv(tag::SET, &[]),
    ]);
    Ok(content_info(ID_SIGNED_DATA, &signed_data))
}

fn content_info(content_type: &str, content: &[u8]) -> Vec<u8> {
    asn1::sequence(&[
        &asn1::oid(content_type),
        &asn1::tlv(tag::CONTEXT_0, content),
    ])
}

/// `IssuerAndSerialNumber` of a certificate, copied from its own encoding (so an unusual serial
/// round-trips exactly).
pub fn issuer_and_serial(cert_der: &[u8]) -> Result<Vec<u8>, ScepError> {
    let cert = asn1::read_only(cert_der)?
        .expect(tag::SEQUENCE, "Certificate")?
        .children()?;
    let tbs = cert
        .first()
        .ok_or_else(|| ScepError::Malformed("empty certificate".into()))?
        .children()?;
    let start = usize::from(tbs.first().is_some_and(|v| v.tag == tag::CONTEXT_0));
    let (Some(serial), Some(issuer)) = (tbs.get(start), tbs.get(start + 2)) else {
        return Err(ScepError::Malformed("truncated TBSCertificate".into()));
    };
    Ok(asn1::sequence(&[issuer.raw, serial.raw]))
}

/// What a peer's SignedData says, before its signature is checked.
#[derive(Debug, Clone)]
pub struct SignedView {
    /// The first SignerInfo's SCEP attributes.
    pub attributes: ScepAttributes,
    /// Its digest algorithm (`None` when unknown to us).
    pub digest: Option<Digest>,
    /// The encapsulated content (`None` when absent).
    pub content: Option<Vec<u8>>,
}

/// Reads a SignedData. BER (indefinite lengths, constructed strings) is re-encoded as DER by
/// OpenSSL first; the signature is *not* checked here.
pub fn read(message: &[u8]) -> Result<SignedView, ScepError> {
    match read_der(message) {
        Ok(view) => Ok(view),
        Err(ScepError::Malformed(_)) => {
            let der = Pkcs7::from_der(message)
                .and_then(|p7| p7.to_der())
                .map_err(|e| ScepError::Malformed(format!("not a PKCS#7 message: {e}")))?;
            read_der(&der)
        }
        Err(other) => Err(other),
    }
}

fn read_der(message: &[u8]) -> Result<SignedView, ScepError> {
    let outer = asn1::read_only(message)?
        .expect(tag::SEQUENCE, "ContentInfo")?
        .children()?;
    let (Some(kind), Some(content)) = (outer.first(), outer.get(1)) else {
        return Err(ScepError::Malformed("truncated ContentInfo".into()));
    };
    if kind.raw != asn1::oid(ID_SIGNED_DATA) {
        return Err(ScepError::Malformed("not a SignedData".into()));
    }
    let signed = asn1::read_only(content.expect(tag::CONTEXT_0, "content")?.content)?
        .expect(tag::SEQUENCE, "SignedData")?
        .children()?;
    let encapsulated = signed
        .get(2)
        .ok_or_else(|| ScepError::Malformed("no encapContentInfo".into()))?
        .expect(tag::SEQUENCE, "encapContentInfo")?
        .children()?;
    let content = match encapsulated.get(1) {
        Some(explicit) => {
            let octets = asn1::read_only(explicit.expect(tag::CONTEXT_0, "eContent")?.content)?;
            Some(
                octets
                    .expect(tag::OCTET_STRING, "eContent")?
                    .content
                    .to_vec(),
            )
        }
        None => None,
    };
    let signer_infos = signed
        .last()
        .filter(|item| item.tag == tag::SET)
        .ok_or_else(|| ScepError::Malformed("no signerInfos".into()))?
        .children()?;
    let signer_info = signer_infos
        .first()
        .ok_or_else(|| ScepError::Malformed("the message is not signed".into()))?
        .expect(tag::SEQUENCE, "SignerInfo")?
        .children()?;
    let digest = signer_info
        .get(2)
        .and_then(|alg| alg.children().ok())
        .and_then(|parts| parts.first().and_then(|oid| Digest::from_oid_tlv(oid.raw)));
    let attributes = match signer_info.get(3) {
        Some(attrs) if attrs.tag == tag::CONTEXT_0 => attributes::read(attrs.content)?,
        _ => ScepAttributes::default(),
    };
    Ok(SignedView {
        attributes,
        digest,
        content,
    })
}
