//! One behavioural suite for push-svc's storage, run against SQLite and PostgreSQL (each test
//! gets a fresh database): targets and their outcomes, activity, the inactivity sweep (with
//! real pushes to the mock APNs), and the one-topic certificate guard.

mod common;

use common::{Database, Engine};
use mdm_proto::v1::UploadCertificateRequest;
use push_svc::apns::ApnsSettings;
use push_svc::config::{ApnsConfig, SweepConfig};
use push_svc::current::CertificateCache;
use push_svc::deliver::Pusher;
use push_svc::metrics::Metrics;
use push_svc::outcome::Outcome;
use push_svc::store::{NewTarget, PushStore, ResultGroup, TargetStatus};
use push_svc::sweep::{SweepReport, Sweeper};
use push_svc::upload::Certificates;
use service_kit::db::{DatabaseConfig, Db};
use service_kit::secrets::SecretBox;
use std::sync::Arc;
use std::time::Duration;
use testkit::pki::PUSH_TOPIC;
use testkit::ApnsFixture;

const HOUR: i64 = 3_600_000;

async fn store(engine: Engine) -> Option<(PushStore, Database)> {
    let db = Database::create(engine).await?;
    let pool = Db::connect(&DatabaseConfig::default(), &db.url)
        .await
        .expect("connect");
    Some((PushStore::open(pool).await.expect("migrations"), db))
}

/// Registers each of `ids` as a device channel with token `[1]` at time 1,000.
async fn register(store: &PushStore, ids: &[&str]) {
    for id in ids {
        store
            .register_target(&target(id, id, &[1]), 1_000)
            .await
            .expect("register");
    }
}

fn target<'a>(id: &'a str, device: &'a str, token: &'a [u8]) -> NewTarget<'a> {
    NewTarget {
        enrollment_id: id,
        device_id: device,
        token,
        push_magic: "magic",
        topic: PUSH_TOPIC,
    }
}

fn group(outcome: Outcome, reason: &str, ids: &[&str]) -> ResultGroup {
    ResultGroup {
        outcome,
        reason: reason.into(),
        enrollment_ids: ids.iter().map(|s| s.to_string()).collect(),
    }
}

