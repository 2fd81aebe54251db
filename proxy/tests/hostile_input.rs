//! What a hostile or broken client sends, on every listener of the edge and on admin-svc's API:
//! identifiers of 100 KB are refused with a 4xx (never a 500 from an overflowing gRPC status),
//! and a request refused before its body was read still gets its status over HTTP/2 (not a bare
//! stream reset).

use reqwest::StatusCode;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::net::SocketAddr;
use std::sync::Arc;
use testkit::messages as msg;
use testkit::stack::ADMIN_TOKEN;
use testkit::{Engine, Issued, Stack, StackOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A 100 KB identifier.
fn huge_id() -> String {
    "A".repeat(100 * 1024)
}

async fn stack() -> Stack {
    let mut options = StackOptions::new(Engine::Sqlite);
    options.max_body_bytes = Some(64 * 1024);
    Stack::start(options)
        .await
        .expect("stack starts")
        .expect("SQLite always runs")
}

/// A client that speaks HTTP/2 (ALPN), as Go clients and curl do by default.
fn h2_client(stack: &Stack, identity: Option<&Issued>) -> reqwest::Client {
    let pem = identity.map(Issued::identity_pem);
    testkit::https_client_builder(&stack.device_ca.cert_pem(), pem.as_deref())
        .http2_prior_knowledge()
        .build()
        .expect("client")
}

/// TLS to the stack's listeners, with `identity` as client certificate if given.
fn tls(stack: &Stack, identity: Option<&Issued>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(stack.device_ca.cert_pem().as_bytes()) {
        roots.add(ca.expect("CA PEM")).expect("CA");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
    let config = match identity {
        Some(identity) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from(identity.cert_der.clone())],
                PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).expect("key"),
            )
            .expect("client auth"),
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

/// Sends `head` and `body` as they are (no client library would build a 100 KB URI); answers
/// the status line, or why there was none.
async fn raw(url: &str, tls: Arc<rustls::ClientConfig>, head: &str, body: &[u8]) -> String {
    let addr: SocketAddr = url.trim_start_matches("https://").parse().expect("address");
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("127.0.0.1").expect("name");
    let mut stream = tokio_rustls::TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .expect("handshake");
    stream.write_all(head.as_bytes()).await.expect("write");
    let _ = stream.write_all(body).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    text.lines().next().unwrap_or("(no answer)").to_owned()
}

fn status_of(line: &str) -> Option<u16> {
    line.split_whitespace().nth(1)?.parse().ok()
}

fn assert_refused(line: &str, what: &str, stack: &Stack) {
    let status = status_of(line);
    assert!(
        status.is_some_and(|s| (400..500).contains(&s) && s != 401),
        "{what}: answered {line:?}\n{}",
        stack.logs()
    );
}

#[tokio::test]
async fn a_100_kb_identifier_is_a_4xx_on_every_listener() {
    let stack = stack().await;
    let id = huge_id();

    // Device listener: a check-in naming a 100 KB UDID, from a real device identity.
    let cert = stack.device_ca.issue_client("UDID-1");
    let body = msg::authenticate(&id);
    let head = format!(
        "PUT /checkin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let line = raw(&stack.device_url, tls(&stack, Some(&cert)), &head, &body).await;
    assert_refused(&line, "a check-in with a 100 KB UDID", &stack);

    // Admin API (admin-svc): path parameters of 100 KB, with a valid token.
    for (method, path) in [
        ("GET", format!("/v1/devices/{id}")),
        ("GET", format!("/v1/devices/{id}/commands")),
        ("POST", format!("/v1/commands/{id}/cancel")),
        ("GET", format!("/v1/commands/{id}/deliveries")),
        ("POST", format!("/v1/enrollment-tokens/{id}/revoke")),
        ("GET", format!("/v1/certificates/{id}")),
    ] {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nConnection: close\r\n\r\n"
        );
        let line = raw(&stack.admin_url, tls(&stack, None), &head, b"").await;
        assert_refused(&line, &format!("{method} {}…", &path[..16]), &stack);
    }

    // Enrollment listener, unauthenticated: a 100 KB SCEP operation, parameter and token.
    for target in [
        format!("/scep?operation={id}"),
        format!("/scep?operation=GetCACaps&x={id}"),
        format!("/enroll/profile?token={id}"),
        format!("/{id}"),
    ] {
        let head = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        let line = raw(&stack.enrollment_url, tls(&stack, None), &head, b"").await;
        assert_refused(&line, &format!("GET {}…", &target[..16]), &stack);
    }
    // A malformed header beside a valid token: an error that quoted the request head would log
    // the token.
    let head = format!(
        "GET /v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nBad\u{1}Header: x\r\n\r\n"
    );
    let line = raw(&stack.admin_url, tls(&stack, None), &head, b"").await;
    assert_refused(&line, "a malformed header", &stack);

    let logs = stack.logs();
    assert!(
        !logs.contains(&id[..1000]),
        "a client's identifier was logged whole"
    );
    assert!(
        !logs.contains(ADMIN_TOKEN),
        "the bearer token was logged:\n{logs}"
    );
}

#[tokio::test]
async fn early_refusals_over_http2_carry_their_status() {
    let stack = stack().await;
    let big = vec![b'x'; 1024 * 1024];

    // Over the device listener's body limit: 413.
    let cert = stack.device_ca.issue_client("UDID-1");
    let response = h2_client(&stack, Some(&cert))
        .put(format!("{}/checkin", stack.device_url))
        .body(big.clone())
        .send()
        .await;
    match response {
        Ok(response) => assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE),
        Err(e) => panic!("413 over HTTP/2 arrived as {e:?}\n{}", stack.logs()),
    }

    // No token on the admin API: 401 before the body is read.
    let response = h2_client(&stack, None)
        .post(format!("{}/v1/commands", stack.admin_url))
        .body(big.clone())
        .send()
        .await;
    match response {
        Ok(response) => assert_eq!(response.status(), StatusCode::UNAUTHORIZED),
        Err(e) => panic!("401 over HTTP/2 arrived as {e:?}\n{}", stack.logs()),
    }

    // Enrollment listener, over its body limit.
    let response = h2_client(&stack, None)
        .post(format!(
            "{}/scep?operation=PKIOperation",
            stack.enrollment_url
        ))
        .body(vec![b'x'; 8 * 1024 * 1024])
        .send()
        .await;
    match response {
        Ok(response) => assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE),
        Err(e) => panic!("413 over HTTP/2 arrived as {e:?}\n{}", stack.logs()),
    }
}
