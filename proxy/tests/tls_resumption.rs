//! TLS session resumption on the device listener: a device that reconnects with the ticket of
//! its last session gets an abbreviated handshake and is still known by the certificate of that
//! session (for the UDID check as for everything else); a ticket from another listener (the
//! enrollment listener, same host name) is ignored and the handshake is a full one. Without a
//! session ID context OpenSSL failed every such handshake outright.
//!
//! Raw rustls connections, so that the kind of handshake can be checked.

use rustls::HandshakeKind;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::net::SocketAddr;
use std::sync::Arc;
use testkit::messages as msg;
use testkit::{Engine, Issued, Stack, StackOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A device's TLS client: trusts the stack's CA, presents `identity`, keeps session tickets.
fn device_tls(stack: &Stack, identity: &Issued) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(stack.device_ca.cert_pem().as_bytes()) {
        roots.add(ca.expect("CA PEM")).expect("CA");
    }
    let chain = vec![CertificateDer::from(identity.cert_der.clone())];
    let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).expect("key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .expect("client auth");
    Arc::new(config)
}

/// One connection: PUT `body` to `path`; answers the handshake kind and the HTTP status line.
async fn exchange(
    tls: &Arc<rustls::ClientConfig>,
    addr: SocketAddr,
    path: &str,
    body: &[u8],
) -> (Option<HandshakeKind>, String) {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let connector = tokio_rustls::TlsConnector::from(Arc::clone(tls));
    let name = ServerName::try_from("127.0.0.1").expect("name");
    let mut stream = connector.connect(name, tcp).await.expect("handshake");
    let kind = stream.get_ref().1.handshake_kind();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-apple-aspen-mdm\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write");
    let mut answer = Vec::new();
    // Reading to the end also takes in the session tickets sent after the handshake.
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    (kind, text.lines().next().unwrap_or_default().to_owned())
}

fn addr(url: &str) -> SocketAddr {
    url.trim_start_matches("https://").parse().expect("address")
}

#[tokio::test]
async fn a_resumed_session_keeps_its_device_and_a_foreign_ticket_is_ignored() {
    let stack = Stack::start(StackOptions::new(Engine::Sqlite))
        .await
        .expect("stack starts")
        .expect("SQLite always runs");
    let device = addr(&stack.device_url);
    let alice = stack.device_ca.issue_client("ALICE-UDID");
    let tls = device_tls(&stack, &alice);

    // A ticket from the enrollment listener (same host name, other context): a full handshake.
    let (kind, _) = exchange(&tls, addr(&stack.enrollment_url), "/mdm", b"").await;
    assert_eq!(kind, Some(HandshakeKind::Full));
    let (kind, status) = exchange(&tls, device, "/checkin", &msg::authenticate("ALICE-UDID")).await;
    assert_eq!(kind, Some(HandshakeKind::Full), "{}", stack.logs());
    assert!(status.contains(" 200 "), "{status}\n{}", stack.logs());

    // Back with the device listener's own ticket: resumed, and still Alice.
    let (kind, status) = exchange(
        &tls,
        device,
        "/checkin",
        &msg::token_update("ALICE-UDID", &[7; 32], "magic"),
    )
    .await;
    assert_eq!(kind, Some(HandshakeKind::Resumed), "{}", stack.logs());
    assert!(status.contains(" 200 "), "{status}\n{}", stack.logs());

    // A resumed session speaks for its certificate only.
    let (kind, status) =
        exchange(&tls, device, "/checkin", &msg::authenticate("MALLORY-UDID")).await;
    assert_eq!(kind, Some(HandshakeKind::Resumed));
    assert!(status.contains(" 403 "), "{status}\n{}", stack.logs());
}
