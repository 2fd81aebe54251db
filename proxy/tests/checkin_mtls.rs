//! The device check-in path end to end over mutual TLS: the proxy and enroll-svc run as
//! separate processes on loopback with certificates made for the test, on SQLite and on a fresh
//! PostgreSQL database. Each scenario is one function run once per engine.

use mdm_proto::v1::enrollment_client::EnrollmentClient;
use mdm_proto::v1::{EnrollmentInfo, EnrollmentStatus, GetEnrollmentRequest};
use reqwest::StatusCode;
use testkit::messages as msg;
use testkit::{ClientCertOptions, Engine, Issued, Stack, StackOptions, TestCa};

async fn stack(engine: Engine) -> Option<Stack> {
    stack_with(StackOptions::new(engine)).await
}

async fn stack_with(options: StackOptions) -> Option<Stack> {
    let engine = options.engine;
    let stack = Stack::start(options).await.expect("stack starts");
    if stack.is_none() {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off) for {engine:?}");
    }
    stack
}

/// PUTs `body` to `path` as the device holding `cert`.
async fn put(
    stack: &Stack,
    cert: Option<&Issued>,
    path: &str,
    body: Vec<u8>,
) -> reqwest::Result<reqwest::Response> {
    stack
        .device_client(cert)
        .put(format!("{}{path}", stack.device_url))
        .body(body)
        .send()
        .await
}

async fn status(stack: &Stack, cert: &Issued, body: Vec<u8>) -> StatusCode {
    match put(stack, Some(cert), "/checkin", body).await {
        Ok(response) => response.status(),
        Err(e) => panic!("request failed: {e}\n{}", stack.logs()),
    }
}

async fn enrollment(stack: &Stack, id: &str) -> Option<EnrollmentInfo> {
    let mut client = EnrollmentClient::connect(format!("http://{}", stack.enroll_addr))
        .await
        .expect("connect to enroll-svc");
    match client
        .get_enrollment(GetEnrollmentRequest {
            enrollment_id: id.into(),
        })
        .await
    {
        Ok(response) => Some(response.into_inner()),
        Err(status) if status.code() == tonic::Code::NotFound => None,
        Err(status) => panic!("GetEnrollment failed: {status}"),
    }
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
    enrollment_lifecycle,
    certificates_from_elsewhere_are_refused_at_the_handshake,
    cn_must_match_the_udid,
    one_certificate_cannot_serve_two_devices,
    bad_messages_are_refused_and_nothing_is_stored,
    unmanaged_devices_get_401,
    backend_down_is_503_never_401,
    user_channel_and_bootstrap_token,
);

async fn enrollment_lifecycle(engine: Engine) {
    let Some(stack) = stack(engine).await else {
        return;
    };
    let udid = "00008030-000A1B2C3D4E5F60";
    let cert = stack.device_ca.issue_client(udid);

    assert_eq!(
        status(&stack, &cert, msg::authenticate(udid)).await,
        StatusCode::OK
    );
    let e = enrollment(&stack, udid).await.expect("created");
    assert_eq!(e.status(), EnrollmentStatus::Authenticated);
    assert_eq!(e.cert_sha256, cert.sha256_hex());
    assert_eq!(e.serial_number, "C39TEST0001");
    assert_eq!(e.product_name, "iPhone10,4");
    assert_eq!(e.os_version, "11.3.1");
    assert_eq!(e.topic, msg::TOPIC);

    let token = [0xAB; 32];
    assert_eq!(
        status(&stack, &cert, msg::token_update(udid, &token, "magic-1")).await,
        StatusCode::OK
    );
    let e = enrollment(&stack, udid).await.expect("exists");
    assert_eq!(e.status(), EnrollmentStatus::Enrolled);
    assert_eq!(e.push_token, "ab".repeat(32));
    assert!(e.has_push_magic && e.has_unlock_token);

    // A check-in at the ServerURL is handled too (a profile may omit CheckInURL).
    let response = put(
        &stack,
        Some(&cert),
        "/mdm",
        msg::token_update(udid, &token, "magic-2"),
    )
    .await
    .expect("request");
    assert_eq!(response.status(), StatusCode::OK);

    // A repeated Authenticate starts the enrollment afresh.
    assert_eq!(
        status(&stack, &cert, msg::authenticate(udid)).await,
        StatusCode::OK
    );
    let e = enrollment(&stack, udid).await.expect("exists");
    assert_eq!(e.status(), EnrollmentStatus::Authenticated);
    assert!(e.push_token.is_empty() && !e.has_unlock_token);
    assert_eq!(
        status(&stack, &cert, msg::token_update(udid, &token, "magic-3")).await,
        StatusCode::OK
    );

    assert_eq!(
        status(&stack, &cert, msg::check_out(udid)).await,
        StatusCode::OK
    );
    let e = enrollment(&stack, udid).await.expect("kept");
    assert_eq!(e.status(), EnrollmentStatus::CheckedOut);
    assert!(e.checked_out_at_ms > 0);
}

