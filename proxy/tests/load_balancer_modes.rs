//! Device authentication behind load balancers, with the real processes: in `signature` mode a
//! device with no client certificate enrolls and runs a command cycle by signing every body
//! (`Mdm-Signature`, made here by OpenSSL's CMS implementation, with and without signed
//! attributes); a tampered body or a foreign signer gets 403. In `trusted-header` mode an RFC 9440
//! `Client-Cert` header is accepted only from an allow-listed address.

use base64::Engine as _;
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::pkey::PKey;
use openssl::x509::X509;
use reqwest::StatusCode;
use serde_json::json;
use testkit::messages as msg;
use testkit::stack::ADMIN_TOKEN;
use testkit::{Engine, Issued, Stack, StackOptions, TestCa};

/// The base64 CMS detached signature of `body` by `signer`, as a device sends it.
fn mdm_signature(signer: &Issued, body: &[u8], signed_attributes: bool) -> String {
    let cert = X509::from_pem(signer.cert_pem.as_bytes()).expect("cert");
    let key = PKey::private_key_from_pem(signer.key_pem.as_bytes()).expect("key");
    let mut flags = CMSOptions::DETACHED | CMSOptions::BINARY;
    if !signed_attributes {
        flags |= CMSOptions::NOATTR;
    }
    let cms = CmsContentInfo::sign(Some(&cert), Some(&key), None, Some(body), flags).expect("sign");
    base64::engine::general_purpose::STANDARD.encode(cms.to_der().expect("der"))
}

async fn put(
    stack: &Stack,
    path: &str,
    body: Vec<u8>,
    headers: &[(&str, String)],
) -> (StatusCode, Vec<u8>) {
    // No client certificate: the balancer terminated TLS.
    let mut request = stack
        .device_client(None)
        .put(format!("{}{path}", stack.device_url))
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()));
    let status = response.status();
    (status, response.bytes().await.expect("body").to_vec())
}

async fn signed(
    stack: &Stack,
    signer: &Issued,
    path: &str,
    body: Vec<u8>,
    attributes: bool,
) -> (StatusCode, Vec<u8>) {
    let signature = mdm_signature(signer, &body, attributes);
    put(stack, path, body, &[("Mdm-Signature", signature)]).await
}

macro_rules! on_both_engines {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $scenario() { super::$scenario(testkit::Engine::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $scenario() { super::$scenario(testkit::Engine::Postgres).await })*
        }
    };
}

on_both_engines!(
    signature_mode_enrolls_and_runs_commands,
    trusted_header_mode_trusts_only_the_balancer
);

