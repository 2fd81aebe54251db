//! The CA and the SCEP server over a real store, on SQLite and PostgreSQL: the CA is generated
//! once and its key sealed; PKCSReq is bound to its one-time challenge (reuse, expiry and a wrong
//! challenge are CertRep FAILUREs); RenewalReq keeps the subject and refuses revoked identities.

use enroll_svc::provisioning::ca::DeviceCa;
use enroll_svc::provisioning::scep::{secret_digest, ScepServer};
use enroll_svc::provisioning::settings::CaConfig;
use enroll_svc::provisioning::store::{Flow, NewChallenge, PkiStore};
use enroll_svc::store::EnrollmentStore;
use enroll_svc::Error;
use mdm_pki::pki;
use mdm_pki::scep::client::{self, CertRep, RequestOptions};
use mdm_pki::scep::{csr, ContentCipher, Digest, FailInfo, MessageType, PkiStatus, Signer};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use service_kit::db::{DatabaseConfig, Db};
use service_kit::now_ms;
use service_kit::secrets::SecretBox;
use std::sync::Arc;

pub struct Fixture {
    pub store: PkiStore,
    /// Where the CA's files go.
    dir: tempfile::TempDir,
    _keep: Box<dyn std::any::Any>,
}

pub async fn sqlite() -> Option<Fixture> {
    open(testkit::Engine::Sqlite).await
}

pub async fn postgres() -> Option<Fixture> {
    open(testkit::Engine::Postgres).await
}

async fn open(engine: testkit::Engine) -> Option<Fixture> {
    let database = testkit::fresh_database(engine).await?;
    let db = Db::connect(&DatabaseConfig::default(), &database.url)
        .await
        .expect("database");
    let store = EnrollmentStore::open(db).await.expect("migrations");
    Some(Fixture {
        store: PkiStore::new(store.db().clone()),
        dir: tempfile::tempdir().expect("tempdir"),
        _keep: database.keep,
    })
}

fn secrets() -> SecretBox {
    SecretBox::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("key")
}

async fn ca(f: &Fixture) -> Arc<DeviceCa> {
    let config = CaConfig {
        export_cert_file: Some(f.dir.path().join("ca.pem")),
        ..CaConfig::default()
    };
    Arc::new(
        DeviceCa::load_or_create(&config, &f.store, &secrets())
            .await
            .expect("CA"),
    )
}

async fn challenge(store: &PkiStore, secret: &str, cn: &str, expires_at: i64) {
    store
        .create_challenge(
            &NewChallenge {
                sha256: secret_digest(secret).expect("digest"),
                common_name: cn.into(),
                flow: Flow::Direct,
                ota_session_id: None,
                enrollment_token_id: Some("token-1".into()),
                renewal_for: None,
                renews_serial: None,
                renews_sha256: None,
                expires_at,
            },
            now_ms(),
        )
        .await
        .expect("challenge");
}

struct Requester {
    key: PKey<Private>,
    cert: X509,
}

fn requester() -> Requester {
    let key = pki::rsa_key(2048).expect("key");
    let cert = pki::self_signed_signer(&key, &pki::name("requester", None).expect("n")).expect("c");
    Requester { key, cert }
}

/// Sends a PKIOperation signed by `signer` for a CSR of `key`; reads the CertRep.
async fn request(
    scep: &ScepServer,
    ca: &DeviceCa,
    signer: (&X509, &PKey<Private>),
    key: &PKey<Private>,
    challenge: Option<&str>,
    message_type: MessageType,
) -> CertRep {
    let csr = csr::build(
        key,
        &pki::name("asked-for", Some("Org")).expect("n"),
        challenge,
        0,
        Digest::Sha256,
    )
    .expect("csr");
    let signer = Signer {
        cert: signer.0,
        key: signer.1,
    };
    let options = RequestOptions {
        message_type,
        cipher: ContentCipher::DesEde3Cbc,
        ..RequestOptions::default()
    };
    let built = client::build_request(&csr, signer, ca.cert(), &options).expect("request");
    let answer = scep
        .handle("PKIOperation", &built.message)
        .await
        .expect("answered");
    assert_eq!(answer.content_type, "application/x-pki-message");
    client::read_cert_rep(&answer.body, ca.cert(), signer, &built).expect("CertRep")
}

