//! push-svc's event outbox on SQLite and PostgreSQL: each push outcome, each target made inactive
//! and the push certificate's coming expiry leave their events with the change, once.

mod common;

use common::{Database, Engine};
use push_svc::outcome::Outcome;
use push_svc::store::{NewCertificate, NewTarget, PushStore, ResultGroup};
use service_kit::db::{DatabaseConfig, Db};
use service_kit::events::Outbox;
use testkit::pki::PUSH_TOPIC;

const DAY: i64 = 86_400_000;

async fn open(engine: Engine) -> Option<(PushStore, Outbox, Database)> {
    let db = Database::create(engine).await?;
    let pool = Db::connect(&DatabaseConfig::default(), &db.url)
        .await
        .expect("connect");
    let store = PushStore::open(pool.clone()).await.expect("migrations");
    Some((store, Outbox::new(pool), db))
}

/// The events waiting, as (type, enrollment, status), sorted; then acknowledged.
async fn drain(outbox: &Outbox) -> Vec<(String, String, String)> {
    let events = outbox.pull(1000).await.expect("pull");
    let positions: Vec<i64> = events.iter().map(|e| e.position).collect();
    outbox.ack(&positions).await.expect("ack");
    let mut events: Vec<(String, String, String)> = events
        .into_iter()
        .map(|e| (e.r#type, e.enrollment_id, e.status))
        .collect();
    events.sort();
    events
}

fn event(kind: &str, id: &str, status: &str) -> (String, String, String) {
    (kind.into(), id.into(), status.into())
}

async fn register(store: &PushStore, ids: &[&str], at: i64) {
    for id in ids {
        let target = NewTarget {
            enrollment_id: id,
            device_id: id,
            token: &[1],
            push_magic: "magic",
            topic: PUSH_TOPIC,
        };
        store.register_target(&target, at).await.expect("register");
    }
}

fn group(outcome: Outcome, reason: &str, ids: &[&str]) -> ResultGroup {
    ResultGroup {
        outcome,
        reason: reason.into(),
        enrollment_ids: ids.iter().map(|s| s.to_string()).collect(),
    }
}

macro_rules! events_suite {
    ($module:ident, $engine:ident) => {
        mod $module {
            use super::*;

            #[tokio::test]
            async fn push_outcomes_and_inactivity_leave_their_events() {
                let Some((store, outbox, _db)) = open(Engine::$engine).await else {
                    return;
                };
                register(&store, &["SILENT"], 1_000).await;
                register(&store, &["OK", "GONE", "BAD"], 5_000).await;
                let groups = [
                    group(Outcome::Delivered, "", &["OK"]),
                    group(Outcome::Unregistered, "Unregistered", &["GONE"]),
                    group(Outcome::BadToken, "BadDeviceToken", &["BAD"]),
                    // Not attempted: nothing happened, nothing to say.
                    group(Outcome::NoTarget, "", &["NOBODY"]),
                ];
                store.record_results(&groups, 5_500).await.expect("record");
                assert_eq!(
                    drain(&outbox).await,
                    [
                        event("enrollment.inactive", "GONE", "unregistered"),
                        event("push.delivered", "OK", "delivered"),
                        event("push.failed", "BAD", "bad_token"),
                        event("push.failed", "GONE", "unregistered"),
                    ]
                );
                // Silent since 1,000: inactive once, however often the sweep runs.
                assert_eq!(
                    store
                        .mark_silent_inactive(4_000, 6_000)
                        .await
                        .expect("sweep"),
                    1
                );
                assert_eq!(
                    store
                        .mark_silent_inactive(4_000, 7_000)
                        .await
                        .expect("sweep"),
                    0
                );
                let events = outbox.pull(10).await.expect("pull");
                assert_eq!(events.len(), 1, "{events:?}");
                assert_eq!(
                    (events[0].r#type.as_str(), events[0].enrollment_id.as_str()),
                    ("enrollment.inactive", "SILENT")
                );
                assert_eq!(events[0].attributes_json, r#"{"reason":"silent"}"#);
            }

            #[tokio::test]
            async fn a_certificate_near_expiry_is_announced_once() {
                let Some((store, outbox, _db)) = open(Engine::$engine).await else {
                    return;
                };
                let now = 1_700_000_000_000;
                let certificate = NewCertificate {
                    topic: PUSH_TOPIC,
                    environment: "production",
                    chain_pem: "-----BEGIN CERTIFICATE-----",
                    sealed_key: b"sealed",
                    sha256: "00",
                    subject: "CN=test",
                    issuer: "CN=Apple",
                    serial: "01",
                    not_before: now - DAY,
                    not_after: now + 20 * DAY,
                    uploaded_by: "ops",
                };
                store
                    .insert_certificate(&certificate, false, now)
                    .await
                    .expect("insert");
                assert!(!store
                    .notify_expiring(now + 10 * DAY, now)
                    .await
                    .expect("not yet"));
                assert!(store
                    .notify_expiring(now + 30 * DAY, now)
                    .await
                    .expect("now"));
                assert!(!store
                    .notify_expiring(now + 30 * DAY, now)
                    .await
                    .expect("once"));
                let events = outbox.pull(10).await.expect("pull");
                assert_eq!(events.len(), 1, "{events:?}");
                assert_eq!(events[0].r#type, "push.certificate_expiring");
                assert_eq!(events[0].enrollment_id, "");
                let attributes: serde_json::Value =
                    serde_json::from_str(&events[0].attributes_json).expect("JSON");
                assert_eq!(attributes["days_left"], 20);
                assert_eq!(attributes["topic"], PUSH_TOPIC);
            }
        }
    };
}

events_suite!(sqlite, Sqlite);
events_suite!(postgres, Postgres);
