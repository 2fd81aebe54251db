//! MDM push certificates for tests: the subject carries the push topic in a UID attribute
//! (OID 0.9.2342.19200300.100.1.1) and a `CN=APSP:<uuid>` like Apple's, plus the other forms an
//! administrator uploads: an RSA key in PKCS#1 and PKCS#8, and `.p12` files (modern and legacy
//! encryption) made with the `openssl` command line tool.

use super::{Issued, TestCa};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use std::io::Write;
use std::process::{Command, Stdio};
use time::{Duration, OffsetDateTime};

/// The push topic of test certificates, the one [`crate::messages`] devices report.
pub const PUSH_TOPIC: &str = crate::messages::TOPIC;

/// The UID attribute type.
const UID: [u64; 7] = [0, 9, 2342, 19200300, 100, 1, 1];

fn push_params(topic: Option<&str>, valid_days: i64) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    if let Some(topic) = topic {
        dn.push(DnType::CustomDnType(UID.to_vec()), topic);
    }
    dn.push(DnType::CommonName, format!("APSP:{}", uuid::Uuid::new_v4()));
    dn.push(DnType::CountryName, "US");
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(valid_days);
    params
}

impl TestCa {
    /// An MDM push certificate for `topic` (ECDSA P-256 key, PKCS#8), valid for a year.
    pub fn issue_push(&self, topic: &str) -> Issued {
        self.issue_push_with(Some(topic), None, 365)
    }

    /// A push certificate with a `topic` (None: no UID at all), for the key in `key_pem`
    /// (PKCS#8 PEM; None: a fresh ECDSA key), valid for `valid_days` from now.
    pub fn issue_push_with(
        &self,
        topic: Option<&str>,
        key_pem: Option<&str>,
        valid_days: i64,
    ) -> Issued {
        let key = match key_pem {
            Some(pem) => KeyPair::from_pem(pem).expect("a PKCS#8 key rcgen can read"),
            None => KeyPair::generate().expect("generate a key"),
        };
        let mut issued = self.sign_for(push_params(topic, valid_days), &key);
        if let Some(pem) = key_pem {
            issued.key_pem = pem.to_owned();
        }
        issued
    }
}

impl TestCa {
    /// A push certificate for `topic` that expires `lifetime` from now (whole seconds): upload
    /// it while it is valid, then watch it expire.
    pub fn issue_push_expiring(&self, topic: &str, lifetime: std::time::Duration) -> Issued {
        let mut params = push_params(Some(topic), 1);
        let seconds = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
        params.not_after = OffsetDateTime::now_utc() + Duration::seconds(seconds);
        let key = KeyPair::generate().expect("generate a key");
        self.sign_for(params, &key)
    }
}

/// Runs `openssl args` with `stdin`; panics with its output when it fails.
fn openssl(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl (is it installed?)");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin)
        .expect("write to openssl");
    let out = child.wait_with_output().expect("wait for openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A fresh RSA-2048 key as (PKCS#8 PEM, PKCS#1 PEM): Apple's push certificates have RSA keys,
/// and older tools export them as PKCS#1 (`BEGIN RSA PRIVATE KEY`).
pub fn rsa_key_pems() -> (String, String) {
    let pkcs8 = openssl(
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ],
        b"",
    );
    let pkcs1 = openssl(&["pkey", "-traditional"], &pkcs8);
    let text = |b: Vec<u8>| String::from_utf8(b).expect("PEM is text");
    (text(pkcs8), text(pkcs1))
}

/// `issued` as a PKCS#12 file protected by `password`: OpenSSL 3's default (AES-256, PBKDF2)
/// or, with `legacy`, RC2-40 for the certificate and 3DES for the key, as older exports are.
pub fn pkcs12(issued: &Issued, password: &str, legacy: bool) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, &issued.cert_pem).expect("write cert");
    std::fs::write(&key, &issued.key_pem).expect("write key");
    let pass = format!("pass:{password}");
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    let mut args = vec![
        "pkcs12", "-export", "-in", &cert, "-inkey", &key, "-passout", &pass, "-name", "push",
    ];
    if legacy {
        args.push("-legacy");
    }
    openssl(&args, b"")
}
