//! The client builds with and without an identity, and talks to a real TLS server
//! (`openssl s_server` requiring a client certificate) made from [`TestCa`] certificates.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::pki::{PkiFiles, TestCa};
use crate::process::{free_port, ChildProcess};

#[test]
fn builds_without_an_identity() {
    let ca = TestCa::new("Testkit CA");
    let _client = https_client(&ca.cert_pem(), None);
}

#[test]
fn builds_with_an_rcgen_identity() {
    let ca = TestCa::new("Testkit CA");
    let device = ca.issue_client("device-1");
    let _client = https_client(&ca.cert_pem(), Some(&device.identity_pem()));
    let _h2 = https_client_builder(&ca.cert_pem(), Some(&device.identity_pem()))
        .build()
        .expect("build an HTTP/2-capable client");
}

#[test]
#[should_panic(expected = "client identity")]
fn a_key_without_certificate_is_rejected() {
    let ca = TestCa::new("Testkit CA");
    let device = ca.issue_client("device-1");
    https_client(&ca.cert_pem(), Some(&device.key_pem));
}

/// `openssl s_server -www` on a free loopback port, requiring a client certificate from `ca`.
async fn s_server(ca: &TestCa, files: &PkiFiles) -> anyhow::Result<(ChildProcess, u16)> {
    let server = ca.issue_server(&["localhost", "127.0.0.1"]);
    let (cert, key) = files.write_issued("server", &server);
    let ca_path = files.write("ca.crt", &ca.cert_pem());
    let port = free_port();
    let args: Vec<String> = [
        "s_server",
        "-accept",
        &format!("127.0.0.1:{port}"),
        "-cert",
        &cert.display().to_string(),
        "-key",
        &key.display().to_string(),
        "-CAfile",
        &ca_path.display().to_string(),
        "-Verify",
        "1",
        "-www",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let child = ChildProcess::spawn("s_server", Path::new("openssl"), &args, &[]).await?;
    child
        .wait_for_line("ACCEPT", Duration::from_secs(10))
        .await?;
    Ok((child, port))
}

#[tokio::test]
async fn round_trip_with_a_client_certificate() -> anyhow::Result<()> {
    let ca = TestCa::new("Testkit CA");
    let files = PkiFiles::new();
    let (server, port) = s_server(&ca, &files).await?;
    let device = ca.issue_client("device-1");

    let client = https_client(&ca.cert_pem(), Some(&device.identity_pem()));
    for host in ["127.0.0.1", "localhost"] {
        let response = client
            .get(format!("https://{host}:{port}/"))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}\n{}", server.logs()))?;
        assert!(response.status().is_success(), "{}", response.status());
        let body = response.text().await?;
        assert!(
            body.contains("device-1"),
            "client cert not seen by the server: {body}"
        );
    }

    // Without a client certificate the server refuses.
    let anonymous = https_client(&ca.cert_pem(), None);
    let result = anonymous
        .get(format!("https://127.0.0.1:{port}/"))
        .send()
        .await;
    assert!(
        result.is_err(),
        "s_server -Verify 1 served a client without certificate"
    );

    // A client that trusts another CA refuses the server (no built-in roots either).
    let other = TestCa::new("Other CA");
    let stranger = https_client(&other.cert_pem(), Some(&device.identity_pem()));
    let err = stranger
        .get(format!("https://127.0.0.1:{port}/"))
        .send()
        .await
        .expect_err("server certificate is from an untrusted CA");
    assert!(format!("{err:?}").contains("UnknownIssuer"), "{err:?}");
    Ok(())
}
