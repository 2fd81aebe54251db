//! command-svc's event outbox on SQLite and PostgreSQL: every change a command goes through
//! leaves its event in the same transaction (queued per target, delivered once, the device's
//! answer with its report, cancelled, expired); a change that rolls back leaves none; an
//! acknowledged event is gone; with the outbox switched off the cycle records none.

use command_svc::store::{NewCommand, QueueStore, Reported, Target, PULL_EVENTS};
use mdm_core::CommandStatus;
use mdm_proto::v1::Event;
use service_kit::db::{DatabaseConfig, Db};
use service_kit::events::Outbox;

struct Fixture {
    store: QueueStore,
    outbox: Outbox,
    db: Db,
    _keep: Box<dyn std::any::Any>,
}

async fn sqlite() -> Option<Fixture> {
    open(testkit::Engine::Sqlite).await
}

async fn postgres() -> Option<Fixture> {
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

async fn fixture(db: Db, keep: Box<dyn std::any::Any>) -> Fixture {
    Fixture {
        store: QueueStore::open(db.clone()).await.expect("migrations"),
        outbox: Outbox::with_pull_query(db.clone(), PULL_EVENTS),
        db,
        _keep: keep,
    }
}

const NOW: i64 = 1_700_000_000_000;

async fn enqueue(store: &QueueStore, uuid: &str, targets: &[&str], expires_at: Option<i64>) {
    let targets: Vec<Target> = targets
        .iter()
        .map(|t| Target {
            enrollment_id: t.to_string(),
            generation: 1,
        })
        .collect();
    store
        .enqueue(
            &NewCommand {
                command_uuid: uuid,
                request_type: "DeviceInformation",
                payload: b"<plist/>",
                priority: 0,
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
}

/// The events waiting, as (type, enrollment, CommandUUID, status).
async fn pending(f: &Fixture) -> Vec<(String, String, String, String)> {
    f.outbox
        .pull(1000)
        .await
        .expect("pull")
        .into_iter()
        .map(|e| (e.r#type, e.enrollment_id, e.command_uuid, e.status))
        .collect()
}

fn event(kind: &str, device: &str, uuid: &str, status: &str) -> (String, String, String, String) {
    (kind.into(), device.into(), uuid.into(), status.into())
}

async fn drain(f: &Fixture) -> Vec<Event> {
    let events = f.outbox.pull(1000).await.expect("pull");
    let positions: Vec<i64> = events.iter().map(|e| e.position).collect();
    f.outbox.ack(&positions).await.expect("ack");
    events
}

macro_rules! outbox_suite {
    ($engine:ident) => {
        mod $engine {
            use super::*;

            #[tokio::test]
            async fn every_step_of_a_command_leaves_its_event() {
                let Some(f) = super::$engine().await else {
                    return;
                };
                enqueue(&f.store, "C1", &["D1", "D2"], None).await;
                assert_eq!(
                    pending(&f).await,
                    [
                        event("command.queued", "D1", "C1", ""),
                        event("command.queued", "D2", "C1", ""),
                    ]
                );
                drain(&f).await;

                // Sent once: a second Idle serves it again without a second event.
                for _ in 0..2 {
                    let cycle = f
                        .store
                        .cycle("D1", 1, None, "conn-1", true, NOW)
                        .await
                        .expect("cycle");
                    assert_eq!(cycle.next.expect("head").command_uuid, "C1");
                }
                assert_eq!(
                    pending(&f).await,
                    [event("command.delivered", "D1", "C1", "")]
                );
                drain(&f).await;

                let report = b"<plist>acknowledged C1</plist>";
                let answered = Reported {
                    command_uuid: "C1",
                    status: CommandStatus::Acknowledged,
                    body: report,
                    inventory: None,
                };
                f.store
                    .cycle("D1", 1, Some(answered), "conn-1", false, NOW)
                    .await
                    .expect("cycle");
                let events = drain(&f).await;
                assert_eq!(events.len(), 1, "{events:?}");
                let acknowledged = &events[0];
                assert_eq!(acknowledged.r#type, "command.acknowledged");
                assert_eq!(acknowledged.status, "Acknowledged");
                assert_eq!(acknowledged.request_type, "DeviceInformation");
                assert_eq!(
                    acknowledged.raw_payload, report,
                    "the report, joined from its delivery"
                );
                assert!(!acknowledged.id.is_empty());
                // Repeated: nothing recorded, no event.
                f.store
                    .cycle("D1", 1, Some(answered), "conn-1", false, NOW)
                    .await
                    .expect("cycle");
                assert!(pending(&f).await.is_empty());

                // NotNow, then an error on the other device.
                let sent = f
                    .store
                    .cycle("D2", 1, None, "conn-2", true, NOW)
                    .await
                    .expect("cycle");
                assert!(sent.next.is_some());
                let not_now = Reported {
                    command_uuid: "C1",
                    status: CommandStatus::NotNow,
                    body: b"<plist/>",
                    inventory: None,
                };
                f.store
                    .cycle("D2", 1, Some(not_now), "conn-2", false, NOW)
                    .await
                    .expect("cycle");
                let error = Reported {
                    command_uuid: "C1",
                    status: CommandStatus::Error,
                    body: b"<plist>error</plist>",
                    inventory: None,
                };
                f.store
                    .cycle("D2", 1, Some(error), "conn-3", false, NOW)
                    .await
                    .expect("cycle");
                assert_eq!(
                    pending(&f).await,
                    [
                        event("command.delivered", "D2", "C1", ""),
                        event("command.not_now", "D2", "C1", "NotNow"),
                        event("command.error", "D2", "C1", "Error"),
                    ]
                );
                let events = drain(&f).await;
                assert_eq!(events[2].raw_payload, b"<plist>error</plist>");
                assert!(
                    events[1].raw_payload.is_empty(),
                    "a NotNow carries no result"
                );
                assert!(pending(&f).await.is_empty(), "acknowledged events are gone");
            }

            #[tokio::test]
            async fn cancelled_and_expired_deliveries_leave_their_events() {
                let Some(f) = super::$engine().await else {
                    return;
                };
                enqueue(&f.store, "C1", &["D1", "D2"], None).await;
                enqueue(&f.store, "C2", &["D3"], Some(NOW + 10)).await;
                drain(&f).await;
                assert_eq!(
                    f.store.cancel("C1", "ops", NOW).await.expect("cancel"),
                    Some(2)
                );
                // A second cancel withdraws nothing and says nothing.
                f.store.cancel("C1", "ops", NOW).await.expect("cancel");
                let swept = f.store.sweep(NOW + 20, 0, 0).await.expect("sweep");
                assert_eq!(swept.expired, 1);
                let mut events = pending(&f).await;
                events.sort();
                assert_eq!(
                    events,
                    [
                        event("command.cancelled", "D1", "C1", "Cancelled"),
                        event("command.cancelled", "D2", "C1", "Cancelled"),
                        event("command.expired", "D3", "C2", "Expired"),
                    ]
                );
            }

            #[tokio::test]
            async fn a_change_that_rolls_back_leaves_no_event() {
                let Some(f) = super::$engine().await else {
                    return;
                };
                enqueue(&f.store, "C1", &["D1"], None).await;
                f.store
                    .cycle("D1", 1, None, "conn-1", true, NOW)
                    .await
                    .expect("cycle");
                drain(&f).await;
                // The inventory outbox refuses writes: the result's transaction fails after
                // its event was written, and takes the event with it.
                refuse_inventory_writes(&f.db).await;
                let answered = Reported {
                    command_uuid: "C1",
                    status: CommandStatus::Acknowledged,
                    body: b"<plist/>",
                    inventory: Some(b"inventory"),
                };
                let failed = f
                    .store
                    .cycle("D1", 1, Some(answered), "conn-1", false, NOW)
                    .await;
                assert!(failed.is_err(), "the write was refused");
                assert!(
                    pending(&f).await.is_empty(),
                    "an event for a change that rolled back"
                );
                let head = f
                    .store
                    .next_command("D1", 1, "conn-1", true, NOW)
                    .await
                    .expect("next");
                assert_eq!(head.expect("still queued").command_uuid, "C1");
            }

            #[tokio::test]
            async fn switched_off_the_cycle_records_no_command_events() {
                let Some(f) = super::$engine().await else {
                    return;
                };
                let store = f.store.clone().with_events(false);
                enqueue(&store, "C1", &["D1"], None).await;
                store
                    .cycle("D1", 1, None, "conn-1", true, NOW)
                    .await
                    .expect("cycle");
                let answered = Reported {
                    command_uuid: "C1",
                    status: CommandStatus::Acknowledged,
                    body: b"<plist/>",
                    inventory: None,
                };
                let cycle = store
                    .cycle("D1", 1, Some(answered), "conn-1", false, NOW)
                    .await
                    .expect("cycle");
                assert!(cycle.recorded);
                assert!(pending(&f).await.is_empty());
            }
        }
    };
}

/// Makes every insert into the inventory outbox fail, on either engine.
async fn refuse_inventory_writes(db: &Db) {
    match db {
        Db::Sqlite(pool) => {
            sqlx::query(
                "CREATE TRIGGER refuse BEFORE INSERT ON inventory_outbox
                 BEGIN SELECT RAISE(ABORT, 'refused for the test'); END",
            )
            .execute(pool)
            .await
            .expect("trigger");
        }
        Db::Postgres(pool) => {
            for statement in [
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$",
                "CREATE TRIGGER refuse BEFORE INSERT ON inventory_outbox
                 FOR EACH ROW EXECUTE FUNCTION refuse()",
            ] {
                sqlx::query(statement).execute(pool).await.expect("trigger");
            }
        }
    }
}

outbox_suite!(sqlite);
outbox_suite!(postgres);
