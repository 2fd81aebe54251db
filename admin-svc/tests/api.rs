//! admin-svc as its own process, in front of the real services: who may call what, how requests
//! that do not match the OpenAPI document are refused, admin tokens, a command's life, the audit
//! log, and the operations endpoints.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{start, Admin};
use testkit::{Engine, TestDevice};

/// Every operation of the document as (method, path with its parameters filled).
fn operations() -> Vec<(Method, String)> {
    let document = serde_json::to_value(admin_svc::openapi()).expect("json");
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        if path == "/v1/openapi.json" {
            continue;
        }
        let filled = path
            .replace("{id}", "UNKNOWN-1")
            .replace("{uuid}", "0190e1a2-0000-7000-8000-000000000000")
            .replace("{serial}", "ab");
        for method in item.as_object().expect("item").keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            operations.push((method, filled.clone()));
        }
    }
    operations
}

#[tokio::test]
async fn every_operation_needs_a_token_and_a_read_only_one_changes_nothing() {
    let Some(stack) = start(Engine::Sqlite).await else {
        return;
    };
    let anonymous = Admin::new(&stack, None);
    let wrong = Admin::new(&stack, Some("not-a-token"));
    let auditor = Admin::auditor(&stack);
    let operations = operations();
    assert!(operations.len() >= 24, "{operations:?}");
    for (method, path) in operations {
        for caller in [&anonymous, &wrong] {
            let answer = caller.send(method.clone(), &path, &json!({})).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path}: {answer:?}"
            );
            assert_eq!(answer.problem_code(), "unauthorized");
            assert_eq!(answer.headers["www-authenticate"], "Bearer");
        }
        // The API's own credentials and the webhooks (which receive every event) are not the
        // read scope's.
        let admin_only = path.starts_with("/v1/admin-tokens") || path.starts_with("/v1/webhooks");
        if method == Method::GET && !admin_only {
            // A read is allowed (it may find nothing).
            let answer = auditor.get(&path).await;
            assert!(
                ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&answer.status),
                "{method} {path}: {answer:?}"
            );
            continue;
        }
        // The scope is checked before the body's shape: neither body tells the caller anything.
        for body in [&b"{}"[..], b"not json"] {
            let answer = auditor
                .raw(
                    method.clone(),
                    &path,
                    Some("application/json"),
                    body.to_vec(),
                )
                .await;
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "{method} {path}: {answer:?}"
            );
            assert_eq!(answer.problem_code(), "forbidden");
        }
    }
}

#[tokio::test]
async fn the_served_document_is_the_generated_one() {
    let Some(stack) = start(Engine::Sqlite).await else {
        return;
    };
    let served = Admin::new(&stack, None).get("/v1/openapi.json").await;
    let generated = serde_json::to_value(admin_svc::openapi()).expect("json");
    assert_eq!(served.expect(StatusCode::OK), generated);
}

#[tokio::test]
async fn requests_are_held_to_the_document() {
    let Some(stack) = start(Engine::Sqlite).await else {
        return;
    };
    let ops = Admin::ops(&stack);
    let command = json!({"request_type": "ProfileList"});
    // Bodies that do not match the schema: 400, before any service is asked.
    for body in [
        json!({"devices": ["A"], "command": command, "extra": 1}),
        json!({"devices": [], "command": command}),
        json!({"devices": ["A", "A"], "command": command}),
        json!({"devices": [""], "command": command}),
        json!({"devices": ["A\u{1}"], "command": command}),
        json!({"devices": ["A"], "command": command, "priority": 5000}),
        json!({"devices": ["A"], "command": command,
               "expiry": {"expires_at": "2030-01-01T00:00:00Z", "ttl_seconds": 5}}),
        json!({"devices": ["A"], "command": command, "expiry": {"expires_at": "soon"}}),
        json!({"devices": ["A"]}),
        json!([]),
    ] {
        let answer = ops.post("/v1/commands", &body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}: {answer:?}");
        assert_eq!(answer.problem_code(), "malformed_request");
    }
    let not_json = ops
        .raw(
            Method::POST,
            "/v1/commands",
            Some("application/json"),
            b"{".to_vec(),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    let text = ops
        .raw(
            Method::POST,
            "/v1/commands",
            Some("text/plain"),
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(text.problem_code(), "unsupported_media_type");
    // Parameters: types, ranges, enums, repeats, unknown names, patterns, lengths.
    for path in [
        "/v1/devices?limit=0",
        "/v1/devices?limit=1001",
        "/v1/devices?limit=ten",
        "/v1/devices?limit=1&limit=2",
        "/v1/devices?cursor=",
        "/v1/devices?status=lost",
        "/v1/devices?last_seen_after=yesterday",
        "/v1/devices?colour=red",
        "/v1/enrollment-tokens?include_inactive=yes",
        "/v1/certificates/xyz",
        &format!("/v1/commands/{}", "a".repeat(65)),
    ] {
        let answer = ops.get(path).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}: {answer:?}");
        assert_eq!(answer.problem_code(), "malformed_request");
    }
    // Matching the document, but not usable: 422.
    let device = TestDevice::enroll(&stack, "UDID-HELD")
        .await
        .expect("enrolls");
    for body in [
        json!({"devices": [device.udid], "command": command, "expiry": {"expires_at": "2001-01-01T00:00:00Z"}}),
        json!({"devices": ["NOT-ENROLLED"], "command": command}),
        json!({"devices": [device.udid], "command": {"request_type": "DeviceLock"}}),
        json!({"devices": [device.udid], "command": {"request_type": "NoSuchCommand"}}),
        json!({"devices": [device.udid, "UDID-OTHER"], "command": {"request_type": "ClearPasscode"},
               "reason": "owner verified", "allow_unknown": true}),
    ] {
        let answer = ops.post("/v1/commands", &body).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {answer:?}"
        );
        assert_eq!(answer.problem_code(), "invalid_request");
    }
    let foreign = ops.get("/v1/commands?limit=1").await.expect(StatusCode::OK);
    assert_eq!(
        foreign["items"],
        json!([]),
        "nothing was queued by the refusals"
    );
    let cursor_of_another_list = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("commands\nX")
    };
    let answer = ops
        .get(&format!("/v1/devices?cursor={cursor_of_another_list}"))
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{answer:?}"
    );
    // Routes and methods.
    let answer = ops.get("/v1/nothing-here").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.problem_code(), "not_found");
    let answer = ops.send(Method::DELETE, "/v1/devices", &json!({})).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.problem_code(), "method_not_allowed");
    assert!(answer.headers.contains_key("allow"), "{answer:?}");
    // A body over the limit is refused without being read whole.
    let huge = vec![b' '; 17 * 1024 * 1024];
    let answer = ops
        .over_http2(&stack)
        .raw(Method::POST, "/v1/commands", Some("application/json"), huge)
        .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{answer:?}");
}

