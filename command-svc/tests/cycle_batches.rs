//! The cycles of many devices in one statement do exactly what the same cycles do one at a time
//! (PostgreSQL). Two databases get the same queues; the same script of device requests runs on
//! one a request at a time and on the other a round of all devices at once (batched); every
//! answer, every delivery, the inventory outbox and the event outbox must come out the same.
//! The script covers Idle, every final status, NotNow, repeated answers, an answer for a command
//! that was not sent, priorities, generation 0, and a device whose earlier generation is
//! superseded at Idle.

use command_svc::store::{Cycle, NewCommand, QueueStore, Reported, Target, PULL_EVENTS};
use futures::future::join_all;
use mdm_core::CommandStatus;
use service_kit::db::{DatabaseConfig, Db};
use service_kit::events::Outbox;

const NOW: i64 = 1_700_000_000_000;
const DEVICES: usize = 24;
const ROUNDS: usize = 9;
/// The device that starts over (generation 2) in round 3.
const RENEWED: usize = 5;

struct Side {
    store: QueueStore,
    outbox: Outbox,
    _database: Box<dyn std::any::Any>,
}

async fn side() -> Option<Side> {
    let database = testkit::fresh_database(testkit::Engine::Postgres).await?;
    let db = Db::connect(&DatabaseConfig::default(), &database.url)
        .await
        .expect("postgres");
    let store = QueueStore::open(db.clone()).await.expect("migrations");
    queue(&store).await;
    Some(Side {
        store,
        outbox: Outbox::with_pull_query(db, PULL_EVENTS),
        _database: database.keep,
    })
}

fn device(i: usize) -> String {
    format!("D{i:02}")
}

