//! One behavioural suite for the provisioning tables (CA row, SCEP challenges, issued
//! certificates and revocation, enrollment tokens, OTA sessions), on SQLite and PostgreSQL.

use enroll_svc::provisioning::store::{
    ChallengeCheck, Flow, IssuedRecord, NewChallenge, NewSession, NewToken, PkiStore,
};
use enroll_svc::store::{
    AuditQuery, AuthenticateOutcome, Authentication, ChannelKind, DeviceFacts, EnrollmentStore,
    Proof,
};
use service_kit::db::{DatabaseConfig, Db};

/// Stores on a fresh database, with what keeps the database alive.
pub struct Fixture {
    pub pki: PkiStore,
    pub enrollments: EnrollmentStore,
    _keep: Box<dyn std::any::Any>,
}

async fn fixture(db: Db, keep: Box<dyn std::any::Any>) -> Fixture {
    let enrollments = EnrollmentStore::open(db).await.expect("migrations");
    Fixture {
        pki: PkiStore::new(enrollments.db().clone()),
        enrollments,
        _keep: keep,
    }
}

pub async fn sqlite() -> Option<Fixture> {
    open(testkit::Engine::Sqlite).await
}

pub async fn postgres() -> Option<Fixture> {
    open(testkit::Engine::Postgres).await
}

/// A fixture on a fresh database.
async fn open(engine: testkit::Engine) -> Option<Fixture> {
    let database = testkit::fresh_database(engine).await?;
    let db = Db::connect(&DatabaseConfig::default(), &database.url)
        .await
        .expect("database");
    Some(fixture(db, database.keep).await)
}

const NOW: i64 = 1_800_000_000_000;

fn challenge(sha: u8, expires_at: i64) -> NewChallenge {
    NewChallenge {
        sha256: vec![sha; 32],
        common_name: "UDID-1".into(),
        flow: Flow::Ota,
        ota_session_id: Some("session-1".into()),
        enrollment_token_id: Some("token-1".into()),
        renewal_for: None,
        renews_serial: None,
        renews_sha256: None,
        expires_at,
    }
}

fn issued(serial: &str, sha: u8) -> IssuedRecord {
    IssuedRecord {
        serial: serial.into(),
        sha256: vec![sha; 32],
        common_name: "UDID-1".into(),
        flow: Flow::Direct,
        ota_session_id: None,
        enrollment_token_id: Some("token-1".into()),
        renewed_from: None,
        renewal_for: None,
        renews_sha256: None,
        issued_at: NOW,
        not_after: NOW + 86_400_000,
        der: vec![sha; 8],
    }
}

fn token(id: &str, sha: u8, max_uses: Option<i64>, expires_at: i64) -> NewToken {
    NewToken {
        id: id.into(),
        sha256: vec![sha; 32],
        description: "laptops".into(),
        user_name: Some("alice".into()),
        max_uses,
        created_by: "ops".into(),
        expires_at,
    }
}

