//! Certificates of the development server, made with OpenSSL (the library the services link):
//! CAs, a TLS server certificate, an MDM push certificate (the push topic in a UID attribute,
//! like Apple's) and device identities. Leaf keys are ECDSA P-256, quick to make; the device CA
//! is RSA because enroll-svc's SCEP server needs an RSA CA key (clients encrypt to it).

use super::files;
use super::layout::PemPair;
use anyhow::Context;
use mdm_pki::pki;
use openssl::asn1::Asn1Time;
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509Builder, X509Name, X509NameRef, X509Ref, X509VerifyResult, X509};
use std::net::IpAddr;

/// Days a generated CA is valid.
pub const CA_DAYS: u32 = 3650;
/// Days the server certificate is valid: Apple devices refuse TLS certificates valid for
/// longer than 825 days.
pub const SERVER_DAYS: u32 = 825;
/// Days the push certificate is valid (a real one lasts a year; this one is never renewed by
/// hand).
pub const PUSH_DAYS: u32 = CA_DAYS;
/// Days a simulated device's identity is valid.
pub const DEVICE_DAYS: u32 = 365;
/// A certificate with fewer days left than this is issued again at start.
pub const RENEW_WITHIN_DAYS: u32 = 30;
/// Seconds notBefore is set back: a certificate made this second must already be valid for a
/// peer whose clock is a little behind.
const BACKDATE_SECS: i64 = 3600;

/// A certificate and its private key.
#[derive(Clone)]
pub struct KeyedCert {
    /// The certificate.
    pub cert: X509,
    /// Its private key.
    pub key: PKey<Private>,
}

impl std::fmt::Debug for KeyedCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedCert")
            .field("subject", &self.cert.subject_name())
            .finish_non_exhaustive()
    }
}

impl KeyedCert {
    /// Reads a certificate and its key; fails if they do not belong together.
    pub fn load(pair: &PemPair) -> anyhow::Result<KeyedCert> {
        let cert = X509::from_pem(files::read_text(&pair.cert)?.as_bytes())
            .with_context(|| format!("{} is not a PEM certificate", pair.cert.display()))?;
        let key = PKey::private_key_from_pem(files::read_text(&pair.key)?.as_bytes())
            .with_context(|| format!("{} is not a PEM private key", pair.key.display()))?;
        let matches = cert
            .public_key()
            .map(|public| public.public_eq(&key))
            .unwrap_or(false);
        anyhow::ensure!(
            matches,
            "{} is not the key of {}",
            pair.key.display(),
            pair.cert.display()
        );
        Ok(KeyedCert { cert, key })
    }

    /// Writes the certificate (0644) and the key (0600).
    pub fn save(&self, pair: &PemPair) -> anyhow::Result<()> {
        files::write_private(&pair.key, &self.key.private_key_to_pem_pkcs8()?)?;
        files::write_public(&pair.cert, &self.cert.to_pem()?)
    }

    /// The certificate as PEM.
    pub fn cert_pem(&self) -> anyhow::Result<String> {
        Ok(String::from_utf8(self.cert.to_pem()?)?)
    }

    /// The key as PKCS#8 PEM.
    pub fn key_pem(&self) -> anyhow::Result<String> {
        Ok(String::from_utf8(self.key.private_key_to_pem_pkcs8()?)?)
    }

    /// Certificate then key in one PEM: what the push certificate upload takes.
    pub fn identity_pem(&self) -> anyhow::Result<String> {
        Ok(format!("{}{}", self.cert_pem()?, self.key_pem()?))
    }

    /// Lower-case hex SHA-256 of the certificate (its fingerprint).
    pub fn sha256_hex(&self) -> anyhow::Result<String> {
        Ok(hex::encode(pki::sha256(&self.cert)?))
    }

