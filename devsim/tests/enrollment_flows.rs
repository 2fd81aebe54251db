//! Simulated devices that get their identity the way real ones do, through the enrollment
//! listener of a real stack (proxy, enroll-svc, command-svc, push-svc as processes), on SQLite
//! and on PostgreSQL: three by OTA (signed by a certificate from the stack's stand-in for
//! Apple's device CA) and three by the direct profile, all at once. Each then checks in
//! (Authenticate, TokenUpdate) with the identity it was given and answers DeviceInformation in
//! a session. The listener keeps the default `cn-equals-udid` policy: OTA certificates carry the
//! UDID, and the server holds direct-profile certificates (random CN) to the binding made at
//! Authenticate instead. An OTA phase 2 signed by a certificate from elsewhere is refused.
//!
//! Run: `cargo build --workspace --bins && cargo test -p devsim --test enrollment_flows`.

use devsim::sim::enroll::Step;
use devsim::sim::{
    enroll, DeviceFacts, EnrollmentFlow, EnrollmentServer, SimDevice, SimError, Transport,
};
use mdm_pki::pki;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use serde_json::{json, Value};
use std::sync::Arc;
use testkit::stack::ADMIN_TOKEN;
use testkit::{Engine, Stack, StackOptions};

/// Devices per flow.
const DEVICES: usize = 3;

async fn admin(stack: &Stack, method: reqwest::Method, path: &str, body: Value) -> Value {
    let response = stack
        .admin_client()
        .request(method, format!("{}{path}", stack.admin_url))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()));
    let status = response.status();
    let bytes = response.bytes().await.expect("body");
    assert!(
        status.is_success(),
        "{path}: {status} {}\n{}",
        String::from_utf8_lossy(&bytes),
        stack.logs()
    );
    serde_json::from_slice(&bytes).expect("JSON")
}

/// A token good for `uses` enrollments.
async fn token(stack: &Stack, uses: usize) -> String {
    let body = json!({"description": "devsim enrollment flows", "max_uses": uses});
    let token = admin(stack, reqwest::Method::POST, "/v1/enrollment-tokens", body).await;
    token["secret"].as_str().expect("secret").to_owned()
}

fn keyed(pem_cert: &str, pem_key: &str) -> (X509, PKey<Private>) {
    (
        X509::from_pem(pem_cert.as_bytes()).expect("certificate"),
        PKey::private_key_from_pem(pem_key.as_bytes()).expect("key"),
    )
}

/// A device enrolled by `flow`, checked in, in a session that answers DeviceInformation.
async fn enroll_one(
    stack: &Stack,
    server: &EnrollmentServer,
    flow: EnrollmentFlow,
    index: usize,
) -> SimDevice {
    let udid = format!("SIM-{index:04}-{}", uuid::Uuid::new_v4().simple()).to_uppercase();
    let facts = DeviceFacts::iphone(&udid, index);
    let enrolled = enroll(server, &flow, &facts)
        .await
        .unwrap_or_else(|e| panic!("{udid} enrolls: {e}\n{}", stack.logs()));
    let cert = X509::from_pem(enrolled.cert_pem.as_bytes()).expect("certificate");
    let cn = pki::common_name(cert.subject_name()).unwrap_or_default();
    match flow {
        EnrollmentFlow::Ota { .. } => assert_eq!(cn, udid, "an OTA identity names the UDID"),
        EnrollmentFlow::DirectProfile { .. } => assert_ne!(cn, udid, "made before the UDID"),
    }
    // What a device needs: reqwest reads the pair (in SimDevice), OpenSSL the key.
    PKey::private_key_from_pem(enrolled.key_pem.as_bytes()).expect("an OpenSSL key");
    assert_eq!(enrolled.topic, testkit::pki::PUSH_TOPIC);
    let config = enrolled
        .sim_config(&stack.device_ca.cert_pem())
        .expect("a config from the MDM payload");
    assert_eq!(config.server, stack.device_url);
    assert_eq!(config.transport, Transport::Mtls, "SignMessage is false");
    let mut device = SimDevice::new(
        index,
        &udid,
        &enrolled.cert_pem,
        &enrolled.key_pem,
        Arc::new(config),
    )
    .expect("device");
    device
        .enroll()
        .await
        .unwrap_or_else(|e| panic!("{udid} checks in: {e}\n{}", stack.logs()));
    device
}

async fn both_flows(engine: Engine) {
    let Some(stack) = Stack::start(StackOptions::new(engine))
        .await
        .expect("stack starts")
    else {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
        return;
    };
    let server = EnrollmentServer {
        enrollment_url: stack.enrollment_url.clone(),
        server_ca_pem: stack.device_ca.cert_pem(),
    };
    // Every OTA enrollment and the refused one use the token once, as does every direct one.
    let secret = token(&stack, 2 * DEVICES + 1).await;

    let flows = (0..2 * DEVICES).map(|index| {
        let flow = if index < DEVICES {
            let apple = stack
                .apple_device_ca
                .issue_client(&format!("Apple iPhone device {index}"));
            EnrollmentFlow::Ota {
                token: secret.clone(),
                apple_device: keyed(&apple.cert_pem, &apple.key_pem),
            }
        } else {
            EnrollmentFlow::DirectProfile {
                token: secret.clone(),
            }
        };
        enroll_one(&stack, &server, flow, index + 1)
    });
    let mut devices = futures::future::join_all(flows).await;

    // Sessions with the enrolled identities: each answers the command queued to it.
    let udids: Vec<String> = devices.iter().map(|d| d.udid().to_owned()).collect();
    let queued = admin(
        &stack,
        reqwest::Method::POST,
        "/v1/commands",
        json!({"devices": udids, "command": {"request_type": "DeviceInformation", "queries": ["SerialNumber"]}}),
    )
    .await;
    let uuid = queued["command_uuid"].as_str().expect("uuid");
    for device in &mut devices {
        device.reconnect().expect("new connection");
        let handled = device
            .session()
            .await
            .unwrap_or_else(|e| panic!("{}: session: {e}\n{}", device.udid(), stack.logs()));
        assert_eq!(handled.len(), 1, "{}: {handled:?}", device.udid());
        assert_eq!(
            (handled[0].command_uuid.as_str(), handled[0].status),
            (uuid, "Acknowledged")
        );
    }

    // Phase 2 signed by a certificate that does not chain to the device CA bundle.
    let stranger_key = pki::rsa_key(2048).expect("key");
    let stranger =
        pki::self_signed_signer(&stranger_key, &pki::name("not Apple", None).expect("name"))
            .expect("certificate");
    let flow = EnrollmentFlow::Ota {
        token: secret.clone(),
        apple_device: (stranger, stranger_key),
    };
    let refused = enroll(&server, &flow, &DeviceFacts::iphone("SIM-STRANGER", 99)).await;
    match refused {
        Err(SimError::Enrollment(e)) => {
            assert_eq!(
                (e.step(), e.refused_status()),
                (Step::OtaDeviceAttributes, Some(403)),
                "{e}"
            );
            assert!(e.to_string().starts_with("OTA phase 2"), "{e}");
        }
        other => panic!("a stranger's phase 2 must be refused: {other:?}"),
    }
}

#[tokio::test]
async fn devices_enroll_by_ota_and_direct_profile_sqlite() {
    both_flows(Engine::Sqlite).await;
}

#[tokio::test]
async fn devices_enroll_by_ota_and_direct_profile_postgres() {
    both_flows(Engine::Postgres).await;
}
