//! TLS session resumption on the device listener: a device that reconnects with the ticket of
//! its last session gets an abbreviated handshake and is still known by the certificate of that
//! session (for the UDID check as for everything else); a ticket from another listener (the
//! enrollment listener, same host name) is ignored and the handshake is a full one. Without a
//! session ID context OpenSSL failed every such handshake outright.
//!
//! The sessions are kept by the edge (`proxy/src/tls/sessions.rs`): a connection the device
//! drops without a TLS close still leaves its session resumable (OpenSSL's own cache forgot
//! it, so nearly every reconnection was a full handshake), and a ticket resumes once. A resumed
//! session whose certificate has expired since (past the clock skew) speaks for no one.
//!
//! Raw rustls connections, so that the kind of handshake can be checked; OpenSSL as the client
//! where a ticket must be offered twice.

use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslSession, SslVerifyMode};
use rustls::HandshakeKind;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use testkit::messages as msg;
use testkit::{ClientCertOptions, Engine, Issued, Stack, StackOptions};
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

/// How a connection ends after its one request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// `Connection: close`, read to the server's end.
    Close,
    /// Kept alive, the answer read by its length, then dropped without a TLS close, as devices
    /// and HTTP/2 clients end theirs.
    Drop,
}

/// One connection: PUT `body` to `path`, ended as `ending` says; answers the handshake kind and
/// the HTTP status line.
async fn exchange_ending(
    tls: &Arc<rustls::ClientConfig>,
    addr: SocketAddr,
    path: &str,
    body: &[u8],
    ending: Ending,
) -> (Option<HandshakeKind>, String) {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let connector = tokio_rustls::TlsConnector::from(Arc::clone(tls));
    let name = ServerName::try_from("127.0.0.1").expect("name");
    let mut stream = connector.connect(name, tcp).await.expect("handshake");
    let kind = stream.get_ref().1.handshake_kind();
    let close = if ending == Ending::Close {
        "Connection: close\r\n"
    } else {
        ""
    };
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-apple-aspen-mdm\r\n\
         Content-Length: {}\r\n{close}\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write");
    let mut answer = Vec::new();
    match ending {
        // Reading to the end also takes in the session tickets sent after the handshake.
        Ending::Close => drop(stream.read_to_end(&mut answer).await),
        Ending::Drop => {
            let mut buffer = [0u8; 4096];
            while !answer_complete(&answer) {
                let read = stream.read(&mut buffer).await.expect("read");
                assert!(read > 0, "connection closed before the answer");
                answer.extend_from_slice(&buffer[..read]);
            }
            // No close_notify, no TCP half-close first.
            drop(stream);
        }
    }
    let text = String::from_utf8_lossy(&answer);
    (kind, text.lines().next().unwrap_or_default().to_owned())
}

async fn exchange(
    tls: &Arc<rustls::ClientConfig>,
    addr: SocketAddr,
    path: &str,
    body: &[u8],
) -> (Option<HandshakeKind>, String) {
    exchange_ending(tls, addr, path, body, Ending::Close).await
}

async fn exchange_and_drop(
    tls: &Arc<rustls::ClientConfig>,
    addr: SocketAddr,
    body: &[u8],
) -> (Option<HandshakeKind>, String) {
    exchange_ending(tls, addr, "/checkin", body, Ending::Drop).await
}

/// Whether `answer` holds a whole HTTP/1.1 answer with a Content-Length.
fn answer_complete(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    body.len() >= length
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

#[tokio::test]
async fn a_session_outlives_a_connection_dropped_without_a_tls_close() {
    let stack = Stack::start(StackOptions::new(Engine::Sqlite))
        .await
        .expect("stack starts")
        .expect("SQLite always runs");
    let device = addr(&stack.device_url);
    let bob = stack.device_ca.issue_client("BOB-UDID");
    let tls = device_tls(&stack, &bob);

    let (kind, status) = exchange_and_drop(&tls, device, &msg::authenticate("BOB-UDID")).await;
    assert_eq!(kind, Some(HandshakeKind::Full));
    assert!(status.contains(" 200 "), "{status}\n{}", stack.logs());
    // Every session after the first resumes, though each connection was dropped.
    for round in 0..3 {
        let (kind, status) = exchange_and_drop(
            &tls,
            device,
            &msg::token_update("BOB-UDID", &[7; 32], "magic"),
        )
        .await;
        assert_eq!(
            kind,
            Some(HandshakeKind::Resumed),
            "reconnection {round}\n{}",
            stack.logs()
        );
        assert!(status.contains(" 200 "), "{status}\n{}", stack.logs());
    }
    let counted = |kind: &'static str| {
        let sample = format!("mdm_proxy_tls_handshakes_total{{kind=\"{kind}\"}}");
        let health = stack.health_addr;
        async move {
            testkit::stack::scrape(health, &sample)
                .await
                .expect("metrics")
        }
    };
    assert_eq!(counted("full").await, 1.0);
    assert_eq!(counted("resumed").await, 3.0);
}