    /// Whether this certificate was signed by `ca` and has more than [`RENEW_WITHIN_DAYS`]
    /// left: otherwise it is issued again (after the CA was replaced, or near expiry).
    pub fn is_current_under(&self, ca: &KeyedCert) -> bool {
        let signed = ca.cert.issued(&self.cert) == X509VerifyResult::OK
            && self.cert.verify(&ca.key).unwrap_or(false);
        signed && has_days_left(&self.cert, RENEW_WITHIN_DAYS)
    }
}

/// Whether `cert` is still valid `days` from now.
pub fn has_days_left(cert: &X509Ref, days: u32) -> bool {
    Asn1Time::days_from_now(days)
        .ok()
        .and_then(|then| cert.not_after().compare(&then).ok())
        .is_some_and(|order| order.is_gt())
}

/// A fresh ECDSA P-256 key.
pub fn ec_key() -> Result<PKey<Private>, ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    PKey::from_ec_key(EcKey::generate(&group)?)
}

/// A self-signed CA named `common_name`, valid for [`CA_DAYS`], with an RSA-2048 key (`rsa`)
/// or an ECDSA P-256 one.
pub fn new_ca(common_name: &str, rsa: bool) -> anyhow::Result<KeyedCert> {
    let key = if rsa { pki::rsa_key(2048)? } else { ec_key()? };
    let subject = pki::name(common_name, Some("mdm-server development"))?;
    let cert = pki::self_signed_ca(&key, &subject, CA_DAYS)?;
    Ok(KeyedCert { cert, key })
}

/// A TLS server certificate for `names` (each IP address an IP SAN, the rest DNS SANs; the
/// first is the CN), signed by `ca`.
pub fn server(ca: &KeyedCert, names: &[&str]) -> anyhow::Result<KeyedCert> {
    let key = ec_key()?;
    let common_name = names.first().copied().unwrap_or("localhost");
    let subject = pki::name(common_name, None)?;
    let mut builder = leaf_builder(ca, &subject, &key, SERVER_DAYS)?;
    builder.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
    let mut sans = SubjectAlternativeName::new();
    for name in names {
        if name.parse::<IpAddr>().is_ok() {
            sans.ip(name);
        } else {
            sans.dns(name);
        }
    }
    let sans = sans.build(&builder.x509v3_context(Some(&ca.cert), None))?;
    builder.append_extension(sans)?;
    sign(builder, ca, key)
}

/// An MDM push certificate for `topic` signed by `ca`: subject `UID=<topic>,
/// CN=APSP:<uuid>, C=US` as Apple issues them, clientAuth (the mock APNs checks it like a TLS
/// client certificate).
pub fn push(ca: &KeyedCert, topic: &str) -> anyhow::Result<KeyedCert> {
    let key = ec_key()?;
    let mut subject = X509Name::builder()?;
    subject.append_entry_by_nid(Nid::USERID, topic)?;
    subject.append_entry_by_nid(Nid::COMMONNAME, &format!("APSP:{}", uuid::Uuid::new_v4()))?;
    subject.append_entry_by_nid(Nid::COUNTRYNAME, "US")?;
    let subject = subject.build();
    let mut builder = leaf_builder(ca, &subject, &key, PUSH_DAYS)?;
    builder.append_extension(ExtendedKeyUsage::new().client_auth().build()?)?;
    sign(builder, ca, key)
}

/// The names a certificate is valid for (its subjectAltName), in its order: each DNS name, and
/// each IP address written as [`server`] takes it.
pub fn names_of(cert: &X509Ref) -> Vec<String> {
    let Some(names) = cert.subject_alt_names() else {
        return Vec::new();
    };
    names
        .iter()
        .filter_map(|name| {
            if let Some(dns) = name.dnsname() {
                return Some(dns.to_owned());
            }
            match name.ipaddress()? {
                &[a, b, c, d] => Some(IpAddr::from([a, b, c, d]).to_string()),
                bytes => <[u8; 16]>::try_from(bytes)
                    .ok()
                    .map(|v6| IpAddr::from(v6).to_string()),
            }
        })
        .collect()
}

