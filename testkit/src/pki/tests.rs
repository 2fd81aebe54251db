//! Certificates are parsed back and verified with the `openssl` command line tool.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use super::*;

/// Run `openssl args` with `stdin`; returns (success, stdout + stderr).
fn openssl(args: &[&str], stdin: &str) -> (bool, String) {
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
        .expect("openssl stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("write PEM to openssl");
    let out = child.wait_with_output().expect("wait for openssl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn text_of(pem: &str) -> String {
    let (ok, text) = openssl(&["x509", "-noout", "-text"], pem);
    assert!(ok, "openssl could not parse the certificate: {text}");
    text
}

/// `openssl verify` of `leaf` against `ca` for `purpose` (sslclient/sslserver).
fn verify(ca: &TestCa, leaf: &Issued, purpose: &str) -> (bool, String) {
    let files = PkiFiles::new();
    let ca_path = files.write("ca.crt", &ca.cert_pem());
    let ca_path = ca_path.to_str().expect("temp path is UTF-8");
    openssl(
        &["verify", "-CAfile", ca_path, "-purpose", purpose],
        &leaf.cert_pem,
    )
}

#[test]
fn ca_is_a_self_signed_ca() {
    let ca = TestCa::new("Testkit CA");
    let text = text_of(&ca.cert_pem());
    assert!(text.contains("Issuer: CN = Testkit CA"), "{text}");
    assert!(text.contains("Subject: CN = Testkit CA"), "{text}");
    assert!(text.contains("CA:TRUE"), "{text}");
    assert!(text.contains("Certificate Sign"), "{text}");
    assert!(text.contains("prime256v1"), "{text}");
}

#[test]
fn client_cert_has_cn_client_auth_and_the_ca_as_issuer() {
    let ca = TestCa::new("Testkit CA");
    let client = ca.issue_client("device-1");
    let text = text_of(&client.cert_pem);
    assert!(text.contains("Subject: CN = device-1"), "{text}");
    assert!(text.contains("Issuer: CN = Testkit CA"), "{text}");
    assert!(text.contains("TLS Web Client Authentication"), "{text}");
    assert!(!text.contains("TLS Web Server Authentication"), "{text}");
    assert!(
        text.contains("Digital Signature, Key Encipherment"),
        "{text}"
    );
    assert!(text.contains("CA:FALSE"), "{text}");
    let (ok, out) = verify(&ca, &client, "sslclient");
    assert!(ok, "openssl verify failed: {out}");
    // Another CA did not issue it.
    let (ok, _) = verify(&TestCa::new("Other CA"), &client, "sslclient");
    assert!(!ok, "a certificate verified against the wrong CA");
}

#[test]
fn client_key_matches_the_certificate() {
    let client = TestCa::new("Testkit CA").issue_client("device-1");
    assert!(client.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let (ok, cert_pub) = openssl(&["x509", "-noout", "-pubkey"], &client.cert_pem);
    assert!(ok, "{cert_pub}");
    let (ok, key_pub) = openssl(&["pkey", "-pubout"], &client.key_pem);
    assert!(ok, "{key_pub}");
    assert_eq!(cert_pub, key_pub);
}

#[test]
fn server_cert_has_dns_and_ip_sans() {
    let ca = TestCa::new("Testkit CA");
    let server = ca.issue_server(&["localhost", "127.0.0.1", "::1"]);
    let text = text_of(&server.cert_pem);
    assert!(
        text.contains("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"),
        "{text}"
    );
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    let (ok, out) = verify(&ca, &server, "sslserver");
    assert!(ok, "openssl verify failed: {out}");
}

#[test]
fn expired_client_cert_fails_verification() {
    let ca = TestCa::new("Testkit CA");
    let now = SystemTime::now();
    let expired = ca.issue_client_with(ClientCertOptions {
        common_name: Some("old-device".to_owned()),
        not_before: Some(now - Duration::from_secs(2 * 86_400)),
        not_after: Some(now - Duration::from_secs(86_400)),
        extended_key_usages: None,
    });
    let (ok, out) = verify(&ca, &expired, "sslclient");
    assert!(!ok, "an expired certificate verified: {out}");
    assert!(out.contains("certificate has expired"), "{out}");
}

#[test]
fn client_cert_with_empty_subject_and_server_auth_only() {
    let ca = TestCa::new("Testkit CA");
    let cert = ca.issue_client_with(ClientCertOptions {
        extended_key_usages: Some(vec![ExtendedKeyUsagePurpose::ServerAuth]),
        ..ClientCertOptions::default()
    });
    let (ok, subject) = openssl(&["x509", "-noout", "-subject"], &cert.cert_pem);
    assert!(ok, "{subject}");
    assert_eq!(subject.trim(), "subject=");
    let text = text_of(&cert.cert_pem);
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    assert!(!text.contains("TLS Web Client Authentication"), "{text}");
    let (ok, out) = verify(&ca, &cert, "sslclient");
    assert!(
        !ok,
        "a serverAuth-only certificate passed as a client: {out}"
    );
}

#[test]
fn sha256_hex_matches_openssl_fingerprint() {
    let client = TestCa::new("Testkit CA").issue_client("device-1");
    let (ok, out) = openssl(
        &["x509", "-noout", "-fingerprint", "-sha256"],
        &client.cert_pem,
    );
    assert!(ok, "{out}");
    let openssl_hex = out
        .trim()
        .rsplit('=')
        .next()
        .expect("fingerprint line has a '='")
        .replace(':', "")
        .to_lowercase();
    assert_eq!(client.sha256_hex(), openssl_hex);
    assert_eq!(client.sha256_hex().len(), 64);
}

#[test]
fn identity_pem_is_cert_then_key() {
    let client = TestCa::new("Testkit CA").issue_client("device-1");
    let identity = client.identity_pem();
    assert!(identity.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(identity.contains("-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----"));
}

#[test]
fn pki_files_are_written_and_removed() {
    let ca = TestCa::new("Testkit CA");
    let server = ca.issue_server(&["localhost"]);
    let files = PkiFiles::new();
    let (cert, key) = files.write_issued("server", &server);
    assert_eq!(
        std::fs::read_to_string(&cert).expect("read cert file"),
        server.cert_pem
    );
    assert_eq!(
        std::fs::read_to_string(&key).expect("read key file"),
        server.key_pem
    );
    assert_eq!(cert.parent(), Some(files.path()));
    let dir = files.path().to_path_buf();
    drop(files);
    assert!(!dir.exists(), "temp dir {} survived", dir.display());
}
