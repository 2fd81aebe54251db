//! Interop with a SCEP client nobody here wrote: Debian's `scep` package ships micromdm/scep
//! 2.1's `scepclient`. It enrolls with the direct profile's challenge against our SCEP server
//! through the proxy, as a separate process (`.ci/run` installs the package).

use super::support::*;
use mdm_pki::pki;
use openssl::x509::X509;
use std::path::Path;
use testkit::Engine;

const SCEPCLIENT: &str = "/usr/bin/scepclient";

#[tokio::test]
async fn scepclient_enrolls() {
    if std::env::var("MDM_TEST_SCEPCLIENT").as_deref() == Ok("off") {
        eprintln!("scepclient interop skipped on purpose (MDM_TEST_SCEPCLIENT=off)");
        return;
    }
    // Like PostgreSQL: missing is a failure, not a silent skip (.ci/run installs `scep`).
    assert!(
        Path::new(SCEPCLIENT).exists(),
        "{SCEPCLIENT} is missing: `apt-get install scep`, or MDM_TEST_SCEPCLIENT=off to skip"
    );
    let Some(stack) = stack(Engine::Sqlite).await else {
        return;
    };
    let token = multi_use_token(&stack).await;
    let challenge = direct_challenge(&stack, &token).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("client.key");
    let cert = dir.path().join("client.pem");
    let output = tokio::process::Command::new(SCEPCLIENT)
        .arg("-server-url")
        .arg(format!("{}/scep", stack.enrollment_url))
        .arg("-challenge")
        .arg(&challenge)
        .arg("-private-key")
        .arg(&key)
        .arg("-certificate")
        .arg(&cert)
        .args(["-cn", "scepclient-device", "-keySize", "2048", "-debug"])
        // Go reads extra roots from SSL_CERT_FILE: trust the test CA that issued the server's
        // TLS certificate, and nothing from the host.
        .env("SSL_CERT_FILE", stack.pki.path().join("device-ca.pem"))
        .env_remove("SSL_CERT_DIR")
        .kill_on_drop(true)
        .output()
        .await
        .expect("scepclient runs");
    let logs = format!(
        "scepclient stdout:\n{}\nstderr:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        stack.logs()
    );
    assert!(output.status.success(), "{logs}");
    let issued = X509::from_pem(&std::fs::read(&cert).expect("scepclient wrote the certificate"))
        .expect("a PEM certificate");
    let ca = ca_cert(&stack).await;
    assert!(
        issued
            .verify(&ca.public_key().expect("key"))
            .expect("verify"),
        "issued by our CA"
    );
    // The direct profile's challenge decides the CN (a random device identifier), not the client.
    let cn = pki::common_name(issued.subject_name()).unwrap_or_default();
    assert_ne!(cn, "scepclient-device");
    assert_eq!(cn.len(), 36, "a UUID: {cn}");
    eprintln!("{logs}");
}
