//! No process writes a credential to its log, whatever a client sends. Every listener of every
//! process (the proxy's device, enrollment and health listeners; admin-svc's API and metrics;
//! each service's gRPC and metrics) gets malformed requests carrying a known bearer token, over
//! TLS where the listener speaks it and in clear where it does not; the whole stack runs at
//! `debug`, dependencies included. Then no log line may hold the token, the push key, a
//! device's UnlockToken or an enrollment token's secret.

mod support;

use base64::Engine as _;
use reqwest::StatusCode;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use support::Admin;
use testkit::{Engine, Issued, Stack, StackOptions, TestDevice};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// The bearer token every malformed request carries.
const TOKEN: &str = "leak-canary-7f3c9a2e1b";

/// Requests a client may send, each holding the token somewhere a parser reaches.
fn malformed() -> Vec<Vec<u8>> {
    let auth = format!("Authorization: Bearer {TOKEN}\r\n");
    vec![
        // A header line without a colon after the token.
        format!("GET /v1/devices HTTP/1.1\r\nHost: a\r\n{auth}Not A Header\r\n\r\n").into_bytes(),
        // A control character in a header value.
        format!("GET /v1/devices HTTP/1.1\r\nHost: a\r\n{auth}X-Bad: \u{1}\r\n\r\n").into_bytes(),
        // A NUL in the request line.
        format!("G\0T / HTTP/1.1\r\n{auth}\r\n").into_bytes(),
        // Two different lengths.
        format!("POST /mdm HTTP/1.1\r\nHost: a\r\n{auth}Content-Length: 5\r\nContent-Length: 7\r\n\r\nabc")
            .into_bytes(),
        // A head far over any limit.
        format!("GET / HTTP/1.1\r\nHost: a\r\n{auth}X-Pad: {}\r\n\r\n", "p".repeat(200_000)).into_bytes(),
        // The token in the target and in an invalid version.
        format!("GET /?token={TOKEN} HTTP/9.9\r\n{auth}\r\n").into_bytes(),
        // A well-formed request with a token nobody issued.
        format!("GET /v1/devices HTTP/1.1\r\nHost: a\r\n{auth}Connection: close\r\n\r\n").into_bytes(),
        // An HTTP/2 preface followed by a frame of garbage that holds the token.
        [
            &b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"[..],
            &[0, 0, 40, 1, 5, 0, 0, 0, 1],
            format!("{auth}{auth}").as_bytes(),
        ]
        .concat(),
    ]
}

/// Writes `bytes`, then reads whatever comes back for a moment; errors are the point.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, bytes: &[u8]) {
    let _ = stream.write_all(bytes).await;
    let _ = stream.flush().await;
    let mut answer = vec![0u8; 16 * 1024];
    let _ = tokio::time::timeout(Duration::from_millis(500), stream.read(&mut answer)).await;
}

/// Sends `bytes` in clear.
async fn plain(addr: SocketAddr, bytes: &[u8]) {
    if let Ok(stream) = TcpStream::connect(addr).await {
        exchange(stream, bytes).await;
    }
}

/// Sends `bytes` inside TLS, trusting `ca_pem` and presenting `identity` if given.
async fn tls(addr: SocketAddr, ca_pem: &str, identity: Option<&Issued>, bytes: &[u8]) {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()).flatten() {
        roots.add(cert).expect("a CA");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
    let config = match identity {
        Some(issued) => {
            let pem = issued.identity_pem();
            let chain = CertificateDer::pem_slice_iter(pem.as_bytes())
                .flatten()
                .collect();
            let key = PrivateKeyDer::from_pem_slice(pem.as_bytes()).expect("a key");
            builder.with_client_auth_cert(chain, key).expect("identity")
        }
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let Ok(tcp) = TcpStream::connect(addr).await else {
        return;
    };
    let name = ServerName::try_from("127.0.0.1").expect("name");
    if let Ok(stream) = connector.connect(name, tcp).await {
        exchange(stream, bytes).await;
    }
}

fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("https://")
        .parse()
        .expect("an address")
}