#[tokio::test]
async fn a_ticket_resumes_once() {
    let stack = Stack::start(StackOptions::new(Engine::Sqlite))
        .await
        .expect("stack starts")
        .expect("SQLite always runs");
    let device = addr(&stack.device_url);
    let carol = stack.device_ca.issue_client("CAROL-UDID");
    let pki = tempfile::tempdir().expect("temp dir");
    let ca_file = pki.path().join("ca.pem");
    let cert_file = pki.path().join("carol.pem");
    let key_file = pki.path().join("carol.key");
    std::fs::write(&ca_file, stack.device_ca.cert_pem()).expect("write");
    let cert = openssl::x509::X509::from_der(&carol.cert_der).expect("certificate");
    std::fs::write(&cert_file, cert.to_pem().expect("PEM")).expect("write");
    std::fs::write(&key_file, &carol.key_pem).expect("write");
    let body = msg::authenticate("CAROL-UDID");

    let offered = tokio::task::spawn_blocking(move || {
        // The tickets the server sends, as OpenSSL's client receives them.
        let tickets: Arc<Mutex<Vec<SslSession>>> = Arc::default();
        let mut builder = SslConnector::builder(SslMethod::tls_client()).expect("connector");
        builder.set_ca_file(&ca_file).expect("CA");
        builder
            .set_certificate_file(&cert_file, SslFiletype::PEM)
            .expect("certificate");
        builder
            .set_private_key_file(&key_file, SslFiletype::PEM)
            .expect("key");
        builder.set_verify(SslVerifyMode::PEER);
        builder.set_session_cache_mode(openssl::ssl::SslSessionCacheMode::CLIENT);
        let received = Arc::clone(&tickets);
        builder.set_new_session_callback(move |_, session| {
            received.lock().expect("tickets").push(session);
        });
        let connector = builder.build();
        // Connects, offering `ticket`; answers whether the session was resumed.
        let connect = |ticket: Option<&SslSession>| {
            let tcp = std::net::TcpStream::connect(device).expect("connect");
            let mut config = connector.configure().expect("configure");
            config.set_verify_hostname(false);
            let mut ssl = config.into_ssl("127.0.0.1").expect("ssl");
            if let Some(ticket) = ticket {
                // SAFETY: the session came from a connection of this connector's own context,
                // which is what `set_session` requires.
                #[allow(unsafe_code)]
                unsafe {
                    ssl.set_session(ticket).expect("offer the ticket");
                }
            }
            let mut stream = openssl::ssl::SslStream::new(ssl, tcp).expect("stream");
            stream.connect().expect("handshake");
            let head = format!(
                "PUT /checkin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).expect("write");
            stream.write_all(&body).expect("write");
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
            stream.ssl().session_reused()
        };
        assert!(!connect(None), "the first connection is a full handshake");
        let ticket = tickets
            .lock()
            .expect("tickets")
            .first()
            .and_then(|session| session.to_der().ok())
            .expect("a ticket");
        // A fresh copy each time: OpenSSL's client would not offer a session it used before.
        let offer = || SslSession::from_der(&ticket).expect("session");
        let first = connect(Some(&offer()));
        let again = connect(Some(&offer()));
        (first, again)
    })
    .await
    .expect("client");
    assert_eq!(
        offered,
        (true, false),
        "resumed once, then a full handshake"
    );
}

#[tokio::test]
async fn a_resumed_session_of_an_expired_certificate_speaks_for_no_one() {
    let stack = Stack::start(StackOptions::new(Engine::Sqlite))
        .await
        .expect("stack starts")
        .expect("SQLite always runs");
    let device = addr(&stack.device_url);
    // Expired 296 s ago: within the listener's 300 s of clock skew for a few seconds more.
    let expired = std::time::SystemTime::now() - std::time::Duration::from_secs(296);
    let dave = stack.device_ca.issue_client_with(ClientCertOptions {
        common_name: Some("DAVE-UDID".into()),
        not_after: Some(expired),
        ..ClientCertOptions::default()
    });
    let tls = device_tls(&stack, &dave);
    let (kind, status) = exchange(&tls, device, "/checkin", &msg::authenticate("DAVE-UDID")).await;
    assert_eq!(kind, Some(HandshakeKind::Full));
    assert!(status.contains(" 200 "), "{status}\n{}", stack.logs());

    // Past the skew, the session still resumes, but its certificate speaks for no one.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let (kind, status) = exchange(
        &tls,
        device,
        "/checkin",
        &msg::token_update("DAVE-UDID", &[7; 32], "magic"),
    )
    .await;
    assert_eq!(kind, Some(HandshakeKind::Resumed));
    assert!(status.contains(" 403 "), "{status}\n{}", stack.logs());
}
