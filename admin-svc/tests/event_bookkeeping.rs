//! What storing a batch of events does beside storing them, on SQLite and PostgreSQL: a final
//! answer to a command a blueprint run queued counts toward the run once, however often it is
//! pulled; an acknowledged renewal profile moves its renewal to `installed`; answers to every
//! other command change nothing. Ingest reads which commands are awaited once per batch, so the
//! batches here mix awaited and unawaited answers, repeats and answers that are not final.

use admin_svc::store::{AdminStore, Received};
use mdm_proto::v1::Event;
use service_kit::db::{DatabaseConfig, Db};
use service_kit::with_db;
use testkit::Engine;

const DEVICE: &str = "BOOKKEEPING-UDID";
const RUN: &str = "run-1";
const RENEWAL_COMMAND: &str = "renewal-profile";

/// A store on a fresh database, and what keeps the database alive.
struct Fixture {
    store: AdminStore,
    _keep: Box<dyn std::any::Any>,
}

async fn store(engine: Engine) -> Option<Fixture> {
    let database = testkit::fresh_database(engine).await?;
    let db = Db::connect(&DatabaseConfig::default(), &database.url)
        .await
        .expect("database");
    Some(Fixture {
        store: AdminStore::open(db).await.expect("migrations"),
        _keep: database.keep,
    })
}

/// A run waiting for the answers to its three commands, and a renewal whose profile is queued.
async fn seed(store: &AdminStore) {
    let statements = [
        format!(
            "INSERT INTO blueprint_runs (id, blueprint_id, enrollment_id, generation,
                awaiting_configuration, status, queued, answered, total, created_at, updated_at)
             VALUES ('{RUN}', 'blueprint-1', '{DEVICE}', 1, FALSE, 'waiting', 3, 0, 3, 1, 1)"
        ),
        format!(
            "INSERT INTO blueprint_commands (command_uuid, run_id)
             VALUES ('run-command-1', '{RUN}'), ('run-command-2', '{RUN}'), ('run-command-3', '{RUN}')"
        ),
        format!(
            "INSERT INTO identity_renewals (serial, enrollment_id, not_after, status, command_uuid,
                created_at, updated_at)
             VALUES ('0A', '{DEVICE}', 9999999999999, 'queued', '{RENEWAL_COMMAND}', 1, 1)"
        ),
    ];
    for sql in statements {
        with_db!(store.db(), pool => sqlx::query(&sql).execute(pool).await.map(drop))
            .expect("seed");
    }
}

fn answer(id: &str, kind: &str, command_uuid: &str) -> Received {
    Received {
        source: "command-svc",
        event: Event {
            id: id.to_owned(),
            r#type: kind.to_owned(),
            occurred_at_ms: 1_000,
            enrollment_id: DEVICE.to_owned(),
            command_uuid: command_uuid.to_owned(),
            request_type: "InstallProfile".to_owned(),
            status: "Acknowledged".to_owned(),
            ..Event::default()
        },
    }
}

async fn ingest(store: &AdminStore, batch: &[Received]) -> usize {
    store
        .ingest(batch, &[], &[], true, 2_000)
        .await
        .expect("ingest")
        .stored
}

async fn answered_by_the_run(store: &AdminStore) -> i64 {
    let runs = store.runs(None, Some(DEVICE), 10).await.expect("runs");
    runs.iter()
        .find(|run| run.id == RUN)
        .expect("the run")
        .answered
}

async fn answered_commands(store: &AdminStore) -> Vec<String> {
    let sql = "SELECT command_uuid FROM blueprint_commands WHERE answered ORDER BY command_uuid";
    with_db!(store.db(), pool => sqlx::query_scalar::<_, String>(sql).fetch_all(pool).await)
        .expect("blueprint commands")
}

async fn renewal_status(store: &AdminStore) -> String {
    let renewals = store
        .renewals(Some(DEVICE), None, 10)
        .await
        .expect("renewals");
    renewals.first().expect("the renewal").status.clone()
}

async fn answers_advance_what_awaits_them(fixture: Option<Fixture>) {
    let Some(Fixture { store, _keep }) = fixture else {
        return;
    };
    seed(&store).await;
    let first = [
        answer("e1", "command.acknowledged", "run-command-1"),
        answer("e2", "command.acknowledged", "someone-elses-command"),
        answer("e3", "command.not_now", "run-command-3"),
        answer("e4", "command.error", "run-command-2"),
        // The same command answered again (a repeated report): counted once.
        answer("e5", "command.acknowledged", "run-command-1"),
        answer("e6", "command.acknowledged", RENEWAL_COMMAND),
        answer("e7", "command.acknowledged", ""),
    ];
    assert_eq!(ingest(&store, &first).await, first.len());
    assert_eq!(answered_by_the_run(&store).await, 2);
    assert_eq!(
        answered_commands(&store).await,
        ["run-command-1", "run-command-2"]
    );
    assert_eq!(renewal_status(&store).await, "installed");

    // The same events pulled again change nothing; the last answer completes the run.
    assert_eq!(ingest(&store, &first).await, 0);
    let last = [answer("e8", "command.expired", "run-command-3")];
    assert_eq!(ingest(&store, &last).await, 1);
    assert_eq!(answered_by_the_run(&store).await, 3);
    assert_eq!(renewal_status(&store).await, "installed");
}

#[tokio::test]
async fn answers_advance_what_awaits_them_on_sqlite() {
    answers_advance_what_awaits_them(store(Engine::Sqlite).await).await;
}

#[tokio::test]
async fn answers_advance_what_awaits_them_on_postgres() {
    answers_advance_what_awaits_them(store(Engine::Postgres).await).await;
}