/// Four commands for every device's generation 1, one of higher priority, one for generation
/// 0 (queued before the enrollment was known) to the even devices.
async fn queue(store: &QueueStore) {
    let all: Vec<usize> = (0..DEVICES).collect();
    let even: Vec<usize> = (0..DEVICES).step_by(2).collect();
    for (uuid, priority, generation, targets) in [
        ("C1", 0, 1, &all),
        ("C2", 0, 1, &all),
        ("C3", 5, 1, &all),
        ("C4", 0, 0, &even),
        ("C5", 0, 1, &all),
    ] {
        let targets: Vec<Target> = targets
            .iter()
            .map(|&i| Target {
                enrollment_id: device(i),
                generation,
            })
            .collect();
        store
            .enqueue(
                &NewCommand {
                    command_uuid: uuid,
                    request_type: "DeviceInformation",
                    payload: format!("<plist>{uuid}</plist>").as_bytes(),
                    priority,
                    expires_at: None,
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
}

/// One device request of the script.
#[derive(Debug, Clone)]
struct Request {
    device: usize,
    generation: i64,
    answer: Option<(String, CommandStatus)>,
    connection: String,
    idle: bool,
    now: i64,
}

/// What device `i` asks in `round`, given the command it was last sent (`last`).
fn request(i: usize, round: usize, last: Option<&str>) -> Request {
    let renewed = i == RENEWED && round >= 3;
    let statuses = [
        CommandStatus::Acknowledged,
        CommandStatus::NotNow,
        CommandStatus::Error,
        CommandStatus::Acknowledged,
        CommandStatus::CommandFormatError,
    ];
    let answer = match ((i + round) % 7, last) {
        // Idle: the start of a session, and the renewed device's first request.
        (0, _) | (_, None) => None,
        _ if i == RENEWED && round == 3 => None,
        // An answer for a command this device was never sent: it records nothing.
        (1, _) => Some(("C-unknown".to_owned(), CommandStatus::Acknowledged)),
        (_, Some(uuid)) => Some((uuid.to_owned(), statuses[(i * 3 + round) % statuses.len()])),
    };
    Request {
        device: i,
        generation: if renewed { 2 } else { 1 },
        idle: answer.is_none(),
        answer,
        connection: format!("conn-{i}-{}", round / 3),
        now: NOW + i64::try_from(round).unwrap_or(0) * 1_000,
    }
}

async fn run(store: &QueueStore, r: &Request) -> Cycle {
    let enrollment = device(r.device);
    let inventory = format!("inventory of {enrollment} at {}", r.now);
    let reported = r.answer.as_ref().map(|(uuid, status)| Reported {
        command_uuid: uuid,
        status: *status,
        body: b"<plist>report</plist>",
        inventory: (*status == CommandStatus::Acknowledged).then_some(inventory.as_bytes()),
    });
    store
        .cycle(
            &enrollment,
            r.generation,
            reported,
            &r.connection,
            r.idle,
            r.now,
        )
        .await
        .expect("cycle")
}

#[tokio::test]
async fn a_batch_of_cycles_does_what_the_same_cycles_do_one_by_one() {
    let (Some(alone), Some(together)) = (side().await, side().await) else {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
        return;
    };
    let mut last: Vec<Option<String>> = vec![None; DEVICES];
    for round in 0..ROUNDS {
        let requests: Vec<Request> = (0..DEVICES)
            .map(|i| request(i, round, last[i].as_deref()))
            .collect();
        let mut one_by_one = Vec::new();
        for r in &requests {
            one_by_one.push(run(&alone.store, r).await);
        }
        let at_once = join_all(requests.iter().map(|r| run(&together.store, r))).await;
        assert_eq!(one_by_one, at_once, "round {round}: the same answers");
        for (r, cycle) in requests.iter().zip(&one_by_one) {
            if let Some(next) = &cycle.next {
                last[r.device] = Some(next.command_uuid.clone());
            }
        }
    }

    for i in 0..DEVICES {
        assert_eq!(
            deliveries(&alone.store, &device(i)).await,
            deliveries(&together.store, &device(i)).await,
            "{}",
            device(i)
        );
    }
    let inventory_alone = inventory(&alone.store).await;
    assert!(
        !inventory_alone.is_empty(),
        "acknowledgements carried facts"
    );
    assert_eq!(inventory_alone, inventory(&together.store).await);
    let events_alone = events(&alone.outbox).await;
    assert!(events_alone.iter().any(|e| e.1 == "command.not_now"));
    assert!(events_alone.iter().any(|e| e.1 == "command.error"));
    assert_eq!(events_alone, events(&together.outbox).await);

    let alone_batches = alone.store.cycle_batches().expect("PostgreSQL batches");
    let together_batches = together.store.cycle_batches().expect("PostgreSQL batches");
    assert_eq!(
        alone_batches.batched.get(),
        0,
        "one at a time never batches"
    );
    assert!(
        together_batches.batched.get() >= u64::try_from(DEVICES).unwrap_or(0),
        "the rounds ran batched: {} cycles in {} statements",
        together_batches.batched.get(),
        together_batches.statements.get()
    );
    assert!(
        together_batches.statements.get() < alone_batches.statements.get(),
        "fewer statements for the same cycles"
    );
}

type DeliveryFacts = (
    String,
    &'static str,
    i32,
    Option<i64>,
    Option<i64>,
    Option<Vec<u8>>,
);

/// A device's deliveries: command, status, NotNow count, sent, completed, result.
async fn deliveries(store: &QueueStore, id: &str) -> Vec<DeliveryFacts> {
    let mut rows: Vec<DeliveryFacts> = store
        .deliveries_for(id, None, 100)
        .await
        .expect("deliveries")
        .into_iter()
        .map(|d| {
            (
                d.command_uuid,
                d.status.as_str(),
                d.not_now_count,
                d.sent_at,
                d.completed_at,
                d.result,
            )
        })
        .collect();
    rows.sort();
    rows
}

/// The inventory outbox: device, report time, payload.
async fn inventory(store: &QueueStore) -> Vec<(String, i64, Vec<u8>)> {
    let mut rows: Vec<_> = store
        .pending_inventory(10_000)
        .await
        .expect("inventory outbox")
        .into_iter()
        .map(|row| (row.enrollment_id, row.reported_at, row.payload))
        .collect();
    rows.sort();
    rows
}

type EventFacts = (String, String, String, String, i64, Vec<u8>);

/// The event outbox, per device in the order written: device, type, command, status, time,
/// the report.
async fn events(outbox: &Outbox) -> Vec<EventFacts> {
    let mut pulled = outbox.pull(10_000).await.expect("events");
    pulled.sort_by_key(|e| (e.enrollment_id.clone(), e.position));
    pulled
        .into_iter()
        .map(|e| {
            (
                e.enrollment_id,
                e.r#type,
                e.command_uuid,
                e.status,
                e.occurred_at_ms,
                e.raw_payload,
            )
        })
        .collect()
}
