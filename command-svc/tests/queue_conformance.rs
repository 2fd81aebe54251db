//! One behavioural suite for the queue store, run against SQLite and PostgreSQL (each test on
//! a fresh database).

use command_svc::store::{
    CommandFilter, DeliveryStatus, EnqueueOutcome, NewCommand, QueueStore, Reported, Target,
};
use mdm_core::CommandStatus;
use service_kit::db::{DatabaseConfig, Db};

pub struct Fixture {
    pub store: QueueStore,
    _keep: Box<dyn std::any::Any>,
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
    Some(Fixture {
        store: QueueStore::open(db).await.expect("migrations"),
        _keep: database.keep,
    })
}

const NOW: i64 = 1_700_000_000_000;

/// The enrollments' generation in most tests.
const G: i64 = 1;

/// Queues a command named `uuid` (its order among commands is its UUID's order, as with UUIDv7)
/// for generation [`G`] of its targets.
async fn enqueue(
    store: &QueueStore,
    uuid: &str,
    targets: &[&str],
    priority: i32,
    expires_at: Option<i64>,
) {
    enqueue_for(store, uuid, targets, G, priority, expires_at).await;
}

/// Queues a command for one generation of its targets.
async fn enqueue_for(
    store: &QueueStore,
    uuid: &str,
    targets: &[&str],
    generation: i64,
    priority: i32,
    expires_at: Option<i64>,
) {
    let targets: Vec<Target> = targets
        .iter()
        .map(|t| Target {
            enrollment_id: t.to_string(),
            generation,
        })
        .collect();
    let payload = format!("<plist>{uuid}</plist>");
    let outcome = store
        .enqueue(
            &NewCommand {
                command_uuid: uuid,
                request_type: "DeviceInformation",
                payload: payload.as_bytes(),
                priority,
                expires_at,
                idempotency_key: None,
                requested_by: "test",
                reason: "",
                targets: &targets,
                audit: false,
            },
            NOW,
        )
        .await
        .expect("enqueue");
    assert_eq!(outcome, EnqueueOutcome::Queued);
}

async fn head(store: &QueueStore, id: &str, connection: &str, idle: bool) -> Option<String> {
    store
        .next_command(id, G, connection, idle, NOW)
        .await
        .expect("next")
        .map(|n| n.command_uuid)
}