#[tokio::test]
async fn admin_tokens_are_shown_once_used_and_revoked() {
    let Some(stack) = start(Engine::Sqlite).await else {
        return;
    };
    let ops = Admin::ops(&stack);
    let made = ops
        .post(
            "/v1/admin-tokens",
            &json!({"name": "ci", "scopes": ["read", "admin"]}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{made:?}");
    let id = made.body["token"]["id"].as_str().expect("id").to_owned();
    assert_eq!(made.headers["location"], format!("/v1/admin-tokens/{id}"));
    let secret = made.body["secret"]
        .as_str()
        .expect("the secret, once")
        .to_owned();
    assert!(secret.starts_with("mdm_"));
    let ci = Admin::new(&stack, Some(&secret));
    ci.get("/v1/devices").await.expect(StatusCode::OK);
    // Reading the token never shows the secret again, and notes its use.
    let read = ops
        .get(&format!("/v1/admin-tokens/{id}"))
        .await
        .expect(StatusCode::OK);
    assert!(read.get("secret").is_none(), "{read}");
    assert!(read["last_used_at"].is_string(), "{read}");
    assert_eq!(read["created_by"], "ops");
    // It may not grant what it does not hold, nor take a configured name, nor a live one.
    let answer = ci
        .post(
            "/v1/admin-tokens",
            &json!({"name": "x", "scopes": ["destructive"]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{answer:?}");
    let answer = ci
        .post(
            "/v1/admin-tokens",
            &json!({"name": "auditor", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{answer:?}");
    let answer = ops
        .post(
            "/v1/admin-tokens",
            &json!({"name": "ci", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{answer:?}");
    // The configuration's tokens come first and cannot be revoked here.
    let list = ops.all("/v1/admin-tokens", 1).await;
    let ids: Vec<&str> = list.iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(ids, ["config:ops", "config:auditor", id.as_str()]);
    let answer = ops
        .post("/v1/admin-tokens/config:ops/revoke", &json!({}))
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{answer:?}");
    // Revoked: refused from the next request on; its name is free again.
    let revoked = ops
        .post(&format!("/v1/admin-tokens/{id}/revoke"), &json!({}))
        .await;
    assert!(revoked.expect(StatusCode::OK)["revoked_at"].is_string());
    assert_eq!(ci.get("/v1/devices").await.status, StatusCode::UNAUTHORIZED);
    ops.post(
        "/v1/admin-tokens",
        &json!({"name": "ci", "scopes": ["read"]}),
    )
    .await
    .expect(StatusCode::CREATED);
    // An expired token is refused too.
    let soon = ops
        .post(
            "/v1/admin-tokens",
            &json!({"name": "brief", "scopes": ["read"], "expiry": {"ttl_seconds": 1}}),
        )
        .await
        .expect(StatusCode::CREATED);
    let brief = Admin::new(&stack, soon["secret"].as_str());
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        brief.get("/v1/devices").await.status,
        StatusCode::UNAUTHORIZED
    );
    // Every change is in the audit log, with who did it.
    let audit = ops.all("/v1/audit?action=admin_token.revoked", 100).await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["actor"], "ops");
    assert_eq!(audit[0]["source"], "admin-svc");
    assert!(audit[0]["detail"].as_str().is_some_and(|d| d.contains(&id)));
    assert_eq!(
        ops.all("/v1/audit?action=admin_token.created", 100)
            .await
            .len(),
        3
    );
}

#[tokio::test]
async fn a_cancelled_command_stays_readable_and_everything_is_audited() {
    let Some(stack) = start(Engine::Sqlite).await else {
        return;
    };
    let ops = Admin::ops(&stack);
    let device = TestDevice::enroll(&stack, "UDID-CANCEL")
        .await
        .expect("enrolls");
    let listed = ops
        .post(
            "/v1/commands",
            &json!({"devices": [device.udid], "command": {"request_type": "ProfileList"}, "push": false}),
        )
        .await;
    assert_eq!(listed.status, StatusCode::CREATED, "{listed:?}");
    let profile_list = listed.body["command_uuid"]
        .as_str()
        .expect("uuid")
        .to_owned();
    assert_eq!(
        listed.headers["location"],
        format!("/v1/commands/{profile_list}")
    );
    let lock = ops
        .post(
            "/v1/commands",
            &json!({"devices": [device.udid], "command": {"request_type": "DeviceLock"},
                    "reason": "reported stolen", "push": false}),
        )
        .await
        .expect(StatusCode::CREATED);
    let lock = lock["command_uuid"].as_str().expect("uuid").to_owned();
    let cancelled = ops
        .post(&format!("/v1/commands/{lock}/cancel"), &json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(cancelled["cancelled_by"], "ops");
    assert!(cancelled["cancelled_at"].is_string());
    assert_eq!(cancelled["status_counts"], json!({"cancelled": 1}));
    // Still readable, listed, and its delivery says what happened.
    let read = ops
        .get(&format!("/v1/commands/{lock}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(read["cancelled_at"], cancelled["cancelled_at"]);
    let locks = ops.all("/v1/commands?request_type=DeviceLock", 10).await;
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0]["command_uuid"], lock);
    let deliveries = ops
        .all(
            &format!("/v1/commands/{lock}/deliveries?status=cancelled"),
            10,
        )
        .await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0]["enrollment_id"], device.udid);
    // The device receives only what was not cancelled.
    let first = device.idle(&stack).await.expect("idle").expect("a command");
    assert_eq!(first.command_uuid, profile_list);
    let next = device
        .acknowledge(&stack, &profile_list, "<key>ProfileList</key><array/>")
        .await
        .expect("report");
    assert_eq!(next, None, "the cancelled DeviceLock must not be delivered");
    let history = ops
        .all(&format!("/v1/devices/{}/commands", device.udid), 1)
        .await;
    let statuses: Vec<(&str, &str)> = history
        .iter()
        .map(|d| {
            (
                d["request_type"].as_str().unwrap_or(""),
                d["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [("DeviceLock", "cancelled"), ("ProfileList", "acknowledged")]
    );
    // The audit log says who queued the destructive command and why, and who cancelled it.
    let audit = ops
        .all(&format!("/v1/audit?enrollment_id={}", device.udid), 1)
        .await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(
        (
            audit[0]["action"].as_str(),
            audit[0]["actor"].as_str(),
            audit[0]["detail"].as_str()
        ),
        (Some("command.queued"), Some("ops"), Some("reported stolen"))
    );
    let cancels = ops.all("/v1/audit?action=command.cancelled", 10).await;
    assert_eq!(cancels.len(), 1, "{cancels:?}");
    assert_eq!(cancels[0]["command_uuid"], lock);
    assert_eq!(cancels[0]["source"], "command-svc");
}

#[tokio::test]
async fn health_readiness_peers_and_metrics_are_served() {
    let Some(stack) = start(Engine::Sqlite).await else {
        return;
    };
    Admin::ops(&stack)
        .get("/v1/devices")
        .await
        .expect(StatusCode::OK);
    let base = format!("http://{}", stack.admin_metrics_addr);
    for path in ["/healthz", "/readyz", "/peers"] {
        let answer = reqwest::get(format!("{base}{path}"))
            .await
            .expect("answers");
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
    }
    let peers = reqwest::get(format!("{base}/peers"))
        .await
        .expect("peers")
        .text()
        .await
        .expect("text");
    for service in ["enroll-svc", "command-svc", "push-svc"] {
        assert!(peers.contains(&format!("{service}: up")), "{peers}");
    }
    let requests = testkit::stack::scrape(
        stack.admin_metrics_addr,
        r#"mdm_admin_requests_total{method="GET",route="/v1/devices",status="200"}"#,
    )
    .await
    .expect("scrape");
    assert!(requests >= 1.0, "{requests}");
}