async fn certificates_from_elsewhere_are_refused_at_the_handshake(engine: Engine) {
    let Some(stack) = stack(engine).await else {
        return;
    };
    let udid = "HANDSHAKE-UDID";
    let foreign = TestCa::new("Some Other CA").issue_client(udid);
    let expired = stack.device_ca.issue_client_with(ClientCertOptions {
        common_name: Some(udid.into()),
        not_before: Some(std::time::SystemTime::now() - std::time::Duration::from_secs(3 * 86400)),
        not_after: Some(std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86400)),
        ..Default::default()
    });
    for (what, cert) in [
        ("another CA", Some(&foreign)),
        ("no certificate", None),
        ("expired", Some(&expired)),
    ] {
        let result = put(&stack, cert, "/checkin", msg::authenticate(udid)).await;
        // TLS 1.3 reports a refused client certificate at the first read: assert that no
        // response came back, not which error the client saw.
        assert!(
            result.is_err(),
            "{what}: got {:?}",
            result.map(|r| r.status())
        );
    }
    assert!(enrollment(&stack, udid).await.is_none());
}

async fn cn_must_match_the_udid(engine: Engine) {
    let Some(stack) = stack(engine).await else {
        return;
    };
    let cert = stack.device_ca.issue_client("SOME-OTHER-UDID");
    assert_eq!(
        status(&stack, &cert, msg::authenticate("VICTIM-UDID")).await,
        StatusCode::FORBIDDEN
    );
    assert!(enrollment(&stack, "VICTIM-UDID").await.is_none());
}

async fn one_certificate_cannot_serve_two_devices(engine: Engine) {
    // Under cn-equals-udid the CN check refuses it at the edge.
    let Some(stack) = stack(engine).await else {
        return;
    };
    let first = stack.device_ca.issue_client("DEVICE-ONE");
    assert_eq!(
        status(&stack, &first, msg::authenticate("DEVICE-ONE")).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&stack, &first, msg::authenticate("DEVICE-TWO")).await,
        StatusCode::FORBIDDEN
    );
    drop(stack);

    // Under bound-certificate the binding made at Authenticate refuses it in enroll-svc.
    let mut options = StackOptions::new(engine);
    options.identity_policy = "bound-certificate";
    let Some(stack) = stack_with(options).await else {
        return;
    };
    let shared = stack.device_ca.issue_client("migrated-device");
    assert_eq!(
        status(&stack, &shared, msg::authenticate("DEVICE-ONE")).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&stack, &shared, msg::authenticate("DEVICE-TWO")).await,
        StatusCode::FORBIDDEN
    );
    assert!(enrollment(&stack, "DEVICE-TWO").await.is_none());
    // Another certificate cannot act for an enrolled device either.
    let other = stack.device_ca.issue_client("another");
    let token = [1; 32];
    assert_eq!(
        status(&stack, &other, msg::token_update("DEVICE-ONE", &token, "m")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(
            &stack,
            &shared,
            msg::token_update("DEVICE-ONE", &token, "m")
        )
        .await,
        StatusCode::OK
    );
}

async fn bad_messages_are_refused_and_nothing_is_stored(engine: Engine) {
    let mut options = StackOptions::new(engine);
    options.max_body_bytes = Some(64 * 1024);
    let Some(stack) = stack_with(options).await else {
        return;
    };
    let udid = "BAD-INPUT-UDID";
    let cert = stack.device_ca.issue_client(udid);
    let valid = msg::authenticate(udid);

    let truncated = valid[..valid.len() / 2].to_vec();
    assert_eq!(
        status(&stack, &cert, truncated).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(&stack, &cert, b"this is not a plist".to_vec()).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(&stack, &cert, Vec::new()).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(&stack, &cert, msg::unknown_message_type(udid)).await,
        StatusCode::BAD_REQUEST
    );
    // A command report does not belong on the CheckInURL.
    assert_eq!(
        status(&stack, &cert, msg::idle(udid)).await,
        StatusCode::BAD_REQUEST
    );

    let mut oversized = msg::authenticate(udid);
    let padding = format!("<!-- {} -->", "x".repeat(100 * 1024));
    oversized.splice(0..0, Vec::new());
    oversized.extend_from_slice(padding.as_bytes());
    assert_eq!(
        status(&stack, &cert, oversized).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );

    assert!(enrollment(&stack, udid).await.is_none(), "nothing stored");
    // The server is still fine afterwards.
    assert_eq!(status(&stack, &cert, valid).await, StatusCode::OK);
}