macro_rules! store_suite {
    ($module:ident, $engine:ident) => {
        mod $module {
            use super::*;

            async fn open() -> Option<(PushStore, Database)> {
                super::store(Engine::$engine).await
            }

            #[tokio::test]
            async fn targets_register_replace_and_leave_with_their_device() {
                let Some((store, _db)) = open().await else {
                    return;
                };
                store
                    .register_target(&target("D1", "D1", &[1]), 1_000)
                    .await
                    .expect("device");
                store
                    .register_target(&target("D1:U", "D1", &[2]), 1_000)
                    .await
                    .expect("user");
                store
                    .register_target(&target("D2", "D2", &[3]), 1_000)
                    .await
                    .expect("other");
                store
                    .register_target(&target("D1", "D1", &[9]), 2_000)
                    .await
                    .expect("replace");
                let d1 = store.target("D1").await.expect("get").expect("exists");
                assert_eq!(
                    (d1.token, d1.registered_at, d1.status),
                    (vec![9], 2_000, TargetStatus::Active)
                );
                let ids: Vec<String> = ["D1", "D2", "NONE"].iter().map(|s| s.to_string()).collect();
                assert_eq!(store.targets(&ids).await.expect("bulk").len(), 2);
                assert_eq!(
                    store.remove_target("D1:U", false).await.expect("user only"),
                    1
                );
                store
                    .register_target(&target("D1:U", "D1", &[2]), 1_000)
                    .await
                    .expect("user");
                assert_eq!(
                    store.remove_target("D1", true).await.expect("whole device"),
                    2
                );
                assert_eq!(
                    store.remove_target("D1", true).await.expect("idempotent"),
                    0
                );
                assert!(
                    store.target("D2").await.expect("get").is_some(),
                    "other device kept"
                );
            }

            #[tokio::test]
            async fn outcomes_flag_and_deactivate_targets() {
                let Some((store, _db)) = open().await else {
                    return;
                };
                register(&store, &["OK", "GONE", "BAD", "CERT"]).await;
                store
                    .record_results(
                        &[
                            group(Outcome::Delivered, "", &["OK"]),
                            group(Outcome::Unregistered, "ExpiredToken", &["GONE"]),
                            group(Outcome::BadToken, "BadDeviceToken", &["BAD"]),
                            group(Outcome::CertificateRejected, "Forbidden", &["CERT"]),
                            group(Outcome::NoTarget, "", &["OK"]),
                        ],
                        5_000,
                    )
                    .await
                    .expect("record");
                let get = |id: &'static str| {
                    let store = store.clone();
                    async move { store.target(id).await.expect("get").expect("exists") }
                };
                let ok = get("OK").await;
                assert_eq!(
                    (ok.last_outcome.as_deref(), ok.last_push_at, ok.flag),
                    (Some("delivered"), Some(5_000), None)
                );
                let gone = get("GONE").await;
                assert_eq!(
                    (gone.status, gone.flag.as_deref(), gone.inactive_at),
                    (TargetStatus::Inactive, Some("ExpiredToken"), Some(5_000))
                );
                let bad = get("BAD").await;
                assert_eq!(
                    (bad.status, bad.flag.as_deref()),
                    (TargetStatus::Active, Some("BadDeviceToken"))
                );
                let cert = get("CERT").await;
                assert_eq!(
                    (cert.flag, cert.last_reason.as_deref()),
                    (None, Some("Forbidden"))
                );
                // A new TokenUpdate makes an unregistered target active and clean again.
                store
                    .register_target(&target("GONE", "GONE", &[2]), 6_000)
                    .await
                    .expect("again");
                let gone = get("GONE").await;
                assert_eq!(
                    (gone.status, gone.flag, gone.inactive_at),
                    (TargetStatus::Active, None, None)
                );
            }

            #[tokio::test]
            async fn targets_are_counted_by_status() {
                let Some((store, _db)) = open().await else {
                    return;
                };
                let count = |status| {
                    let store = store.clone();
                    async move { store.count_targets(status).await.expect("count") }
                };
                assert_eq!(count(TargetStatus::Active).await, 0);
                register(&store, &["D1", "D2", "D3"]).await;
                store
                    .record_results(
                        &[group(Outcome::Unregistered, "Unregistered", &["D2"])],
                        2_000,
                    )
                    .await
                    .expect("record");
                assert_eq!(
                    (
                        count(TargetStatus::Active).await,
                        count(TargetStatus::Inactive).await
                    ),
                    (2, 1)
                );
            }

            #[tokio::test]
            async fn the_sweep_wakes_the_silent_and_retires_the_silent_too_long() {
                let Some((store, _db)) = open().await else {
                    return;
                };
                let apns = ApnsFixture::start();
                let secrets = SecretBox::from_base64(common::SECRET_KEY).expect("key");
                let settings = ApnsSettings::from_config(&ApnsConfig {
                    production_url: apns.mock().url(),
                    ca_files: vec![apns.ca_file.clone()],
                    ..ApnsConfig::default()
                })
                .expect("settings");
                let metrics = Metrics::default();
                let cache = Arc::new(CertificateCache::new(
                    store.clone(),
                    secrets.clone(),
                    settings,
                    Duration::ZERO,
                    metrics.clone(),
                ));
                Certificates::new(store.clone(), secrets, 30)
                    .upload(
                        &UploadCertificateRequest {
                            pem: apns.push_pem().into_bytes(),
                            ..Default::default()
                        },
                        &cache,
                    )
                    .await
                    .expect("upload");
                let pusher = Pusher::new(store.clone(), cache, metrics.clone(), 100);
                let policy = SweepConfig {
                    push_after_secs: 24 * 3600,
                    inactive_after_secs: 7 * 24 * 3600,
                    ..SweepConfig::default()
                };
                let sweeper = Sweeper {
                    store: &store,
                    pusher: &pusher,
                    metrics: &metrics,
                    policy: &policy,
                };

                let t0 = service_kit::now_ms();
                for (n, id) in ["QUIET", "CHATTY"].iter().enumerate() {
                    store
                        .register_target(&target(id, id, &common::token(n as u32)), t0)
                        .await
                        .expect("register");
                }
                let quiet_token = hex::encode(common::token(0));
                // An hour later nobody is due.
                assert_eq!(
                    sweeper.sweep_once(t0 + HOUR).await.expect("sweep"),
                    SweepReport::default()
                );
                // Two days on, CHATTY has connected meanwhile; QUIET is woken once.
                let ids = vec!["CHATTY".to_string()];
                store
                    .record_activity(&ids, t0 + 47 * HOUR)
                    .await
                    .expect("activity");
                let report = sweeper.sweep_once(t0 + 48 * HOUR).await.expect("sweep");
                assert_eq!(
                    report,
                    SweepReport {
                        marked_inactive: 0,
                        pushed: 1
                    }
                );
                assert_eq!(apns.mock().deliveries_to(&quiet_token).len(), 1);
                assert_eq!(
                    sweeper
                        .sweep_once(t0 + 49 * HOUR)
                        .await
                        .expect("sweep")
                        .pushed,
                    0,
                    "once per period"
                );
                // Past a week of silence QUIET is inactive (visible as status and flag).
                let report = sweeper.sweep_once(t0 + 8 * 24 * HOUR).await.expect("sweep");
                assert_eq!(report.marked_inactive, 1, "{report:?}");
                let quiet = store.target("QUIET").await.expect("get").expect("exists");
                assert_eq!(
                    (quiet.status, quiet.flag.as_deref()),
                    (TargetStatus::Inactive, Some("silent"))
                );
                // A device that connects again is active again.
                store
                    .record_activity(&["QUIET".to_string()], t0 + 9 * 24 * HOUR)
                    .await
                    .expect("back");
                let quiet = store.target("QUIET").await.expect("get").expect("exists");
                assert_eq!((quiet.status, quiet.flag), (TargetStatus::Active, None));
            }

            #[tokio::test]
            async fn certificates_keep_their_topics_and_a_short_history() {
                let Some((store, _db)) = open().await else {
                    return;
                };
                let new = |topic: &'static str| push_svc::store::NewCertificate {
                    topic,
                    environment: "production",
                    chain_pem: "PEM",
                    sealed_key: b"sealed",
                    sha256: "00",
                    subject: "s",
                    issuer: "i",
                    serial: "01",
                    not_before: 0,
                    not_after: i64::MAX,
                    uploaded_by: "test",
                };
                assert!(store
                    .certificate_versions()
                    .await
                    .expect("versions")
                    .is_empty());
                let mut last = 0;
                for _ in 0..12 {
                    last = store
                        .insert_certificate(&new("com.apple.mgmt.A"), false, 1)
                        .await
                        .expect("insert");
                }
                assert_eq!(
                    store.certificate_versions().await.expect("versions"),
                    [("com.apple.mgmt.A".to_owned(), last)]
                );
                // Another topic only when asked for: a renewal that changed topic is refused.
                let err = store
                    .insert_certificate(&new("com.apple.mgmt.B"), false, 1)
                    .await
                    .expect_err("other topic");
                assert!(
                    matches!(err, push_svc::Error::TopicChange { .. }),
                    "{err:?}"
                );
                let b = store
                    .insert_certificate(&new("com.apple.mgmt.B"), true, 2)
                    .await
                    .expect("a second topic");
                // The first topic stays first; each keeps its own current version.
                let current = store.current_certificates().await.expect("current");
                let topics: Vec<(&str, i64)> = current
                    .iter()
                    .map(|c| (c.topic.as_str(), c.version))
                    .collect();
                assert_eq!(
                    topics,
                    [("com.apple.mgmt.A", last), ("com.apple.mgmt.B", b)]
                );
                store
                    .record_certificate_error(last, "403 Forbidden", 7)
                    .await
                    .expect("error");
                let first = store
                    .current_certificate()
                    .await
                    .expect("current")
                    .expect("exists");
                assert_eq!(
                    (first.version, first.last_error.as_deref()),
                    (last, Some("403 Forbidden"))
                );
                // The history is kept per topic: B's one version survived A's twelve.
                assert_eq!(
                    store.certificate_versions().await.expect("versions").len(),
                    2
                );
            }
        }
    };
}

store_suite!(sqlite, Sqlite);
store_suite!(postgres, Postgres);