/// What must never be logged, with a name for the failure message.
fn secrets(stack: &Stack, enrollment_secret: &str) -> Vec<(&'static str, String)> {
    let mut secrets = vec![
        ("the bearer token", TOKEN.to_owned()),
        (
            "the enrollment token's secret",
            enrollment_secret.to_owned(),
        ),
        ("the UnlockToken", "unlock-token-blob".to_owned()),
        (
            "the UnlockToken in base64",
            base64::engine::general_purpose::STANDARD.encode("unlock-token-blob"),
        ),
    ];
    // Every full line of the push key's PEM body.
    let pem = stack.apns.push_pem();
    let key = pem
        .split("-----BEGIN")
        .find(|block| block.contains("PRIVATE KEY-----"))
        .expect("the push PEM holds its key");
    for line in key
        .lines()
        .filter(|l| l.len() >= 40 && !l.contains("-----"))
    {
        secrets.push(("a line of the push key", line.to_owned()));
    }
    secrets
}

#[tokio::test]
async fn no_process_logs_a_credential() {
    let mut options = StackOptions::new(Engine::Sqlite);
    options.log_filter = Some("debug");
    let stack = Stack::start(options)
        .await
        .expect("starts")
        .expect("sqlite");
    let ops = Admin::ops(&stack);
    let device = TestDevice::enroll(&stack, "UDID-LOGS")
        .await
        .expect("enrolls");
    let token = ops
        .post("/v1/enrollment-tokens", &json!({"description": "logs"}))
        .await
        .expect(StatusCode::CREATED);
    let enrollment_secret = token["secret"].as_str().expect("secret").to_owned();
    // The enrollment token used as devices and tools use it, and misused.
    let client = stack.admin_client();
    for path in ["/enroll/profile", "/enroll", "/enroll/nothing"] {
        let _ = client
            .get(format!(
                "{}{path}?token={enrollment_secret}",
                stack.enrollment_url
            ))
            .send()
            .await;
    }

    let ca = stack.device_ca.cert_pem();
    let tls_listeners = [
        (
            "proxy device",
            addr_of(&stack.device_url),
            Some(&device.cert),
        ),
        ("proxy enrollment", addr_of(&stack.enrollment_url), None),
        ("admin-svc API", addr_of(&stack.admin_url), None),
    ];
    let plain_listeners = [
        ("proxy health", stack.health_addr),
        ("admin-svc metrics", stack.admin_metrics_addr),
        ("enroll-svc gRPC", stack.enroll_addr),
        ("enroll-svc metrics", stack.enroll_metrics_addr),
        ("command-svc gRPC", stack.command_addr),
        ("command-svc metrics", stack.command_metrics_addr),
        ("push-svc gRPC", stack.push_addr),
        ("push-svc metrics", stack.push_metrics_addr),
    ];
    for request in malformed() {
        for (_, addr, identity) in &tls_listeners {
            tls(*addr, &ca, *identity, &request).await;
            // The same bytes where a TLS handshake is expected.
            plain(*addr, &request).await;
        }
        for (_, addr) in &plain_listeners {
            plain(*addr, &request).await;
        }
    }
    // Let the last lines reach the logs.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let logs = stack.logs();
    // The test would pass vacuously if nothing were logged: the processes did see the requests.
    assert!(logs.lines().count() > 200, "too little was logged:\n{logs}");
    assert!(
        stack.admin.logs().contains("status=401"),
        "admin-svc's access log did not record the refused token"
    );
    for (what, secret) in secrets(&stack, &enrollment_secret) {
        let leaks: Vec<&str> = logs.lines().filter(|line| line.contains(&secret)).collect();
        assert!(
            leaks.is_empty(),
            "{what} is in the logs:\n{}",
            leaks.join("\n")
        );
    }
}
