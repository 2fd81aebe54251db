//! A full OTA enrollment as a device goes through it: phase 1 (token) → phase 2 (signed by a
//! test "Apple device" certificate) → SCEP → phase 3 (signed by the new identity) → decrypt
//! the enrollment profile → SCEP again → Authenticate and TokenUpdate over mTLS under the
//! `cn-equals-udid` policy. A revoked certificate is refused afterwards.

use super::support::*;
use mdm_pki::pki;
use mdm_pki::profile::encryption::decrypt_profile;
use mdm_pki::profile::service::DeviceAnswer;
use mdm_pki::profile::signing;
use mdm_pki::scep::{ContentCipher, PkiStatus};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use reqwest::StatusCode;
use serde_json::json;
use testkit::messages as msg;
use testkit::pki::PUSH_TOPIC;
use testkit::stack::ADMIN_TOKEN;
use testkit::{Engine, Stack};

const UDID: &str = "00008030-001A35E11A88802E";

/// POSTs a device's answer, signed by `cert`/`key`, to the Profile Service URL.
async fn post_answer(
    stack: &Stack,
    url: &str,
    answer: &DeviceAnswer,
    cert: &X509,
    key: &PKey<Private>,
) -> reqwest::Response {
    let signed = signing::sign(&answer.to_xml().expect("xml"), cert, key, &[]).expect("sign");
    client(stack)
        .post(url)
        .header("content-type", "application/pkcs7-signature")
        .body(signed)
        .send()
        .await
        .expect("answered")
}

fn answer(challenge: Option<&str>) -> DeviceAnswer {
    DeviceAnswer {
        udid: UDID.into(),
        challenge: challenge.map(str::to_owned),
        serial: Some("C02XXXXXXXXX".into()),
        product: Some("iPhone12,1".into()),
        version: Some("21E236".into()),
        device_name: Some("Test iPhone".into()),
        ..DeviceAnswer::default()
    }
}

