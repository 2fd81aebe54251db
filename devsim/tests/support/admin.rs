//! The admin API and enrollment as the whole-stack tests drive them: requests with the stack's
//! admin token, enrollment tokens, and devices enrolled through the direct profile.

use devsim::sim::{enroll, DeviceFacts, EnrollmentFlow, EnrollmentServer, SimDevice};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use testkit::stack::ADMIN_TOKEN;
use testkit::Stack;

/// An admin API request: its status and JSON body (`null` when it has none).
pub async fn call(stack: &Stack, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = stack
        .admin_client()
        .request(method, format!("{}{path}", stack.admin_url))
        .bearer_auth(ADMIN_TOKEN);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()));
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// An admin API request that must succeed: its JSON body.
pub async fn admin(stack: &Stack, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, answer) = call(stack, method, path, body).await;
    assert!(
        (200..300).contains(&status),
        "{path}: {status} {answer}\n{}",
        stack.logs()
    );
    answer
}

/// A new single-use enrollment token: (its ID, its secret).
pub async fn token(stack: &Stack, description: &str) -> (String, String) {
    let body = json!({"description": description, "max_uses": 1});
    let made = admin(stack, Method::POST, "/v1/enrollment-tokens", Some(body)).await;
    (
        made["token"]["id"].as_str().expect("id").to_owned(),
        made["secret"].as_str().expect("secret").to_owned(),
    )
}

/// A device enrolled through the direct profile with `secret` (SCEP, then Authenticate and
/// TokenUpdate), waiting in Setup Assistant if `waiting`.
pub async fn enrolled(stack: &Stack, secret: &str, udid: &str, waiting: bool) -> SimDevice {
    let server = EnrollmentServer {
        enrollment_url: stack.enrollment_url.clone(),
        server_ca_pem: stack.device_ca.cert_pem(),
    };
    let flow = EnrollmentFlow::DirectProfile {
        token: secret.to_owned(),
    };
    let identity = enroll(&server, &flow, &DeviceFacts::iphone(udid, 1))
        .await
        .unwrap_or_else(|e| panic!("{udid} enrolls: {e}\n{}", stack.logs()));
    let config = identity
        .sim_config(&stack.device_ca.cert_pem())
        .expect("a config from the MDM payload");
    let mut device = SimDevice::new(
        1,
        udid,
        &identity.cert_pem,
        &identity.key_pem,
        Arc::new(config),
    )
    .expect("device");
    if waiting {
        device = device.awaiting_configuration();
    }
    device
        .enroll()
        .await
        .unwrap_or_else(|e| panic!("{udid} checks in: {e}\n{}", stack.logs()));
    device
}
