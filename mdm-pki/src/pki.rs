//! Certificate helpers both ends of the wire need: RSA keys, random serials, a self-signed CA,
//! identity certificates issued from a CSR's key, and the throwaway self-signed certificate a
//! SCEP client signs its first request with. OpenSSL does the work; nothing here does I/O.

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, PKey, PKeyRef, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509Name, X509NameRef, X509Ref, X509};

/// A fresh RSA key of `bits` bits.
pub fn rsa_key(bits: u32) -> Result<PKey<Private>, ErrorStack> {
    PKey::from_rsa(Rsa::generate(bits)?)
}

/// A random positive 127-bit serial number (RFC 5280 allows up to 20 octets; unpredictable
/// serials keep chosen-prefix attacks off the CA).
pub fn random_serial() -> Result<Asn1Integer, ErrorStack> {
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    serial.to_asn1_integer()
}

/// A certificate's serial number as lowercase hex without leading zeros, the one form the
/// server records, looks up and revokes by.
pub fn serial_hex(cert: &X509Ref) -> Result<String, ErrorStack> {
    let hex = cert
        .serial_number()
        .to_bn()?
        .to_hex_str()?
        .to_ascii_lowercase();
    // OpenSSL writes whole bytes ("0a1b"); people paste either form.
    let trimmed = hex.trim_start_matches('0');
    Ok(if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.into()
    })
}

/// A certificate's notAfter in Unix milliseconds (0 if it cannot be read).
pub fn not_after_ms(cert: &X509Ref) -> i64 {
    openssl::asn1::Asn1Time::from_unix(0)
        .and_then(|epoch| epoch.diff(cert.not_after()))
        .map(|d| (i64::from(d.days) * 86_400 + i64::from(d.secs)) * 1000)
        .unwrap_or(0)
}

/// SHA-256 of a certificate's DER (its fingerprint).
pub fn sha256(cert: &X509Ref) -> Result<[u8; 32], ErrorStack> {
    let digest = cert.digest(MessageDigest::sha256())?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&digest);
    Ok(out)
}

/// A name with a single CN (and an O when given).
pub fn name(common_name: &str, organization: Option<&str>) -> Result<X509Name, ErrorStack> {
    let mut name = X509Name::builder()?;
    if let Some(org) = organization.filter(|o| !o.is_empty()) {
        name.append_entry_by_nid(Nid::ORGANIZATIONNAME, org)?;
    }
    name.append_entry_by_nid(Nid::COMMONNAME, common_name)?;
    Ok(name.build())
}

/// The subject's first CN, if any.
pub fn common_name(name: &X509NameRef) -> Option<String> {
    name.entries_by_nid(Nid::COMMONNAME)
        .next()
        .and_then(|entry| entry.data().to_string().ok())
}

/// `name` with its CNs replaced by `common_name` (other attributes kept, in order).
pub fn with_common_name(name: &X509NameRef, common_name: &str) -> Result<X509Name, ErrorStack> {
    let mut builder = X509Name::builder()?;
    for entry in name.entries() {
        let nid = entry.object().nid();
        if nid != Nid::COMMONNAME {
            builder.append_entry_by_nid(nid, &String::from_utf8_lossy(entry.data().as_slice()))?;
        }
    }
    builder.append_entry_by_nid(Nid::COMMONNAME, common_name)?;
    Ok(builder.build())
}

/// A self-signed CA certificate (CA:TRUE, keyCertSign + cRLSign) valid from now for `days`.
pub fn self_signed_ca(
    key: &PKeyRef<Private>,
    subject: &X509NameRef,
    days: u32,
) -> Result<X509, ErrorStack> {
    let mut builder = X509::builder()?;
    builder.set_version(2)?;
    let serial = random_serial()?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(subject)?;
    builder.set_issuer_name(subject)?;
    builder.set_pubkey(key)?;
    let not_before = Asn1Time::days_from_now(0)?;
    builder.set_not_before(&not_before)?;
    let not_after = Asn1Time::days_from_now(days)?;
    builder.set_not_after(&not_after)?;
    builder.append_extension(BasicConstraints::new().critical().ca().build()?)?;
    builder.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .digital_signature()
            .build()?,
    )?;
    let ski = SubjectKeyIdentifier::new().build(&builder.x509v3_context(None, None))?;
    builder.append_extension(ski)?;
    builder.sign(key, MessageDigest::sha256())?;
    Ok(builder.build())
}