async fn full_enrollment(stack: &Stack) {
    let ca = ca_cert(stack).await;

    // Phase 1: the token buys one Profile Service payload.
    let token = create_token(stack, json!({"user_name": "alice"})).await;
    let secret = token["secret"].as_str().expect("secret");
    let response = get(stack, &format!("/enroll?token={secret}")).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", stack.logs());
    let (service, _) = open_profile(&response.bytes().await.expect("body"));
    assert_eq!(string(&service, "PayloadType"), "Profile Service");
    let content = service["PayloadContent"].as_dictionary().expect("content");
    let url = string(content, "URL").to_owned();
    let challenge = string(content, "Challenge").to_owned();
    assert_eq!(url, format!("{}/enroll", stack.enrollment_url));
    assert_eq!(
        content["DeviceAttributes"].as_array().map(Vec::len),
        Some(7)
    );
    assert_eq!(
        get(stack, &format!("/enroll?token={secret}"))
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "single use"
    );

    // Phase 2: only a device certificate from the (test) Apple device CA is believed.
    let stranger_key = pki::rsa_key(2048).expect("key");
    let stranger =
        pki::self_signed_signer(&stranger_key, &pki::name("not apple", None).expect("n"))
            .expect("c");
    let refused = post_answer(
        stack,
        &url,
        &answer(Some(&challenge)),
        &stranger,
        &stranger_key,
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let apple = stack.apple_device_ca.issue_client("Apple iPhone device");
    let apple_cert = X509::from_pem(apple.cert_pem.as_bytes()).expect("cert");
    let apple_key = PKey::private_key_from_pem(apple.key_pem.as_bytes()).expect("key");
    let response = post_answer(
        stack,
        &url,
        &answer(Some(&challenge)),
        &apple_cert,
        &apple_key,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK, "{}", stack.logs());
    let (scep_profile, _) = open_profile(&response.bytes().await.expect("body"));
    let scep_payloads = payloads(&scep_profile);
    let scep = payload(&scep_payloads, "com.apple.security.scep");
    let subject = format!(
        "{:?}",
        scep["PayloadContent"].as_dictionary().expect("content")["Subject"]
    );
    assert!(
        subject.contains(UDID),
        "the SCEP subject names the UDID: {subject}"
    );
    let replay = post_answer(
        stack,
        &url,
        &answer(Some(&challenge)),
        &apple_cert,
        &apple_key,
    )
    .await;
    assert_eq!(
        replay.status(),
        StatusCode::FORBIDDEN,
        "the challenge served once"
    );

    // SCEP: the certificate's CN is the UDID, whatever the CSR asked for.
    let ota_device = Requester::new();
    let rep = enroll(
        stack,
        &ca,
        &ota_device,
        &scep_challenge(&scep_payloads),
        ContentCipher::DesEde3Cbc,
        Transport::Post,
    )
    .await;
    assert_eq!(rep.status, PkiStatus::Success, "{}", stack.logs());
    let ota_identity = rep.certificates[0].clone();
    assert_eq!(
        pki::common_name(ota_identity.subject_name()).as_deref(),
        Some(UDID)
    );

    // Phase 3: signed by the new identity; the profile's payloads are encrypted to it.
    let response = post_answer(stack, &url, &answer(None), &ota_identity, &ota_device.key).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", stack.logs());
    let (sealed, _) = open_profile(&response.bytes().await.expect("body"));
    assert!(
        sealed.get("PayloadContent").is_none(),
        "nothing readable in transit"
    );
    let enrollment = decrypt_profile(sealed, &ota_identity, &ota_device.key)
        .expect("decrypts with the identity key");
    let final_payloads = payloads(&enrollment);
    let mdm = payload(&final_payloads, "com.apple.mdm");
    let scep = payload(&final_payloads, "com.apple.security.scep");
    assert_eq!(mdm["IdentityCertificateUUID"], scep["PayloadUUID"]);
    assert_eq!(string(mdm, "Topic"), PUSH_TOPIC);

    // The OTA identity signs phase 3 only: it is not an MDM identity.
    let ota_pair = (ota_identity.clone(), ota_device.key.clone());
    assert_eq!(
        checkin(stack, &ota_pair, msg::authenticate(UDID)).await,
        StatusCode::FORBIDDEN
    );

    // The MDM identity, then the check-in under cn-equals-udid.
    let device = Requester::new();
    let rep = enroll(
        stack,
        &ca,
        &device,
        &scep_challenge(&final_payloads),
        ContentCipher::Aes256Cbc,
        Transport::Get,
    )
    .await;
    assert_eq!(rep.status, PkiStatus::Success);
    let identity = (rep.certificates[0].clone(), device.key);
    assert_eq!(
        pki::common_name(identity.0.subject_name()).as_deref(),
        Some(UDID)
    );
    assert_eq!(
        checkin(stack, &identity, msg::authenticate(UDID)).await,
        StatusCode::OK,
        "{}",
        stack.logs()
    );
    assert_eq!(
        checkin(stack, &identity, msg::token_update(UDID, &[7; 32], "magic")).await,
        StatusCode::OK,
        "{}",
        stack.logs()
    );

    // Revoked: refused from then on, with 403, never 401.
    let serial = pki::serial_hex(&identity.0).expect("serial");
    let admin = stack.admin_client();
    let response = admin
        .post(format!(
            "{}/v1/certificates/{serial}/revoke",
            stack.admin_url
        ))
        .bearer_auth(ADMIN_TOKEN)
        .body(json!({"reason": "device lost"}).to_string())
        .send()
        .await
        .expect("revoke");
    assert_eq!(response.status(), StatusCode::OK);
    let revoked = json_of(response).await;
    assert_eq!(
        (revoked["common_name"].as_str(), revoked["flow"].as_str()),
        (Some(UDID), Some("enrollment"))
    );
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(
        checkin(stack, &identity, msg::token_update(UDID, &[7; 32], "magic")).await,
        StatusCode::FORBIDDEN,
        "{}",
        stack.logs()
    );
    // The edge's own admission (proxy::admission) refuses it too.
    let refused = admit(stack, &client_certificate(&identity.0), UDID)
        .await
        .expect_err("revoked");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn ota_enrollment_end_to_end_sqlite() {
    let Some(stack) = stack(Engine::Sqlite).await else {
        return;
    };
    full_enrollment(&stack).await;
}

#[tokio::test]
async fn ota_enrollment_end_to_end_postgres() {
    let Some(stack) = stack(Engine::Postgres).await else {
        return;
    };
    full_enrollment(&stack).await;
}