macro_rules! queue_suite {
    ($engine:ident) => {
        mod $engine {
            use super::*;

            async fn store() -> Option<Fixture> {
                super::$engine().await
            }

            #[tokio::test]
            async fn the_head_stays_until_a_final_status() {
                let Some(f) = store().await else { return };
                enqueue(&f.store, "C1", &["D1"], 0, None).await;
                enqueue(&f.store, "C2", &["D1"], 0, None).await;
                let first = f
                    .store
                    .next_command("D1", G, "conn", true, NOW)
                    .await
                    .expect("next")
                    .expect("queued");
                assert_eq!(
                    (first.command_uuid.as_str(), first.payload.as_slice()),
                    ("C1", &b"<plist>C1</plist>"[..])
                );
                assert!(!first.sent_before);
                f.store.mark_sent("D1", "C1", NOW).await.expect("sent");
                // Asked again (Idle without an answer): the same head, known to be sent.
                let again = f
                    .store
                    .next_command("D1", G, "conn", true, NOW)
                    .await
                    .expect("next")
                    .expect("queued");
                assert_eq!(again.command_uuid, "C1");
                assert!(again.sent_before);
                assert!(f
                    .store
                    .record_status(
                        "D1",
                        "C1",
                        CommandStatus::Acknowledged,
                        b"result",
                        None,
                        "conn",
                        NOW
                    )
                    .await
                    .expect("ack"));
                assert_eq!(
                    head(&f.store, "D1", "conn", false).await.as_deref(),
                    Some("C2")
                );
                // A repeated status changes nothing.
                assert!(!f
                    .store
                    .record_status("D1", "C1", CommandStatus::Error, b"late", None, "conn", NOW)
                    .await
                    .expect("repeat"));
                let history = f
                    .store
                    .deliveries_for("D1", None, 10)
                    .await
                    .expect("history");
                let c1 = history
                    .iter()
                    .find(|d| d.command_uuid == "C1")
                    .expect("kept");
                assert_eq!(c1.status, DeliveryStatus::Acknowledged);
                assert_eq!(c1.result.as_deref(), Some(&b"result"[..]));
                assert_eq!(c1.sent_at, Some(NOW));
            }

            #[tokio::test]
            async fn the_report_cycle_records_picks_the_head_and_marks_it_sent() {
                let Some(f) = store().await else { return };
                enqueue(&f.store, "C1", &["D1"], 0, None).await;
                enqueue(&f.store, "C2", &["D1"], 0, None).await;
                enqueue(&f.store, "C3", &["D1"], 0, None).await;
                let answered = |uuid, status| {
                    Some(Reported {
                        command_uuid: uuid,
                        status,
                        body: b"report",
                        inventory: None,
                    })
                };
                let idle = f
                    .store
                    .cycle("D1", G, None, "conn-1", true, NOW)
                    .await
                    .expect("idle");
                let first = idle.next.expect("the head");
                assert_eq!(
                    (first.command_uuid.as_str(), first.sent_before),
                    ("C1", false)
                );
                // Asked again without an answer: the same head, now known to be sent.
                let again = f
                    .store
                    .cycle("D1", G, None, "conn-1", true, NOW)
                    .await
                    .expect("idle");
                assert!(again.next.expect("the head").sent_before);

                // NotNow: skipped for the rest of the connection, the next one comes.
                let later = f
                    .store
                    .cycle(
                        "D1",
                        G,
                        answered("C1", CommandStatus::NotNow),
                        "conn-1",
                        false,
                        NOW,
                    )
                    .await
                    .expect("notnow");
                assert!(later.recorded);
                assert_eq!(later.next.expect("next").command_uuid, "C2");

                // A final status dequeues with the report kept; the next comes in the same call.
                let acked = f
                    .store
                    .cycle(
                        "D1",
                        G,
                        answered("C2", CommandStatus::Acknowledged),
                        "conn-1",
                        false,
                        NOW,
                    )
                    .await
                    .expect("ack");
                assert!(acked.recorded);
                assert_eq!(acked.next.expect("next").command_uuid, "C3");
                let repeated = f
                    .store
                    .cycle(
                        "D1",
                        G,
                        answered("C2", CommandStatus::Error),
                        "conn-1",
                        false,
                        NOW,
                    )
                    .await
                    .expect("repeat");
                assert!(!repeated.recorded, "a repeated status changes nothing");
                let done = f
                    .store
                    .cycle(
                        "D1",
                        G,
                        answered("C3", CommandStatus::Acknowledged),
                        "conn-1",
                        false,
                        NOW,
                    )
                    .await
                    .expect("ack");
                assert_eq!(done.next, None, "C1 waits for the next Idle");
                let idle = f
                    .store
                    .cycle("D1", G, None, "conn-1", true, NOW)
                    .await
                    .expect("idle");
                assert_eq!(idle.next.expect("C1 again").command_uuid, "C1");

                let history = f
                    .store
                    .deliveries_for("D1", None, 10)
                    .await
                    .expect("history");
                let by_uuid = |uuid: &str| {
                    history
                        .iter()
                        .find(|d| d.command_uuid == uuid)
                        .expect("kept")
                        .clone()
                };
                let (c1, c2) = (by_uuid("C1"), by_uuid("C2"));
                assert_eq!((c1.status, c1.not_now_count), (DeliveryStatus::Queued, 1));
                assert_eq!(c2.status, DeliveryStatus::Acknowledged);
                assert_eq!(c2.result.as_deref(), Some(&b"report"[..]));
                assert!(history.iter().all(|d| d.sent_at == Some(NOW)));
            }

            #[tokio::test]
            async fn not_now_skips_for_the_connection_until_idle() {
                let Some(f) = store().await else { return };
                enqueue(&f.store, "C1", &["D1"], 0, None).await;
                enqueue(&f.store, "C2", &["D1"], 0, None).await;
                assert!(f
                    .store
                    .record_status("D1", "C1", CommandStatus::NotNow, b"", None, "conn-1", NOW)
                    .await
                    .expect("notnow"));
                assert_eq!(
                    head(&f.store, "D1", "conn-1", false).await.as_deref(),
                    Some("C2"),
                    "skipped on this connection"
                );
                assert_eq!(
                    head(&f.store, "D1", "conn-2", false).await.as_deref(),
                    Some("C1"),
                    "a new connection gets it"
                );
                assert_eq!(
                    head(&f.store, "D1", "conn-1", true).await.as_deref(),
                    Some("C1"),
                    "Idle starts over"
                );
                f.store
                    .record_status("D1", "C2", CommandStatus::NotNow, b"", None, "conn-1", NOW)
                    .await
                    .expect("notnow");
                assert_eq!(
                    head(&f.store, "D1", "conn-1", false).await,
                    None,
                    "empty for the rest of the connection"
                );
                let history = f
                    .store
                    .deliveries_for("D1", None, 10)
                    .await
                    .expect("history");
                assert!(history
                    .iter()
                    .all(|d| d.status == DeliveryStatus::Queued && d.not_now_count == 1));
            }

            #[tokio::test]
            async fn priority_orders_and_expiry_hides() {
                let Some(f) = store().await else { return };
                enqueue(&f.store, "C1", &["D1"], 0, None).await;
                enqueue(&f.store, "C2", &["D1"], 10, None).await;
                enqueue(&f.store, "C0", &["D1"], 20, Some(NOW - 1)).await;
                assert_eq!(head(&f.store, "D1", "c", true).await.as_deref(), Some("C2"));
                let swept = f.store.sweep(NOW, 0, 0).await.expect("sweep");
                assert_eq!(swept.expired, 1);
                let history = f
                    .store
                    .deliveries_for("D1", None, 10)
                    .await
                    .expect("history");
                assert_eq!(
                    history
                        .iter()
                        .find(|d| d.command_uuid == "C0")
                        .expect("kept")
                        .status,
                    DeliveryStatus::Expired
                );
            }

            #[tokio::test]
            async fn cancel_withdraws_queued_commands() {
                let Some(f) = store().await else { return };
                enqueue(&f.store, "C1", &["D1", "D2"], 0, None).await;
                enqueue(&f.store, "C2", &["D1"], 0, None).await;
                f.store
                    .record_status(
                        "D2",
                        "C1",
                        CommandStatus::Acknowledged,
                        b"r",
                        None,
                        "c",
                        NOW,
                    )
                    .await
                    .expect("ack");
                assert_eq!(
                    f.store.cancel("C1", "ops", NOW).await.expect("cancel"),
                    Some(1),
                    "only D1's was still queued"
                );
                assert_eq!(
                    f.store.cancel("NOPE", "ops", NOW).await.expect("cancel"),
                    None
                );
                assert_eq!(head(&f.store, "D1", "c", true).await.as_deref(), Some("C2"));
                let deliveries = f
                    .store
                    .deliveries_of("C1", None, "", 10)
                    .await
                    .expect("deliveries");
                assert_eq!(deliveries.len(), 2);
                let cancelled = f.store.command("C1").await.expect("get").expect("kept");
                assert_eq!(
                    (cancelled.cancelled_at, cancelled.cancelled_by.as_deref()),
                    (Some(NOW), Some("ops")),
                    "a cancelled command stays readable, marked"
                );
                let mut counts = f.store.status_counts("C1").await.expect("counts");
                counts.sort();
                assert_eq!(
                    counts,
                    vec![("acknowledged".into(), 1), ("cancelled".into(), 1)]
                );
            }

            #[tokio::test]
            async fn a_new_generation_never_gets_what_was_queued_for_an_earlier_one() {
                let Some(f) = store().await else { return };
                // A DeviceLock queued for generation 1; the device re-enrolls (generation 2).
                enqueue_for(&f.store, "C1", &["D1"], 1, 0, None).await;
                // Queued before the device was known: whichever generation asks first.
                enqueue_for(&f.store, "C2", &["D1"], 0, 0, None).await;
                enqueue_for(&f.store, "C3", &["D1"], 2, 0, None).await;
                let idle = f
                    .store
                    .cycle("D1", 2, None, "conn", true, NOW)
                    .await
                    .expect("idle");
                assert_eq!(idle.next.expect("next").command_uuid, "C2");
                let acked = f
                    .store
                    .cycle(
                        "D1",
                        2,
                        Some(Reported {
                            command_uuid: "C2",
                            status: CommandStatus::Acknowledged,
                            body: b"r",
                            inventory: None,
                        }),
                        "conn",
                        false,
                        NOW,
                    )
                    .await
                    .expect("ack");
                assert_eq!(acked.next.expect("next").command_uuid, "C3");
                let history = f
                    .store
                    .deliveries_for("D1", None, 10)
                    .await
                    .expect("history");
                let c1 = history
                    .iter()
                    .find(|d| d.command_uuid == "C1")
                    .expect("kept");
                assert_eq!(c1.status, DeliveryStatus::Superseded);
                assert_eq!(c1.sent_at, None, "never sent");
                // A stale edge still naming generation 1 is not served generation 2's commands.
                assert_eq!(
                    f.store
                        .next_command("D1", 1, "conn", true, NOW)
                        .await
                        .expect("next"),
                    None
                );
            }

            #[tokio::test]
            async fn a_result_and_its_inventory_commit_together() {
                let Some(f) = store().await else { return };
                enqueue(&f.store, "C1", &["D1"], 0, None).await;
                enqueue(&f.store, "C2", &["D1"], 0, None).await;
                let answered = |uuid| Reported {
                    command_uuid: uuid,
                    status: CommandStatus::Acknowledged,
                    body: b"r",
                    inventory: Some(b"facts"),
                };
                f.store
                    .cycle("D1", G, None, "c", true, NOW)
                    .await
                    .expect("idle");
                f.store
                    .cycle("D1", G, Some(answered("C1")), "c", false, NOW)
                    .await
                    .expect("ack");
                // A repeated answer writes nothing more.
                f.store
                    .cycle("D1", G, Some(answered("C1")), "c", false, NOW)
                    .await
                    .expect("repeat");
                assert!(f
                    .store
                    .record_status(
                        "D1",
                        "C2",
                        CommandStatus::Acknowledged,
                        b"r",
                        Some(b"more"),
                        "c",
                        NOW + 1
                    )
                    .await
                    .expect("ack"));
                let pending = f.store.pending_inventory(10).await.expect("outbox");
                let payloads: Vec<&[u8]> =
                    pending.iter().map(|row| row.payload.as_slice()).collect();
                assert_eq!(payloads, [&b"facts"[..], &b"more"[..]]);
                assert_eq!(pending[1].reported_at, NOW + 1);
                f.store
                    .delivered_inventory(&[pending[0].id])
                    .await
                    .expect("delivered");
                assert_eq!(f.store.inventory_backlog().await.expect("backlog").0, 1);
            }

            #[tokio::test]
            async fn waiting_and_refused_deliveries_are_summarized() {
                let Some(f) = store().await else { return };
                assert_eq!(f.store.in_flight().await.expect("in flight"), 0);
                assert!(f.store.recent_errors(10).await.expect("errors").is_empty());
                enqueue(&f.store, "C1", &["D1", "D2", "D3"], 0, None).await;
                enqueue(&f.store, "C2", &["D1"], 0, None).await;
                const DAY: i64 = 86_400_000;
                for (id, uuid, status, report, at) in [
                    ("D1", "C1", CommandStatus::Error, &b"error"[..], NOW),
                    ("D2", "C1", CommandStatus::Acknowledged, b"ok", NOW),
                    (
                        "D1",
                        "C2",
                        CommandStatus::CommandFormatError,
                        b"format",
                        NOW - 2 * DAY,
                    ),
                ] {
                    assert!(f
                        .store
                        .record_status(id, uuid, status, report, None, "c", at)
                        .await
                        .expect("record"));
                }
                assert_eq!(f.store.in_flight().await.expect("in flight"), 1, "D3's C1");
                assert_eq!(f.store.errors_since(NOW - DAY).await.expect("errors"), 1);
                assert_eq!(f.store.errors_since(0).await.expect("errors"), 2);
                let recent = f.store.recent_errors(10).await.expect("errors");
                let seen: Vec<_> = recent
                    .iter()
                    .map(|d| {
                        (
                            d.command_uuid.as_str(),
                            d.status,
                            d.completed_at,
                            d.result.as_deref(),
                            d.request_type.as_str(),
                        )
                    })
                    .collect();
                assert_eq!(
                    seen,
                    [
                        (
                            "C1",
                            DeliveryStatus::Error,
                            Some(NOW),
                            Some(&b"error"[..]),
                            "DeviceInformation"
                        ),
                        (
                            "C2",
                            DeliveryStatus::CommandFormatError,
                            Some(NOW - 2 * DAY),
                            Some(&b"format"[..]),
                            "DeviceInformation"
                        ),
                    ],
                    "newest completed first, with their reports"
                );
                let latest = f.store.recent_errors(1).await.expect("errors");
                assert_eq!(latest.len(), 1);
                assert_eq!(latest[0].command_uuid, "C1");
            }

            #[tokio::test]
            async fn commands_are_listed_newest_first_and_filtered() {
                let Some(f) = store().await else { return };
                enqueue(&f.store, "C1", &["D1"], 0, None).await;
                enqueue(&f.store, "C2", &["D1"], 0, None).await;
                enqueue(&f.store, "C3", &["D1"], 0, None).await;
                let page = |before: Option<&'static str>| {
                    let store = f.store.clone();
                    async move {
                        store
                            .list_commands(&CommandFilter::default(), before, 2)
                            .await
                            .expect("list")
                            .into_iter()
                            .map(|c| c.command_uuid)
                            .collect::<Vec<_>>()
                    }
                };
                assert_eq!(page(None).await, ["C3", "C2"]);
                assert_eq!(page(Some("C2")).await, ["C1"]);
                let none = f
                    .store
                    .list_commands(
                        &CommandFilter {
                            request_type: Some("EraseDevice"),
                            ..Default::default()
                        },
                        None,
                        10,
                    )
                    .await
                    .expect("filtered");
                assert!(none.is_empty());
                let history = f
                    .store
                    .deliveries_for("D1", Some("C3"), 10)
                    .await
                    .expect("older");
                assert_eq!(history.len(), 2);
            }

            #[tokio::test]
            async fn enqueue_is_idempotent_by_key_and_deduplicates_targets() {
                let Some(f) = store().await else { return };
                let targets: Vec<Target> = ["D1", "D2"]
                    .iter()
                    .map(|id| Target {
                        enrollment_id: id.to_string(),
                        generation: G,
                    })
                    .collect();
                let command = |uuid: &'static str| NewCommand {
                    command_uuid: uuid,
                    request_type: "EraseDevice",
                    payload: b"p",
                    priority: 0,
                    expires_at: None,
                    idempotency_key: Some("key-1"),
                    requested_by: "ops",
                    reason: "stolen",
                    targets: &[],
                    audit: true,
                };
                let first = NewCommand {
                    targets: &targets,
                    ..command("C1")
                };
                assert_eq!(
                    f.store.enqueue(&first, NOW).await.expect("first"),
                    EnqueueOutcome::Queued
                );
                let retry = NewCommand {
                    targets: &targets,
                    ..command("C2")
                };
                assert_eq!(
                    f.store.enqueue(&retry, NOW).await.expect("retry"),
                    EnqueueOutcome::Duplicate {
                        command_uuid: "C1".into(),
                        request_type: "EraseDevice".into(),
                        targets: 2
                    }
                );
                assert!(f.store.command("C2").await.expect("get").is_none());
                let audit = f.store.audit_of("C1").await.expect("audit");
                assert_eq!(audit.len(), 2);
                assert_eq!(
                    (audit[0].1.as_str(), audit[0].4.as_str()),
                    ("ops", "stolen")
                );
            }

            #[tokio::test]
            async fn retention_purges_old_results_and_orphaned_commands() {
                let Some(f) = store().await else { return };
                enqueue(&f.store, "C1", &["D1"], 0, None).await;
                enqueue(&f.store, "C2", &["D1"], 0, None).await;
                f.store
                    .record_status(
                        "D1",
                        "C1",
                        CommandStatus::Acknowledged,
                        b"r",
                        None,
                        "c",
                        NOW,
                    )
                    .await
                    .expect("ack");
                let report = f.store.sweep(NOW + 10, NOW + 5, 0).await.expect("sweep");
                assert_eq!((report.purged_deliveries, report.purged_commands), (1, 1));
                assert!(f.store.command("C1").await.expect("get").is_none());
                assert!(
                    f.store.command("C2").await.expect("get").is_some(),
                    "still queued: kept"
                );
            }

            #[tokio::test]
            async fn a_large_enqueue_lands_every_target() {
                let Some(f) = store().await else { return };
                let targets: Vec<String> = (0..5_000).map(|i| format!("DEV-{i:05}")).collect();
                let refs: Vec<&str> = targets.iter().map(String::as_str).collect();
                enqueue(&f.store, "BULK", &refs, 0, None).await;
                let counts = f.store.status_counts("BULK").await.expect("counts");
                assert_eq!(counts, vec![("queued".into(), 5_000)]);
                // Paged in enrollment order without repeats or gaps.
                let mut after = String::new();
                let mut seen = Vec::new();
                loop {
                    let page = f
                        .store
                        .deliveries_of("BULK", None, &after, 1_000)
                        .await
                        .expect("page");
                    let Some(last) = page.last() else { break };
                    after = last.enrollment_id.clone();
                    seen.extend(page.into_iter().map(|d| d.enrollment_id));
                }
                assert_eq!(seen, targets);
                let queued = f
                    .store
                    .deliveries_of("BULK", Some("acknowledged"), "", 10)
                    .await
                    .expect("filtered");
                assert!(queued.is_empty());
                assert_eq!(
                    head(&f.store, "DEV-04999", "c", true).await.as_deref(),
                    Some("BULK")
                );
            }
        }
    };
}

queue_suite!(sqlite);
queue_suite!(postgres);
