//! The profiles the enrollment listener serves: signed so that `openssl cms -verify` accepts
//! them (chained to the root they ship), with payloads that reference each other;
//! `/MDMServiceConfig` and the trust profile; tokens that are single-use and revocable.

use super::support::*;
use mdm_pki::scep::ContentCipher;
use plist::Value;
use reqwest::StatusCode;
use serde_json::json;
use std::process::Command;
use testkit::messages as msg;
use testkit::pki::PUSH_TOPIC;
use testkit::stack::ADMIN_TOKEN;
use testkit::Engine;

/// `openssl cms -verify` on a DER profile; answers the verified content.
fn openssl_verify(dir: &std::path::Path, der: &[u8], extra: &[&str]) -> Vec<u8> {
    let input = dir.join("profile.der");
    let output = dir.join("profile.plist");
    std::fs::write(&input, der).expect("write");
    let status = Command::new("openssl")
        .args(["cms", "-verify", "-inform", "DER", "-in"])
        .arg(&input)
        .arg("-out")
        .arg(&output)
        .args(extra)
        .status()
        .expect("the openssl CLI runs");
    assert!(
        status.success(),
        "openssl cms -verify {extra:?} refused the profile"
    );
    std::fs::read(&output).expect("verified content")
}

#[tokio::test]
async fn the_direct_profile_verifies_with_openssl_and_its_payloads_fit_together() {
    let Some(stack) = stack(Engine::Sqlite).await else {
        return;
    };
    let token = create_token(&stack, json!({"description": "a Mac"})).await;
    let secret = token["secret"].as_str().expect("secret");
    assert_eq!(token["token"]["max_uses"], 1, "single use by default");
    assert_eq!(token["token"]["uses"], 0, "{token}");
    assert!(token["profile_url"]
        .as_str()
        .expect("url")
        .ends_with(&format!("/enroll/profile?token={secret}")));

    let response = get(&stack, &format!("/enroll/profile?token={secret}")).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", stack.logs());
    assert_eq!(
        response.headers()["content-type"],
        "application/x-apple-aspen-config"
    );
    let der = response.bytes().await.expect("body");
    let dir = tempfile::tempdir().expect("tempdir");
    // Signature only, then the whole chain up to the server's root (the one the profile ships).
    let content = openssl_verify(dir.path(), &der, &["-noverify"]);
    let root = stack.pki.path().join("device-ca.pem");
    let root = root.to_str().expect("path");
    assert_eq!(
        openssl_verify(dir.path(), &der, &["-CAfile", root, "-purpose", "any"]),
        content
    );
    let smime = Command::new("openssl")
        .args(["smime", "-verify", "-noverify", "-inform", "DER", "-in"])
        .arg(dir.path().join("profile.der"))
        .stdout(std::process::Stdio::null())
        .status()
        .expect("openssl smime");
    assert!(smime.success(), "openssl smime -verify");

    let profile = mdm_pki::profile::read_dictionary(&content).expect("plist");
    assert_eq!(string(&profile, "PayloadType"), "Configuration");
    assert_eq!(
        profile.get("PayloadRemovalDisallowed"),
        Some(&Value::Boolean(false)),
        "removable"
    );
    let payloads = payloads(&profile);
    let kinds: Vec<&str> = payloads.iter().map(|p| string(p, "PayloadType")).collect();
    assert_eq!(
        kinds,
        [
            "com.apple.security.root",
            "com.apple.security.scep",
            "com.apple.mdm"
        ],
        "certificates first"
    );
    let root_payload = payload(&payloads, "com.apple.security.root");
    assert_eq!(
        root_payload["PayloadContent"].as_data(),
        Some(stack.device_ca.cert_der().as_slice()),
        "the private root of the server's TLS certificate"
    );
    let scep = payload(&payloads, "com.apple.security.scep");
    let mdm = payload(&payloads, "com.apple.mdm");
    assert_eq!(mdm["IdentityCertificateUUID"], scep["PayloadUUID"]);
    let scep_content = scep["PayloadContent"].as_dictionary().expect("content");
    assert_eq!(
        string(scep_content, "URL"),
        format!("{}/scep", stack.enrollment_url)
    );
    assert_eq!(scep_content["Keysize"].as_unsigned_integer(), Some(2048));
    assert_eq!(string(scep_content, "Key Type"), "RSA");
    assert!(!string(scep_content, "Challenge").is_empty());
    assert_eq!(string(mdm, "Topic"), PUSH_TOPIC);
    assert!(string(mdm, "ServerURL").ends_with("/mdm"));
    assert!(string(mdm, "CheckInURL").ends_with("/checkin"));
    assert_eq!(mdm["AccessRights"].as_unsigned_integer(), Some(8191));
    assert_eq!(mdm["CheckOutWhenRemoved"], Value::Boolean(true));
    assert_eq!(mdm["SignMessage"], Value::Boolean(false));
    assert!(mdm["ServerCapabilities"]
        .as_array()
        .is_some_and(|c| !c.is_empty()));

    // The token was single-use; missing, unknown and used tokens are refused, never with 401.
    let used = get(&stack, &format!("/enroll/profile?token={secret}"))
        .await
        .status();
    assert_eq!(used, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&stack, "/enroll/profile?token=nope").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&stack, "/enroll/profile").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&stack, "/enroll").await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn service_config_trust_profile_and_token_administration() {
    let Some(stack) = stack(Engine::Sqlite).await else {
        return;
    };
    let response = get(&stack, "/MDMServiceConfig").await;
    assert_eq!(response.status(), StatusCode::OK);
    let config = json_of(response).await;
    assert_eq!(
        config["dep_enrollment_url"],
        format!("{}/enroll", stack.enrollment_url)
    );
    assert_eq!(
        config["dep_anchor_certs_url"],
        format!("{}/anchor-certs", stack.enrollment_url)
    );
    assert_eq!(
        config["trust_profile_url"],
        format!("{}/trust-profile", stack.enrollment_url)
    );

    let anchors = json_of(get(&stack, "/anchor-certs").await).await;
    use base64::Engine as _;
    assert_eq!(
        anchors,
        json!([base64::engine::general_purpose::STANDARD.encode(stack.device_ca.cert_der())])
    );

    let response = get(&stack, "/trust-profile").await;
    assert_eq!(response.status(), StatusCode::OK);
    let (trust, _) = open_profile(&response.bytes().await.expect("body"));
    let kinds: Vec<String> = payloads(&trust)
        .iter()
        .map(|p| string(p, "PayloadType").to_owned())
        .collect();
    assert_eq!(kinds, ["com.apple.security.root"], "only root certificates");

    // Tokens: listed without secrets, revocable, refused once revoked.
    let token = create_token(
        &stack,
        json!({"unlimited": true, "user_name": "alice", "expiry": {"ttl_seconds": 600}}),
    )
    .await;
    let id = token["token"]["id"].as_str().expect("id");
    assert_eq!(
        token["token"]["max_uses"],
        serde_json::Value::Null,
        "unlimited: {token}"
    );
    let admin = stack.admin_client();
    let list = json_of(
        admin
            .get(format!("{}/v1/enrollment-tokens", stack.admin_url))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("list"),
    )
    .await;
    assert_eq!(list["next_cursor"], serde_json::Value::Null, "{list}");
    let listed = &list["items"][0];
    assert_eq!(
        (listed["id"].as_str(), listed["user_name"].as_str()),
        (Some(id), Some("alice"))
    );
    assert!(listed.get("secret").is_none());
    let secret = token["secret"].as_str().expect("secret");
    assert_eq!(
        get(&stack, &format!("/enroll?token={secret}"))
            .await
            .status(),
        StatusCode::OK
    );
    let revoked = admin
        .post(format!(
            "{}/v1/enrollment-tokens/{id}/revoke",
            stack.admin_url
        ))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);
    let revoked = json_of(revoked).await;
    assert_eq!(revoked["id"], id, "{revoked}");
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    assert_eq!(
        get(&stack, &format!("/enroll?token={secret}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let read_only = admin
        .post(format!("{}/v1/enrollment-tokens", stack.admin_url))
        .bearer_auth(testkit::stack::READ_ONLY_TOKEN)
        .body("{}")
        .send()
        .await
        .expect("create");
    assert_eq!(
        read_only.status(),
        StatusCode::FORBIDDEN,
        "needs the commands scope"
    );
    // Revoked tokens leave the default list and stay readable.
    let list = json_of(
        admin
            .get(format!("{}/v1/enrollment-tokens", stack.admin_url))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("list"),
    )
    .await;
    assert!(
        list["items"]
            .as_array()
            .is_some_and(|items| items.iter().all(|t| t["id"] != id)),
        "{list}"
    );
    let one = json_of(
        admin
            .get(format!("{}/v1/enrollment-tokens/{id}", stack.admin_url))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert!(one["revoked_at"].is_string(), "{one}");
}

#[tokio::test]
async fn a_direct_enrollment_checks_in_by_its_binding() {
    // The direct profile cannot know the UDID: the certificate's CN is a random identifier and
    // the binding made at Authenticate is what ties it to the device.
    let options = testkit::StackOptions {
        identity_policy: "bound-certificate",
        ..testkit::StackOptions::new(Engine::Sqlite)
    };
    let Some(stack) = testkit::Stack::start(options).await.expect("stack starts") else {
        return;
    };
    let token = multi_use_token(&stack).await;
    let challenge = direct_challenge(&stack, &token).await;
    let ca = ca_cert(&stack).await;
    let device = Requester::new();
    let rep = enroll(
        &stack,
        &ca,
        &device,
        &challenge,
        ContentCipher::Aes128Cbc,
        Transport::Post,
    )
    .await;
    let cert = rep.certificates[0].clone();
    let udid = "DIRECT-ENROLLED-MAC";
    assert_ne!(
        mdm_pki::pki::common_name(cert.subject_name()).as_deref(),
        Some(udid)
    );
    let identity = (cert, device.key);
    assert_eq!(
        checkin(&stack, &identity, msg::authenticate(udid)).await,
        StatusCode::OK,
        "{}",
        stack.logs()
    );
    assert_eq!(
        checkin(&stack, &identity, msg::token_update(udid, &[3; 32], "m")).await,
        StatusCode::OK
    );
    // On a cn-equals-udid listener the edge holds it to the binding as well.
    let admitted = admit(&stack, &client_certificate(&identity.0), udid)
        .await
        .expect("not revoked, and its random CN is not held against it");
    assert_eq!(
        admitted.policy(),
        mdm_proto::v1::IdentityPolicy::BoundCertificate
    );
    // The admin API (and the console's device page) says how and until when it is enrolled.
    let serial = identity
        .0
        .serial_number()
        .to_bn()
        .expect("serial")
        .to_hex_str()
        .expect("hex");
    let response = stack
        .admin_client()
        .get(format!("{}/v1/devices/{udid}", stack.admin_url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("admin API");
    assert_eq!(response.status(), StatusCode::OK);
    let device = json_of(response).await;
    let issued = &device["identity_certificate"];
    assert_eq!(issued["flow"], "direct", "{device:#}");
    assert_eq!(
        issued["serial"],
        serial.to_ascii_lowercase().trim_start_matches('0')
    );
    assert_eq!(issued["sha256"], device["cert_sha256"]);
    assert!(issued["not_after"].is_string(), "{issued}");
}
