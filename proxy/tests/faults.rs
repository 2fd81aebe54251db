//! Faults and mistakes an operator meets, with the processes on loopback: a service that is down
//! does not make the others unready (it is reported at `/peers` and costs its callers a 503); a
//! TokenUpdate whose Topic is not the push certificate's is refused at enrollment rather than
//! failing every push later; clients that break off TLS handshakes are counted, not logged as
//! errors.

use reqwest::StatusCode;
use std::net::SocketAddr;
use testkit::messages as msg;
use testkit::stack::scrape;
use testkit::{Engine, Stack, StackOptions};

async fn stack() -> Stack {
    Stack::start(StackOptions::new(Engine::Sqlite))
        .await
        .expect("stack starts")
        .expect("SQLite always runs")
}

async fn get(addr: SocketAddr, path: &str) -> (StatusCode, String) {
    let response = reqwest::get(format!("http://{addr}{path}"))
        .await
        .expect("operations listener");
    let status = response.status();
    (status, response.text().await.expect("text"))
}

async fn put(stack: &Stack, cert: &testkit::Issued, path: &str, body: Vec<u8>) -> StatusCode {
    stack
        .device_client(Some(cert))
        .put(format!("{}{path}", stack.device_url))
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()))
        .status()
}

#[tokio::test]
async fn a_peer_down_is_reported_and_keeps_every_other_process_ready() {
    let mut stack = stack().await;
    let cert = stack.device_ca.issue_client("UDID-1");
    assert_eq!(
        put(&stack, &cert, "/checkin", msg::authenticate("UDID-1")).await,
        StatusCode::OK
    );
    stack.command.kill();

    // Ready: each serves its own requests.
    assert_eq!(get(stack.health_addr, "/readyz").await.0, StatusCode::OK);
    assert_eq!(
        get(stack.enroll_metrics_addr, "/readyz").await.0,
        StatusCode::OK
    );
    // The edge says who is down, and so does its gauge.
    let (status, peers) = get(stack.health_addr, "/peers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(peers.contains("command-svc: down"), "{peers}");
    assert!(peers.contains("enroll-svc: up"), "{peers}");
    assert_eq!(
        scrape(stack.health_addr, r#"mdm_peer_up{peer="command-svc"}"#)
            .await
            .expect("scrape"),
        0.0
    );
    // A request that needs it gets 503; one that does not is served.
    assert_eq!(
        put(&stack, &cert, "/mdm", msg::idle("UDID-1")).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        put(
            &stack,
            &cert,
            "/checkin",
            msg::token_update("UDID-1", &[7; 32], "magic")
        )
        .await,
        StatusCode::OK,
        "check-ins do not need command-svc: {}",
        stack.logs()
    );
}

#[tokio::test]
async fn a_token_update_for_another_topic_is_refused_at_enrollment() {
    let stack = stack().await;
    let cert = stack.device_ca.issue_client("UDID-2");
    assert_eq!(
        put(&stack, &cert, "/checkin", msg::authenticate("UDID-2")).await,
        StatusCode::OK
    );
    let other = "com.apple.mgmt.External.ffffffff-0000-0000-0000-000000000000";
    let body = String::from_utf8(msg::token_update("UDID-2", &[7; 32], "magic"))
        .expect("UTF-8")
        .replace(msg::TOPIC, other);
    assert_eq!(
        put(&stack, &cert, "/checkin", body.into_bytes()).await,
        StatusCode::BAD_REQUEST,
        "{}",
        stack.logs()
    );
    // The log line is written by another process, which may not have flushed it yet.
    testkit::eventually(
        std::time::Duration::from_secs(5),
        "the refusal's log line",
        || async {
            stack
                .logs()
                .contains("not the push certificate's")
                .then_some(())
        },
    )
    .await
    .unwrap_or_else(|e| panic!("the refusal says why: {e}\n{}", stack.logs()));
    // With the certificate's topic the same device enrolls.
    assert_eq!(
        put(
            &stack,
            &cert,
            "/checkin",
            msg::token_update("UDID-2", &[7; 32], "magic")
        )
        .await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn failed_handshakes_are_counted_not_logged_as_errors() {
    let stack = stack().await;
    // No client certificate on an mTLS listener: every handshake fails.
    let anonymous = testkit::https_client(&stack.device_ca.cert_pem(), None);
    for _ in 0..3 {
        let refused = anonymous
            .put(format!("{}/checkin", stack.device_url))
            .body(msg::authenticate("UDID-3"))
            .send()
            .await;
        assert!(
            refused
                .map(|r| r.status() != StatusCode::OK)
                .unwrap_or(true),
            "no answer without a certificate"
        );
    }
    testkit::eventually(
        std::time::Duration::from_secs(10),
        "the failed handshakes to be counted",
        || async {
            let counted = scrape(
                stack.health_addr,
                r#"mdm_proxy_client_faults_total{kind="tls_handshake"}"#,
            )
            .await
            .unwrap_or(0.0);
            (counted >= 3.0).then_some(())
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", stack.proxy.logs()));
    let errors: Vec<String> = stack
        .proxy
        .logs()
        .lines()
        .filter(|line| line.contains("ERROR") && line.contains("andshake"))
        .map(str::to_owned)
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}