async fn signature_mode_enrolls_and_runs_commands(engine: Engine) {
    let mut options = StackOptions::new(engine);
    options.device_mode = "signature";
    let Some(stack) = Stack::start(options).await.expect("stack starts") else {
        return;
    };
    let udid = "SIGNING-DEVICE-0001";
    let device = stack.device_ca.issue_client(udid);

    // Check-ins signed without signed attributes (as macOS does) and with them (as iOS does).
    assert_eq!(
        signed(&stack, &device, "/checkin", msg::authenticate(udid), false)
            .await
            .0,
        StatusCode::OK,
        "{}",
        stack.logs()
    );
    assert_eq!(
        signed(
            &stack,
            &device,
            "/checkin",
            msg::token_update(udid, &[9; 32], "m"),
            true
        )
        .await
        .0,
        StatusCode::OK
    );

    // A command cycle through the admin API.
    let body = json!({"devices": [udid], "command": {"request_type": "SecurityInfo"}});
    let response = stack
        .admin_client()
        .post(format!("{}/v1/commands", stack.admin_url))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("enqueue");
    assert_eq!(response.status(), StatusCode::CREATED);
    let (status, command) = signed(&stack, &device, "/mdm", msg::idle(udid), true).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8_lossy(&command).to_string();
    assert!(text.contains("SecurityInfo"), "{text}");
    let start = text.find("<key>CommandUUID</key>").expect("uuid");
    let uuid = text[start..]
        .split("<string>")
        .nth(1)
        .and_then(|t| t.split("</string>").next())
        .expect("uuid")
        .to_string();
    let ack = format!(
        "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>Status</key><string>Acknowledged</string>\
         <key>UDID</key><string>{udid}</string><key>CommandUUID</key><string>{uuid}</string></dict></plist>"
    );
    let (status, next) = signed(&stack, &device, "/mdm", ack.into_bytes(), false).await;
    assert_eq!((status, next.is_empty()), (StatusCode::OK, true));

    // Refused before any backend: tampered body, foreign signer, no signature, garbage.
    let body = msg::token_update(udid, &[9; 32], "m");
    let signature = mdm_signature(&device, &body, true);
    let mut tampered = body.clone();
    let at = tampered.len() - 20;
    tampered[at] ^= 0x20;
    assert_eq!(
        put(
            &stack,
            "/checkin",
            tampered,
            &[("Mdm-Signature", signature)]
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let foreign = TestCa::new("Not Our CA").issue_client(udid);
    assert_eq!(
        signed(
            &stack,
            &foreign,
            "/checkin",
            msg::token_update(udid, &[9; 32], "m"),
            true
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        put(
            &stack,
            "/checkin",
            msg::token_update(udid, &[9; 32], "m"),
            &[]
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        put(
            &stack,
            "/checkin",
            msg::token_update(udid, &[9; 32], "m"),
            &[("Mdm-Signature", "!!garbage!!".into())]
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let huge = "A".repeat(20 * 1024);
    assert_eq!(
        put(
            &stack,
            "/checkin",
            msg::token_update(udid, &[9; 32], "m"),
            &[("Mdm-Signature", huge)]
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // A signer whose CN is another device's UDID is refused by the identity policy.
    let other = stack.device_ca.issue_client("SOMEONE-ELSE");
    assert_eq!(
        signed(
            &stack,
            &other,
            "/checkin",
            msg::token_update(udid, &[9; 32], "m"),
            true
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
}

async fn trusted_header_mode_trusts_only_the_balancer(engine: Engine) {
    let udid = "FORWARDED-DEVICE-0001";
    let header = |cert: &Issued| {
        format!(
            ":{}:",
            base64::engine::general_purpose::STANDARD.encode(&cert.cert_der)
        )
    };

    // The test client is 127.0.0.1, which is not the allow-listed balancer here.
    let mut options = StackOptions::new(engine);
    options.device_mode = "trusted-header";
    options.trusted_proxies = Some("[\"10.20.30.0/24\"]");
    let Some(stack) = Stack::start(options).await.expect("stack starts") else {
        return;
    };
    let cert = stack.device_ca.issue_client(udid);
    let (status, _) = put(
        &stack,
        "/checkin",
        msg::authenticate(udid),
        &[("Client-Cert", header(&cert))],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a forwarded certificate from a non-allow-listed address is never trusted"
    );
    drop(stack);

    let mut options = StackOptions::new(engine);
    options.device_mode = "trusted-header";
    options.trusted_proxies = Some("[\"127.0.0.1/32\"]");
    let Some(stack) = Stack::start(options).await.expect("stack starts") else {
        return;
    };
    let cert = stack.device_ca.issue_client(udid);
    let (status, _) = put(
        &stack,
        "/checkin",
        msg::authenticate(udid),
        &[("Client-Cert", header(&cert))],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", stack.logs());
    let forged = TestCa::new("Forger").issue_client(udid);
    let (status, _) = put(
        &stack,
        "/checkin",
        msg::token_update(udid, &[1; 32], "m"),
        &[("Client-Cert", header(&forged))],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the balancer's header must still chain to the device CA"
    );
    assert_eq!(
        put(
            &stack,
            "/checkin",
            msg::token_update(udid, &[1; 32], "m"),
            &[]
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
}