/// The push topic of a push certificate: its subject's UID attribute.
pub fn topic_of(cert: &X509Ref) -> Option<String> {
    cert.subject_name()
        .entries_by_nid(Nid::USERID)
        .next()
        .and_then(|entry| entry.data().to_string().ok())
}

/// What every leaf shares: v3, random serial, issuer, validity from an hour ago, not a CA,
/// digitalSignature, key identifiers.
fn leaf_builder(
    ca: &KeyedCert,
    subject: &X509NameRef,
    key: &PKey<Private>,
    days: u32,
) -> anyhow::Result<X509Builder> {
    let mut builder = X509::builder()?;
    builder.set_version(2)?;
    let serial = pki::random_serial()?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(subject)?;
    builder.set_issuer_name(ca.cert.subject_name())?;
    builder.set_pubkey(key)?;
    let now = unix_now();
    let not_before = Asn1Time::from_unix(now - BACKDATE_SECS)?;
    let not_after = Asn1Time::from_unix(now + i64::from(days) * 86_400)?;
    builder.set_not_before(&not_before)?;
    builder.set_not_after(&not_after)?;
    builder.append_extension(BasicConstraints::new().critical().build()?)?;
    builder.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
    let context = builder.x509v3_context(Some(&ca.cert), None);
    let ski = SubjectKeyIdentifier::new().build(&context)?;
    let aki = AuthorityKeyIdentifier::new().keyid(false).build(&context)?;
    builder.append_extension(ski)?;
    builder.append_extension(aki)?;
    Ok(builder)
}

fn sign(mut builder: X509Builder, ca: &KeyedCert, key: PKey<Private>) -> anyhow::Result<KeyedCert> {
    builder.sign(&ca.key, MessageDigest::sha256())?;
    Ok(KeyedCert {
        cert: builder.build(),
        key,
    })
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(cert: &X509Ref) -> String {
        String::from_utf8(cert.to_text().expect("text")).expect("utf-8")
    }

    #[test]
    fn the_server_certificate_names_localhost_and_chains_to_the_ca() {
        let ca = new_ca("Dev CA", false).expect("ca");
        let server = server(&ca, &["localhost", "127.0.0.1", "::1"]).expect("server");
        let text = text(&server.cert);
        assert!(
            text.contains("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"),
            "{text}"
        );
        assert!(text.contains("TLS Web Server Authentication"), "{text}");
        assert_eq!(names_of(&server.cert), ["localhost", "127.0.0.1", "::1"]);
        assert!(server.is_current_under(&ca));
        assert!(!server.is_current_under(&new_ca("Other CA", false).expect("ca")));
    }

    #[test]
    fn the_push_certificate_carries_its_topic() {
        let ca = new_ca("APNs CA", false).expect("ca");
        let push = push(&ca, "com.apple.mgmt.External.abc").expect("push");
        assert_eq!(
            topic_of(&push.cert).as_deref(),
            Some("com.apple.mgmt.External.abc")
        );
        let text = text(&push.cert);
        assert!(text.contains("TLS Web Client Authentication"), "{text}");
        assert!(push.identity_pem().expect("pem").contains("PRIVATE KEY"));
    }

    #[test]
    fn saved_pairs_load_back_and_mismatched_keys_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pair = PemPair {
            cert: dir.path().join("a.pem"),
            key: dir.path().join("a.key"),
        };
        let ca = new_ca("Dev CA", false).expect("ca");
        ca.save(&pair).expect("save");
        let loaded = KeyedCert::load(&pair).expect("load");
        assert_eq!(
            loaded.sha256_hex().expect("hash"),
            ca.sha256_hex().expect("hash")
        );
        let other = new_ca("Other", false).expect("ca");
        files::write_private(&pair.key, other.key_pem().expect("pem").as_bytes()).expect("key");
        let error = KeyedCert::load(&pair).expect_err("mismatch");
        assert!(error.to_string().contains("is not the key of"), "{error}");
    }
}
