//! Installing push certificates through push-svc's API, each form checked by a real push to the
//! mock APNs over TLS (the mock requires the certificate as client certificate): PEM with a
//! PKCS#1 or PKCS#8 RSA key, legacy (RC2/3DES) and modern PKCS#12; refusals with clear errors for
//! a certificate without a push UID, a topic-changing renewal, a key that does not match, an
//! expired certificate and a wrong password. Certificate uploads are stored and guarded on both
//! engines.
//!
//! Run: `cargo nextest run -p push-svc --test certificates`.

mod common;

use common::{outcome, Database, Engine, PushService};
use mdm_proto::v1::{GetCertificateRequest, PushOutcome, UploadCertificateRequest};
use mdm_proto::ErrorCode;
use testkit::pki::{pkcs12, rsa_key_pems, PUSH_TOPIC};
use testkit::ApnsFixture;

async fn start(engine: Engine, apns: &ApnsFixture) -> Option<(PushService, Database)> {
    let db = Database::create(engine).await?;
    let service = PushService::start(&db, apns, &[]).await;
    Some((service, db))
}

async fn upload_p12(
    push: &PushService,
    der: Vec<u8>,
    password: &str,
) -> Result<mdm_proto::v1::CertificateInfo, tonic::Status> {
    push.client()
        .upload_certificate(UploadCertificateRequest {
            pkcs12: der,
            password: password.into(),
            uploaded_by: "test".into(),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner())
}

/// A push to a fresh target is delivered with the installed certificate.
async fn assert_pushes(push: &PushService, apns: &ApnsFixture, n: u32) {
    let id = format!("D{n}");
    let token = push.register(&id, n).await;
    let results = push.push(&[id.as_str()]).await;
    assert_eq!(outcome(&results[0]), PushOutcome::Delivered, "{results:?}");
    assert_eq!(apns.mock().deliveries_to(&token).len(), 1);
}

fn code(status: &tonic::Status) -> ErrorCode {
    mdm_proto::code_of(status)
}

#[tokio::test]
async fn pem_with_pkcs1_or_pkcs8_keys_and_legacy_or_modern_p12_load_and_push() {
    let apns = ApnsFixture::start();
    let (push, _db) = start(Engine::Sqlite, &apns).await.expect("sqlite");
    let (pkcs8, pkcs1) = rsa_key_pems();
    assert!(
        pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
        "{pkcs1}"
    );
    let rsa = apns.ca.issue_push_with(Some(PUSH_TOPIC), Some(&pkcs8), 365);

    let info = push
        .upload_pem(&format!("{}{pkcs1}", rsa.cert_pem))
        .await
        .expect("PEM with a PKCS#1 key");
    assert_eq!(info.topic, PUSH_TOPIC);
    assert_pushes(&push, &apns, 1).await;

    push.upload_pem(&format!("{pkcs8}{}", rsa.cert_pem))
        .await
        .expect("PEM with a PKCS#8 key, key first");
    assert_pushes(&push, &apns, 2).await;

    let legacy = pkcs12(&rsa, "secret", true);
    let info = upload_p12(&push, legacy.clone(), "secret")
        .await
        .expect("legacy .p12");
    assert_eq!(info.sha256, rsa.sha256_hex());
    assert_pushes(&push, &apns, 3).await;

    let ecdsa = apns.ca.issue_push(PUSH_TOPIC);
    let modern = pkcs12(&ecdsa, "secret", false);
    let info = upload_p12(&push, modern, "secret")
        .await
        .expect("modern .p12");
    assert_eq!(info.sha256, ecdsa.sha256_hex());
    assert_pushes(&push, &apns, 4).await;

    let err = upload_p12(&push, legacy, "wrong")
        .await
        .expect_err("wrong password");
    assert_eq!(code(&err), ErrorCode::InvalidMessage);
    assert!(
        err.message().contains("wrong password"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn certificates_that_cannot_push_are_refused_clearly() {
    let apns = ApnsFixture::start();
    let (push, _db) = start(Engine::Sqlite, &apns).await.expect("sqlite");

    let no_uid = apns.ca.issue_push_with(None, None, 365);
    let err = push
        .upload_pem(&no_uid.identity_pem())
        .await
        .expect_err("no UID");
    assert_eq!(code(&err), ErrorCode::InvalidMessage);
    assert!(
        err.message().contains("not an MDM push certificate"),
        "{}",
        err.message()
    );
    assert!(
        err.message().contains("no UID attribute"),
        "{}",
        err.message()
    );

    // The real-format fixture without a UID, with any key: refused for the UID first.
    let fixture = testkit::fixture_text("micromdm/push-certs/mock_push_cert_no_uid.pem");
    let err = push
        .upload_pem(&format!("{fixture}{}", no_uid.key_pem))
        .await
        .expect_err("fixture without UID");
    assert!(
        err.message().contains("no UID attribute"),
        "{}",
        err.message()
    );

    let other = apns.ca.issue_push(PUSH_TOPIC);
    let mismatched = format!("{}{}", apns.push_cert.cert_pem, other.key_pem);
    let err = push
        .upload_pem(&mismatched)
        .await
        .expect_err("key mismatch");
    assert!(
        err.message().contains("does not match"),
        "{}",
        err.message()
    );

    let expired = apns.ca.issue_push_with(Some(PUSH_TOPIC), None, -1);
    let err = push
        .upload_pem(&expired.identity_pem())
        .await
        .expect_err("expired");
    assert!(err.message().contains("expired"), "{}", err.message());

    let err = push
        .upload_pem(&apns.push_cert.cert_pem)
        .await
        .expect_err("no key");
    assert!(err.message().contains("private key"), "{}", err.message());

    let err = push
        .client()
        .get_certificate(GetCertificateRequest {})
        .await
        .expect_err("nothing installed");
    assert_eq!(code(&err), ErrorCode::NotFound);
}

async fn a_topic_changing_renewal_is_refused(engine: Engine) {
    let apns = ApnsFixture::start();
    let Some((push, _db)) = start(engine, &apns).await else {
        return;
    };
    let first = push.upload_pem(&apns.push_pem()).await.expect("first");
    assert_eq!((first.topic.as_str(), first.version), (PUSH_TOPIC, 1));
    assert!(first.warning.is_empty(), "a year left: {first:?}");

    let renewal = apns.ca.issue_push(PUSH_TOPIC);
    let second = push
        .upload_pem(&renewal.identity_pem())
        .await
        .expect("same topic");
    assert_eq!(second.version, 2);

    let other = apns
        .ca
        .issue_push("com.apple.mgmt.External.99999999-0000-0000-0000-000000000000");
    let err = push
        .upload_pem(&other.identity_pem())
        .await
        .expect_err("topic change");
    assert_eq!(code(&err), ErrorCode::Conflict);
    assert!(
        err.message().contains("Every enrolled device"),
        "{}",
        err.message()
    );
    let current = push
        .client()
        .get_certificate(GetCertificateRequest {})
        .await
        .expect("current")
        .into_inner();
    assert_eq!(
        (current.sha256, current.topic.as_str()),
        (renewal.sha256_hex(), PUSH_TOPIC)
    );

    // Expiring soon: the API says so.
    let short = apns.ca.issue_push_with(Some(PUSH_TOPIC), None, 10);
    let info = push
        .upload_pem(&short.identity_pem())
        .await
        .expect("short-lived");
    assert!((9..=10).contains(&info.days_left), "{info:?}");
    assert!(info.warning.contains("expires in"), "{info:?}");
}

#[tokio::test]
async fn a_topic_changing_renewal_is_refused_on_sqlite() {
    a_topic_changing_renewal_is_refused(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_topic_changing_renewal_is_refused_on_postgres() {
    a_topic_changing_renewal_is_refused(Engine::Postgres).await;
}
