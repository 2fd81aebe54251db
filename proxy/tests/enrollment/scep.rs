//! SCEP through the proxy: every envelope cipher over POST and over GET, and the refusals.

use super::support::*;
use mdm_pki::pki;
use mdm_pki::scep::client::{self, RequestOptions};
use mdm_pki::scep::{csr, ContentCipher, Digest, FailInfo, PkiStatus, Signer};
use reqwest::StatusCode;
use testkit::{Engine, Stack};

async fn round_trips(stack: &Stack) {
    mdm_pki::scep::load_legacy_provider().expect("single DES for the client side");
    let ca = ca_cert(stack).await;
    let caps = get(stack, "/scep?operation=GetCACaps").await;
    assert_eq!(caps.status(), StatusCode::OK);
    let caps = caps.text().await.expect("text");
    for cap in ["POSTPKIOperation", "SHA-256", "AES", "DES3", "Renewal"] {
        assert!(caps.lines().any(|l| l == cap), "{cap} in {caps:?}");
    }
    let token = multi_use_token(stack).await;
    for cipher in ContentCipher::ALL {
        for transport in [Transport::Post, Transport::Get] {
            let challenge = direct_challenge(stack, &token).await;
            let requester = Requester::new();
            let rep = enroll(stack, &ca, &requester, &challenge, cipher, transport).await;
            assert_eq!(rep.status, PkiStatus::Success, "{cipher:?} {transport:?}");
            let issued = &rep.certificates[0];
            assert!(issued
                .verify(&ca.public_key().expect("key"))
                .expect("verify"));
            assert!(issued.public_key().expect("key").public_eq(&requester.key));
        }
    }
}

#[tokio::test]
async fn every_cipher_over_post_and_get_sqlite() {
    let Some(stack) = stack(Engine::Sqlite).await else {
        return;
    };
    round_trips(&stack).await;
}

#[tokio::test]
async fn every_cipher_over_post_and_get_postgres() {
    let Some(stack) = stack(Engine::Postgres).await else {
        return;
    };
    round_trips(&stack).await;
}

#[tokio::test]
async fn refusals_are_cert_rep_failures_or_4xx() {
    let Some(stack) = stack(Engine::Sqlite).await else {
        return;
    };
    let ca = ca_cert(&stack).await;
    let token = multi_use_token(&stack).await;

    // Wrong challenge.
    let rep = enroll(
        &stack,
        &ca,
        &Requester::new(),
        "guessed",
        ContentCipher::Aes128Cbc,
        Transport::Post,
    )
    .await;
    assert_eq!(
        (rep.status, rep.fail_info),
        (PkiStatus::Failure, Some(FailInfo::BadRequest))
    );

    // A challenge works once.
    let challenge = direct_challenge(&stack, &token).await;
    let first = enroll(
        &stack,
        &ca,
        &Requester::new(),
        &challenge,
        ContentCipher::Aes256Cbc,
        Transport::Post,
    )
    .await;
    assert_eq!(first.status, PkiStatus::Success);
    let again = enroll(
        &stack,
        &ca,
        &Requester::new(),
        &challenge,
        ContentCipher::Aes256Cbc,
        Transport::Get,
    )
    .await;
    assert_eq!(
        (again.status, again.fail_info),
        (PkiStatus::Failure, Some(FailInfo::BadRequest))
    );

    // A broken signature: badMessageCheck, and the challenge is not spent by it.
    let challenge = direct_challenge(&stack, &token).await;
    let requester = Requester::new();
    let signer = Signer {
        cert: &requester.signer,
        key: &requester.key,
    };
    let subject = pki::name("x", None).expect("n");
    let csr = csr::build(
        &requester.key,
        &subject,
        Some(&challenge),
        0,
        Digest::Sha256,
    )
    .expect("csr");
    let request =
        client::build_request(&csr, signer, &ca, &RequestOptions::default()).expect("request");
    let mut tampered = request.message.clone();
    let at = tampered.len() - 8;
    tampered[at] ^= 0x40;
    let response = pki_operation(&stack, &tampered, Transport::Post).await;
    assert_eq!(response.status(), StatusCode::OK);
    let rep = client::read_cert_rep(
        &response.bytes().await.expect("body"),
        &ca,
        signer,
        &request,
    )
    .expect("CertRep");
    assert_eq!(
        (rep.status, rep.fail_info),
        (PkiStatus::Failure, Some(FailInfo::BadMessageCheck))
    );
    let response = pki_operation(&stack, &request.message, Transport::Post).await;
    let rep = client::read_cert_rep(
        &response.bytes().await.expect("body"),
        &ca,
        signer,
        &request,
    )
    .expect("CertRep");
    assert_eq!(
        rep.status,
        PkiStatus::Success,
        "the intact request still succeeds"
    );

    // Garbage and bad requests are 4xx (no CertRep can answer them), never 401 or 5xx.
    for (path, why) in [
        ("/scep?operation=PKIOperation&message=%%%", "not base64"),
        (
            "/scep?operation=PKIOperation&message=Z2FyYmFnZQ",
            "base64 garbage",
        ),
        ("/scep?operation=PKIOperation", "no message"),
        ("/scep?operation=Nope", "unknown operation"),
        ("/scep", "no operation"),
    ] {
        let status = get(&stack, path).await.status();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}");
    }
    let response = pki_operation(&stack, b"garbage", Transport::Post).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let long = "A".repeat(20 * 1024);
    let status = get(
        &stack,
        &format!("/scep?operation=PKIOperation&message={long}"),
    )
    .await
    .status();
    assert_eq!(status, StatusCode::URI_TOO_LONG);
    assert_eq!(
        get(&stack, "/nothing-here").await.status(),
        StatusCode::NOT_FOUND
    );
}