async fn unmanaged_devices_get_401(engine: Engine) {
    let Some(stack) = stack(engine).await else {
        return;
    };
    let token = [2; 32];
    let stranger = stack.device_ca.issue_client("NEVER-SEEN");
    assert_eq!(
        status(
            &stack,
            &stranger,
            msg::token_update("NEVER-SEEN", &token, "m")
        )
        .await,
        StatusCode::UNAUTHORIZED
    );

    let udid = "LEAVING-DEVICE";
    let cert = stack.device_ca.issue_client(udid);
    assert_eq!(
        status(&stack, &cert, msg::authenticate(udid)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&stack, &cert, msg::token_update(udid, &token, "m")).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&stack, &cert, msg::check_out(udid)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&stack, &cert, msg::token_update(udid, &token, "m")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        enrollment(&stack, udid).await.expect("kept").status(),
        EnrollmentStatus::CheckedOut,
        "a refused TokenUpdate changes nothing"
    );
}

async fn backend_down_is_503_never_401(engine: Engine) {
    let Some(mut stack) = stack(engine).await else {
        return;
    };
    let udid = "OUTAGE-DEVICE";
    let cert = stack.device_ca.issue_client(udid);
    assert_eq!(
        status(&stack, &cert, msg::authenticate(udid)).await,
        StatusCode::OK
    );
    stack.stop_enroll();
    let token = [3; 32];
    for body in [
        msg::token_update(udid, &token, "m"),
        msg::authenticate(udid),
        msg::check_out(udid),
    ] {
        assert_eq!(
            status(&stack, &cert, body).await,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}

async fn user_channel_and_bootstrap_token(engine: Engine) {
    let Some(stack) = stack(engine).await else {
        return;
    };
    let udid = "MAC-UDID-0001";
    let cert = stack.device_ca.issue_client(udid);
    let token = [4; 32];
    assert_eq!(
        status(&stack, &cert, msg::authenticate(udid)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&stack, &cert, msg::token_update(udid, &token, "m")).await,
        StatusCode::OK
    );

    // UserAuthenticate is declined with 410, not 401.
    assert_eq!(
        status(&stack, &cert, msg::user_authenticate(udid, "USER-1")).await,
        StatusCode::GONE
    );

    // A user channel is enrolled through the device's certificate.
    assert_eq!(
        status(
            &stack,
            &cert,
            msg::user_token_update(udid, "USER-1", &[5; 32], "um")
        )
        .await,
        StatusCode::OK
    );
    let user = enrollment(&stack, &format!("{udid}:USER-1"))
        .await
        .expect("user channel");
    assert_eq!(user.status(), EnrollmentStatus::Enrolled);
    assert_eq!(user.device_id, udid);
    assert_eq!(user.user_short_name, "cjoe");

    // The BootstrapToken comes back to the same device, and only to it.
    assert_eq!(
        status(
            &stack,
            &cert,
            msg::set_bootstrap_token(udid, b"bootstrap-secret")
        )
        .await,
        StatusCode::OK
    );
    let response = put(
        &stack,
        Some(&cert),
        "/checkin",
        msg::get_bootstrap_token(udid),
    )
    .await
    .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.bytes().await.expect("body");
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("<key>BootstrapToken</key>"), "{text}");
    assert!(
        text.contains("Ym9vdHN0cmFwLXNlY3JldA=="),
        "base64 of the token: {text}"
    );
    let other = stack.device_ca.issue_client("OTHER-MAC");
    assert_eq!(
        status(&stack, &other, msg::get_bootstrap_token("OTHER-MAC")).await,
        StatusCode::UNAUTHORIZED
    );

    // CheckOut of the device takes its user channel with it.
    assert_eq!(
        status(&stack, &cert, msg::check_out(udid)).await,
        StatusCode::OK
    );
    let user = enrollment(&stack, &format!("{udid}:USER-1"))
        .await
        .expect("kept");
    assert_eq!(user.status(), EnrollmentStatus::CheckedOut);
}