macro_rules! scep_suite {
    ($engine:ident) => {
        mod $engine {
            use super::*;

            #[tokio::test]
            async fn the_ca_is_generated_once_and_its_key_sealed() {
                let Some(f) = super::$engine().await else {
                    return;
                };
                let first = ca(&f).await;
                let second = ca(&f).await;
                assert_eq!(
                    first.cert().to_der().ok(),
                    second.cert().to_der().ok(),
                    "loaded, not regenerated"
                );
                let (_, sealed) = f.store.load_ca().await.expect("load").expect("stored");
                let plain = first.key().private_key_to_pkcs8().expect("pkcs8");
                assert!(
                    !sealed
                        .windows(64)
                        .any(|w| plain.windows(64).next() == Some(w)),
                    "sealed at rest"
                );
                let exported = std::fs::read(f.dir.path().join("ca.pem")).expect("exported");
                assert_eq!(
                    X509::from_pem(&exported).expect("pem").to_der().ok(),
                    first.cert().to_der().ok()
                );
                // A different secret key cannot open it: refuse rather than make a second CA.
                let other = SecretBox::from_base64(&SecretBox::generate_key()).expect("key");
                let err = DeviceCa::load_or_create(&CaConfig::default(), &f.store, &other)
                    .await
                    .expect_err("wrong key");
                assert!(matches!(err, Error::Secret(_)), "{err:?}");
            }

            #[tokio::test]
            async fn a_challenge_issues_once_with_its_bound_subject() {
                let Some(f) = super::$engine().await else {
                    return;
                };
                let ca = ca(&f).await;
                let scep = ScepServer::new(f.store.clone(), Arc::clone(&ca));
                let caps = scep.handle("GetCACaps", &[]).await.expect("caps");
                assert!(String::from_utf8_lossy(&caps.body).contains("POSTPKIOperation"));
                let cert = scep.handle("GetCACert", &[]).await.expect("cert");
                assert_eq!(Some(cert.body), ca.cert().to_der().ok());

                challenge(&f.store, "one-time", "UDID-7", now_ms() + 60_000).await;
                challenge(&f.store, "too-late", "UDID-8", now_ms() - 1).await;
                let r = requester();
                let rep = request(
                    &scep,
                    &ca,
                    (&r.cert, &r.key),
                    &r.key,
                    Some("one-time"),
                    MessageType::PkcsReq,
                )
                .await;
                assert_eq!(rep.status, PkiStatus::Success);
                let issued = &rep.certificates[0];
                assert_eq!(
                    pki::common_name(issued.subject_name()).as_deref(),
                    Some("UDID-7"),
                    "CN from the challenge"
                );
                let record = f
                    .store
                    .certificate_by_sha256(&pki::sha256(issued).expect("sha"))
                    .await
                    .expect("get")
                    .expect("recorded");
                assert_eq!(
                    (record.flow, record.enrollment_token_id.as_deref()),
                    (Flow::Direct, Some("token-1"))
                );

                for (secret, why) in [
                    ("one-time", "reused"),
                    ("too-late", "expired"),
                    ("guess", "wrong"),
                ] {
                    let r = requester();
                    let rep = request(
                        &scep,
                        &ca,
                        (&r.cert, &r.key),
                        &r.key,
                        Some(secret),
                        MessageType::PkcsReq,
                    )
                    .await;
                    assert_eq!(
                        (rep.status, rep.fail_info),
                        (PkiStatus::Failure, Some(FailInfo::BadRequest)),
                        "{why}"
                    );
                }
                let err = scep
                    .handle("PKIOperation", b"garbage")
                    .await
                    .expect_err("garbage");
                assert_eq!(err.code(), mdm_proto::ErrorCode::InvalidMessage);
                let err = scep
                    .handle("GetNothing", &[])
                    .await
                    .expect_err("unknown operation");
                assert_eq!(err.code(), mdm_proto::ErrorCode::InvalidMessage);
            }

            #[tokio::test]
            async fn a_renewal_keeps_the_subject_and_refuses_revoked_identities() {
                let Some(f) = super::$engine().await else {
                    return;
                };
                let ca = ca(&f).await;
                let scep = ScepServer::new(f.store.clone(), Arc::clone(&ca));
                challenge(&f.store, "first", "UDID-9", now_ms() + 60_000).await;
                let r = requester();
                let rep = request(
                    &scep,
                    &ca,
                    (&r.cert, &r.key),
                    &r.key,
                    Some("first"),
                    MessageType::PkcsReq,
                )
                .await;
                let identity = rep.certificates[0].clone();
                let new_key = pki::rsa_key(2048).expect("key");
                let rep = request(
                    &scep,
                    &ca,
                    (&identity, &r.key),
                    &new_key,
                    None,
                    MessageType::RenewalReq,
                )
                .await;
                assert_eq!(rep.status, PkiStatus::Success);
                let renewed = &rep.certificates[0];
                assert_eq!(
                    pki::common_name(renewed.subject_name()).as_deref(),
                    Some("UDID-9")
                );
                assert!(renewed.public_key().expect("key").public_eq(&new_key));

                let serial = pki::serial_hex(renewed).expect("serial");
                f.store
                    .revoke(&serial, "lost", "ops", now_ms())
                    .await
                    .expect("revoke");
                let rep = request(
                    &scep,
                    &ca,
                    (renewed, &new_key),
                    &new_key,
                    None,
                    MessageType::RenewalReq,
                )
                .await;
                assert_eq!(
                    (rep.status, rep.fail_info),
                    (PkiStatus::Failure, Some(FailInfo::BadRequest))
                );
                // A self-signed "identity" cannot renew.
                let rep = request(
                    &scep,
                    &ca,
                    (&r.cert, &r.key),
                    &r.key,
                    None,
                    MessageType::RenewalReq,
                )
                .await;
                assert_eq!(rep.status, PkiStatus::Failure);
            }
        }
    };
}

scep_suite!(sqlite);
scep_suite!(postgres);