macro_rules! provisioning_suite {
    ($engine:ident) => {
        mod $engine {
            use super::*;

            async fn store() -> Option<Fixture> {
                super::$engine().await
            }

            /// Issues certificate `a1` (fingerprint `[0xA1; 32]`) through a SCEP challenge: the
            /// identity a renewal replaces.
            async fn issue_a1(f: &Fixture) {
                f.pki
                    .create_challenge(&challenge(1, NOW + 1000), NOW)
                    .await
                    .expect("create");
                assert!(f
                    .pki
                    .record_with_challenge(&[1; 32], &issued("a1", 0xA1), NOW)
                    .await
                    .expect("issued"));
            }

            #[tokio::test]
            async fn the_first_ca_stored_wins() {
                let Some(f) = store().await else { return };
                assert!(f.pki.load_ca().await.expect("load").is_none());
                assert!(f
                    .pki
                    .insert_ca(b"cert-1", b"key-1", NOW)
                    .await
                    .expect("insert"));
                assert!(!f
                    .pki
                    .insert_ca(b"cert-2", b"key-2", NOW)
                    .await
                    .expect("race lost"));
                let (cert, key) = f.pki.load_ca().await.expect("load").expect("stored");
                assert_eq!(
                    (cert.as_slice(), key.as_slice()),
                    (&b"cert-1"[..], &b"key-1"[..])
                );
            }

            #[tokio::test]
            async fn a_challenge_is_used_once_and_expires() {
                let Some(f) = store().await else { return };
                f.pki
                    .create_challenge(&challenge(1, NOW + 1000), NOW)
                    .await
                    .expect("create");
                f.pki
                    .create_challenge(&challenge(2, NOW - 1), NOW - 10)
                    .await
                    .expect("create");
                match f.pki.check_challenge(&[1; 32], NOW).await.expect("check") {
                    ChallengeCheck::Valid(c) => {
                        assert_eq!(c.common_name, "UDID-1");
                        assert_eq!(c.flow, Flow::Ota);
                        assert_eq!(c.ota_session_id.as_deref(), Some("session-1"));
                    }
                    other => panic!("expected a valid challenge, got {other:?}"),
                }
                assert!(f
                    .pki
                    .record_with_challenge(&[1; 32], &issued("a1", 0xA1), NOW)
                    .await
                    .expect("issue"));
                assert!(matches!(
                    f.pki.check_challenge(&[1; 32], NOW).await.expect("check"),
                    ChallengeCheck::Used
                ));
                assert!(
                    !f.pki
                        .record_with_challenge(&[1; 32], &issued("a2", 0xA2), NOW)
                        .await
                        .expect("reuse"),
                    "a used challenge issues nothing"
                );
                assert!(f
                    .pki
                    .certificate_by_serial("a2")
                    .await
                    .expect("get")
                    .is_none());
                assert!(matches!(
                    f.pki.check_challenge(&[2; 32], NOW).await.expect("check"),
                    ChallengeCheck::Expired
                ));
                assert!(!f
                    .pki
                    .record_with_challenge(&[2; 32], &issued("a3", 0xA3), NOW)
                    .await
                    .expect("expired"));
                assert!(matches!(
                    f.pki.check_challenge(&[3; 32], NOW).await.expect("check"),
                    ChallengeCheck::Unknown
                ));
            }

            #[tokio::test]
            async fn issued_certificates_are_found_and_revoked_once() {
                let Some(f) = store().await else { return };
                f.pki
                    .create_challenge(&challenge(1, NOW + 1000), NOW)
                    .await
                    .expect("create");
                f.pki
                    .record_with_challenge(&[1; 32], &issued("a1", 0xA1), NOW)
                    .await
                    .expect("issue");
                let found = f
                    .pki
                    .certificate_by_sha256(&[0xA1; 32])
                    .await
                    .expect("get")
                    .expect("found");
                assert_eq!((found.serial.as_str(), found.flow), ("a1", Flow::Direct));
                assert!(found.revoked_at.is_none());
                let revoked = f
                    .pki
                    .revoke("a1", "lost", "ops", NOW + 5)
                    .await
                    .expect("revoke")
                    .expect("exists");
                assert_eq!(revoked.revoked_at, Some(NOW + 5));
                let again = f
                    .pki
                    .revoke("a1", "other", "bob", NOW + 9)
                    .await
                    .expect("revoke")
                    .expect("exists");
                assert_eq!(
                    again.revoked_at,
                    Some(NOW + 5),
                    "the first revocation stands"
                );
                assert_eq!(again.revocation_reason.as_deref(), Some("lost"));
                assert!(f
                    .pki
                    .revoke("ff", "x", "ops", NOW)
                    .await
                    .expect("revoke")
                    .is_none());
            }

            #[tokio::test]
            async fn a_renewal_takes_the_binding_over_at_its_first_use() {
                let Some(f) = store().await else { return };
                issue_a1(&f).await;
                f.enrollments
                    .authenticate(&Authentication {
                        id: "UDID-1",
                        channel: ChannelKind::Device,
                        cert_sha256: &[0xA1; 32],
                        cert_common_name: "UDID-1",
                        topic: None,
                        facts: &DeviceFacts::default(),
                        message: b"",
                    })
                    .await
                    .expect("enrolled");
                // A renewal of another certificate (say, from before a re-enrollment) replaces
                // nothing.
                let mut stale = issued("c1", 0xC1);
                stale.renewed_from = Some("0ld".into());
                stale.renewal_for = Some("UDID-1".into());
                stale.renews_sha256 = Some(vec![0x0D; 32]);
                f.pki.record_renewal(&stale).await.expect("renew");
                let mut renewal = issued("b1", 0xB1);
                renewal.renewed_from = Some("a1".into());
                renewal.renewal_for = Some("UDID-1".into());
                renewal.renews_sha256 = Some(vec![0xA1; 32]);
                f.pki.record_renewal(&renewal).await.expect("renew");
                let before = f
                    .enrollments
                    .authorize_device("UDID-1", &[0xA1; 32])
                    .await
                    .expect("the old certificate works until the renewal is used");
                assert!(!before.rebound);
                assert!(f
                    .enrollments
                    .authorize_device("UDID-1", &[0xC1; 32])
                    .await
                    .is_err());
                let first = f
                    .enrollments
                    .authorize_device("UDID-1", &[0xB1; 32])
                    .await
                    .expect("the renewal is bound at its first use");
                assert!(first.rebound, "the edges must forget the old certificate");
                assert_eq!(
                    first.generation, before.generation,
                    "the enrollment goes on"
                );
                let again = f
                    .enrollments
                    .authorize_device("UDID-1", &[0xB1; 32])
                    .await
                    .expect("bound");
                assert!(!again.rebound);
                assert!(
                    f.enrollments
                        .authorize_device("UDID-1", &[0xA1; 32])
                        .await
                        .is_err(),
                    "the replaced certificate is refused"
                );
                let stored = f
                    .pki
                    .certificate_by_serial("b1")
                    .await
                    .expect("get")
                    .expect("found");
                assert_eq!(stored.renewed_from.as_deref(), Some("a1"));
                assert_eq!(
                    stored.enrollment_id.as_deref(),
                    Some("UDID-1"),
                    "a renewal belongs to the enrollment of what it renews"
                );
                let audit = f
                    .enrollments
                    .list_audit(&AuditQuery {
                        before_id: None,
                        limit: 10,
                        enrollment_id: None,
                        action: Some("enrollment.identity_renewed"),
                    })
                    .await
                    .expect("audit");
                assert_eq!(audit.len(), 1, "{audit:?}");
                assert_eq!(audit[0].detail, "certificate b1 replaces a1");
            }

            #[tokio::test]
            async fn a_renewal_that_authenticates_completes_the_renewal() {
                let Some(f) = store().await else { return };
                issue_a1(&f).await;
                let facts = DeviceFacts::default();
                let authenticate = |cert: &'static [u8; 32]| Authentication {
                    id: "UDID-1",
                    channel: ChannelKind::Device,
                    cert_sha256: cert,
                    cert_common_name: "UDID-1",
                    topic: None,
                    facts: &facts,
                    message: b"",
                };
                f.enrollments
                    .authenticate(&authenticate(&[0xA1; 32]))
                    .await
                    .expect("enrolled");
                let mut renewal = issued("b1", 0xB1);
                renewal.renewed_from = Some("a1".into());
                renewal.renewal_for = Some("UDID-1".into());
                renewal.renews_sha256 = Some(vec![0xA1; 32]);
                f.pki.record_renewal(&renewal).await.expect("renew");
                // The device installs its renewal profile and starts afresh with the new
                // certificate, as a device may.
                let done = f
                    .enrollments
                    .authenticate(&authenticate(&[0xB1; 32]))
                    .await
                    .expect("a renewal proves the device");
                assert_eq!(done.outcome, AuthenticateOutcome::Rebound(Proof::Renewal));
                let sql = "SELECT attributes FROM event_outbox WHERE type = 'enrollment.identity_renewed'";
                let renewed: Vec<String> = match f.enrollments.db() {
                    Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
                    Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
                }
                .expect("the outbox");
                assert_eq!(renewed.len(), 1, "{renewed:?}");
                let attributes: serde_json::Value = serde_json::from_str(&renewed[0]).expect("JSON");
                assert_eq!(attributes["serial"], "b1");
                assert_eq!(attributes["renewed_serial"], "a1");
            }

            #[tokio::test]
            async fn tokens_are_single_use_expiring_and_revocable() {
                let Some(f) = store().await else { return };
                f.pki
                    .create_token(&token("single", 1, Some(1), NOW + 1000), NOW)
                    .await
                    .expect("create");
                f.pki
                    .create_token(&token("multi", 2, None, NOW + 1000), NOW)
                    .await
                    .expect("create");
                f.pki
                    .create_token(&token("old", 3, None, NOW - 1), NOW - 10)
                    .await
                    .expect("create");
                let used = f
                    .pki
                    .use_token(&[1; 32], NOW)
                    .await
                    .expect("use")
                    .expect("valid");
                assert_eq!(
                    (used.id.as_str(), used.user_name.as_deref()),
                    ("single", Some("alice"))
                );
                assert!(
                    f.pki.use_token(&[1; 32], NOW).await.expect("use").is_none(),
                    "used up"
                );
                for _ in 0..3 {
                    assert!(f.pki.use_token(&[2; 32], NOW).await.expect("use").is_some());
                }
                assert!(
                    f.pki.use_token(&[3; 32], NOW).await.expect("use").is_none(),
                    "expired"
                );
                assert!(
                    f.pki.use_token(&[9; 32], NOW).await.expect("use").is_none(),
                    "unknown"
                );
                let active: Vec<String> = f
                    .pki
                    .list_tokens(false, None, 100, NOW)
                    .await
                    .expect("list")
                    .into_iter()
                    .map(|t| t.id)
                    .collect();
                assert_eq!(active, ["multi"]);
                let all = f.pki.list_tokens(true, None, 100, NOW).await.expect("list");
                assert_eq!(all.len(), 3);
                // Pages of one follow each other newest first, without repeats or gaps.
                let mut paged = Vec::new();
                let mut after: Option<(i64, String)> = None;
                loop {
                    let page = f
                        .pki
                        .list_tokens(
                            true,
                            after.as_ref().map(|(at, id)| (*at, id.as_str())),
                            1,
                            NOW,
                        )
                        .await
                        .expect("page");
                    let Some(last) = page.last() else { break };
                    after = Some((last.created_at, last.id.clone()));
                    paged.extend(page.into_iter().map(|t| t.id));
                }
                assert_eq!(paged, all.into_iter().map(|t| t.id).collect::<Vec<_>>());
                let revoked = f
                    .pki
                    .revoke_token("multi", NOW)
                    .await
                    .expect("revoke")
                    .expect("exists");
                assert_eq!(revoked.revoked_at, Some(NOW));
                assert_eq!(revoked.uses, 3);
                assert!(
                    f.pki.use_token(&[2; 32], NOW).await.expect("use").is_none(),
                    "revoked"
                );
                assert!(f
                    .pki
                    .revoke_token("nope", NOW)
                    .await
                    .expect("revoke")
                    .is_none());
            }

            #[tokio::test]
            async fn an_ota_session_is_bound_to_one_device_once() {
                let Some(f) = store().await else { return };
                let session = |id: &str, sha: u8, expires_at| NewSession {
                    id: id.into(),
                    challenge_sha256: vec![sha; 32],
                    enrollment_token_id: "token-1".into(),
                    user_name: None,
                    expires_at,
                };
                f.pki
                    .create_session(&session("s1", 1, NOW + 1000), NOW)
                    .await
                    .expect("create");
                f.pki
                    .create_session(&session("s2", 2, NOW - 1), NOW - 10)
                    .await
                    .expect("create");
                let bound = f
                    .pki
                    .verify_session(&[1; 32], "UDID-1", Some("SERIAL"), None, NOW)
                    .await
                    .expect("verify")
                    .expect("valid");
                assert_eq!(
                    (bound.id.as_str(), bound.udid.as_deref()),
                    ("s1", Some("UDID-1"))
                );
                assert!(
                    f.pki
                        .verify_session(&[1; 32], "UDID-2", None, None, NOW)
                        .await
                        .expect("verify")
                        .is_none(),
                    "once"
                );
                assert!(
                    f.pki
                        .verify_session(&[2; 32], "UDID-1", None, None, NOW)
                        .await
                        .expect("verify")
                        .is_none(),
                    "expired"
                );
                let read = f.pki.session("s1").await.expect("get").expect("found");
                assert_eq!(read.verified_at, Some(NOW));
            }
        }
    };
}

provisioning_suite!(sqlite);
provisioning_suite!(postgres);