/// What an identity certificate says.
#[derive(Debug, Clone, Copy)]
pub struct IdentityTemplate<'a> {
    /// Subject.
    pub subject: &'a X509NameRef,
    /// Unix seconds of notBefore.
    pub not_before: i64,
    /// Unix seconds of notAfter.
    pub not_after: i64,
}

/// Issues a device identity certificate: clientAuth, digitalSignature + keyEncipherment (the
/// device also decrypts profiles encrypted to it), signed by the CA with SHA-256.
pub fn issue_identity<K: HasPublic>(
    ca_cert: &X509Ref,
    ca_key: &PKeyRef<Private>,
    public_key: &PKeyRef<K>,
    template: IdentityTemplate<'_>,
) -> Result<X509, ErrorStack> {
    let mut builder = X509::builder()?;
    builder.set_version(2)?;
    let serial = random_serial()?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(template.subject)?;
    builder.set_issuer_name(ca_cert.subject_name())?;
    builder.set_pubkey(public_key)?;
    let not_before = Asn1Time::from_unix(template.not_before)?;
    let not_after = Asn1Time::from_unix(template.not_after)?;
    builder.set_not_before(&not_before)?;
    builder.set_not_after(&not_after)?;
    builder.append_extension(BasicConstraints::new().critical().build()?)?;
    builder.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .key_encipherment()
            .build()?,
    )?;
    builder.append_extension(ExtendedKeyUsage::new().client_auth().build()?)?;
    let context = builder.x509v3_context(Some(ca_cert), None);
    let ski = SubjectKeyIdentifier::new().build(&context)?;
    let aki = AuthorityKeyIdentifier::new().keyid(false).build(&context)?;
    builder.append_extension(ski)?;
    builder.append_extension(aki)?;
    builder.sign(ca_key, MessageDigest::sha256())?;
    Ok(builder.build())
}

/// The throwaway self-signed certificate a SCEP client signs its PKCSReq with (RFC 8894 §2.3).
pub fn self_signed_signer(
    key: &PKeyRef<Private>,
    subject: &X509NameRef,
) -> Result<X509, ErrorStack> {
    let mut builder = X509::builder()?;
    builder.set_version(2)?;
    let serial = random_serial()?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(subject)?;
    builder.set_issuer_name(subject)?;
    builder.set_pubkey(key)?;
    let not_before = Asn1Time::days_from_now(0)?;
    builder.set_not_before(&not_before)?;
    let not_after = Asn1Time::days_from_now(1)?;
    builder.set_not_after(&not_after)?;
    builder.sign(key, MessageDigest::sha256())?;
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_hex_without_leading_zeros() {
        let key = rsa_key(2048).expect("key");
        let mut cert = X509::builder().expect("builder");
        let serial = BigNum::from_hex_str("0A1B").and_then(|bn| bn.to_asn1_integer());
        cert.set_serial_number(&serial.expect("serial"))
            .expect("set");
        cert.set_pubkey(&key).expect("key");
        cert.sign(&key, MessageDigest::sha256()).expect("sign");
        assert_eq!(serial_hex(&cert.build()).expect("hex"), "a1b");
    }

    #[test]
    fn identities_are_client_certificates_issued_by_the_ca() {
        let ca_key = rsa_key(2048).expect("key");
        let ca = self_signed_ca(&ca_key, &name("CA", None).expect("n"), 10).expect("ca");
        let key = rsa_key(2048).expect("key");
        let subject = with_common_name(&name("x", Some("Org")).expect("n"), "UDID-1").expect("n");
        let cert = issue_identity(
            &ca,
            &ca_key,
            &key,
            IdentityTemplate {
                subject: &subject,
                not_before: 1_700_000_000,
                not_after: 1_700_086_400,
            },
        )
        .expect("issue");
        assert_eq!(common_name(cert.subject_name()).as_deref(), Some("UDID-1"));
        assert!(cert.verify(&ca_key).expect("verify"));
        let text = String::from_utf8(cert.to_text().expect("text")).expect("utf-8");
        assert!(text.contains("TLS Web Client Authentication"), "{text}");
        assert!(text.contains("O=Org, CN=UDID-1"), "{text}");
    }
}
