//! The report cycle (and the dashboard's count of refusals) stays flat as a device's command
//! history grows. With a thousand past commands per device (made by `store::history_seed`, as
//! the benchmark's `--history` makes them), every statement the cycle runs must reach the queue
//! tables only through bounded index lookups, and the cycle must still serve the new commands in
//! order. On SQLite and PostgreSQL
//! (skipped only with `MDM_TEST_POSTGRES=off`); on PostgreSQL also the statement that runs the
//! cycles of many devices at once (`store/cycle/batch.rs`), whose joins must each reach
//! `deliveries` by the batch's devices.
//!
//! The statements are not copied here, where they would drift from the store's: the test
//! records what the store sends while it runs a few cycles (sqlx reports every statement as a
//! `sqlx::query` tracing event), then asks the engine for the plan of each: `EXPLAIN (FORMAT
//! JSON)` on PostgreSQL, both the custom plan (with values) and the generic plan PostgreSQL may
//! switch a prepared statement to after five runs; `EXPLAIN QUERY PLAN` on SQLite.
//!
//! "Bounded" means: the partial index of queued deliveries by enrollment (`deliveries_next`),
//! or an index condition on a CommandUUID (one command, or one device's delivery of it). A
//! sequential scan, a full index scan, or the primary key searched by enrollment alone (every
//! delivery the device ever had) grows with the history and fails the test. The checkers are
//! themselves checked against statements that do scan the history, so the test can fail.

use command_svc::store::history_seed::{self, Seeded};
use command_svc::store::{EnqueueOutcome, NewCommand, QueueStore, Reported, Target};
use mdm_core::CommandStatus;
use serde_json::Value;
use service_kit::db::{DatabaseConfig, Db};
use sqlx::Row;

const NOW: i64 = 1_700_000_000_000;
const G: i64 = 1;
const DEVICES: usize = 10;
const HISTORY: u64 = 1_000;
/// The tables that grow with the history.
const HISTORY_TABLES: [&str; 2] = ["deliveries", "commands"];
/// The types of the PostgreSQL cycle statement's parameters (`store/cycle.rs`: enrollment,
/// reported CommandUUID, final status, report, now, connection, Idle, generation, inventory),
/// to prepare it as the store does.
const PG_CYCLE_SIGNATURE: &str =
    "text, text, text, bytea, bigint, text, boolean, bigint, bytea, text, text, boolean";
/// The same for the cycles of many devices in one statement (`store/cycle/batch.rs`): one array
/// per column.
const PG_BATCH_SIGNATURE: &str = "text[], bigint[], text[], text[], boolean[], bytea[], text[], \
     boolean[], bigint[], bytea[], text[], text[], boolean[]";

/// Records the statements sqlx runs, from any thread (SQLite runs them on a worker thread).
mod capture {
    use std::sync::{Mutex, Once};
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    static RECORDING: Mutex<Option<Vec<String>>> = Mutex::new(None);

    struct Recorder;

    #[derive(Default)]
    struct Fields {
        summary: String,
        statement: String,
    }

    impl Visit for Fields {
        fn record_str(&mut self, field: &Field, value: &str) {
            match field.name() {
                "summary" => self.summary = value.to_owned(),
                "db.statement" => self.statement = value.trim().to_owned(),
                _ => {}
            }
        }
        fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
    }

    impl Subscriber for Recorder {
        fn enabled(&self, metadata: &Metadata<'_>) -> bool {
            metadata.target() == "sqlx::query"
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut fields = Fields::default();
            event.record(&mut fields);
            // sqlx leaves db.statement empty when the summary (its first words) is all of it.
            let sql = if fields.statement.is_empty() {
                fields.summary
            } else {
                fields.statement
            };
            if let Some(recorded) = RECORDING.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                recorded.push(sql);
            }
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    /// Records from now on.
    pub fn start() {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            tracing::subscriber::set_global_default(Recorder).expect("no other subscriber");
        });
        *RECORDING.lock().unwrap_or_else(|e| e.into_inner()) = Some(Vec::new());
    }

    /// The distinct statements run since [`start`] that read or write rows (not BEGIN/COMMIT).
    pub fn stop() -> Vec<String> {
        let recorded = RECORDING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_default();
        let mut distinct: Vec<String> = Vec::new();
        for sql in recorded {
            let verb = sql
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            let dml = ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH"].contains(&verb.as_str());
            if dml && !distinct.contains(&sql) {
                distinct.push(sql);
            }
        }
        distinct
    }
}

/// The statements are recorded process-wide: one test at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How a plan reaches the history tables: every access seen, and the unbounded ones.
#[derive(Debug, Default)]
struct Verdict {
    accesses: Vec<String>,
    unbounded: Vec<String>,
}

impl Verdict {
    fn saw(&mut self, access: String, bounded: bool) {
        if !bounded {
            self.unbounded.push(access.clone());
        }
        self.accesses.push(access);
    }
}

/// Whether an index lookup is bounded regardless of the history (see the module comment).
fn bounded(index: &str, condition: &str) -> bool {
    (index == "deliveries_next" && condition.contains("enrollment_id"))
        || condition.contains("command_uuid")
}

/// Walks a PostgreSQL JSON plan.
fn judge_pg(node: &Value, verdict: &mut Verdict) {
    let text = |key: &str| node.get(key).and_then(Value::as_str).unwrap_or("");
    let (kind, relation, index) = (text("Node Type"), text("Relation Name"), text("Index Name"));
    let history_relation = HISTORY_TABLES.contains(&relation);
    let history_index = HISTORY_TABLES.iter().any(|t| index.starts_with(t));
    if history_index {
        let condition = text("Index Cond");
        verdict.saw(
            format!("{kind} using {index} {condition}"),
            bounded(index, condition),
        );
    } else if history_relation && kind.ends_with("Scan") && kind != "Bitmap Heap Scan" {
        // A Bitmap Heap Scan is judged by the Bitmap Index Scan under it.
        verdict.saw(format!("{kind} on {relation}"), false);
    }
    for child in node
        .get("Plans")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        judge_pg(child, verdict);
    }
}

/// Judges SQLite's `EXPLAIN QUERY PLAN` lines: `SCAN t [USING INDEX i]` reads a whole table or
/// index; `SEARCH t USING [COVERING] INDEX i (cond)` is a lookup.
fn judge_sqlite(details: &[String], verdict: &mut Verdict) {
    for detail in details {
        if detail.starts_with("SCAN ") && detail != "SCAN CONSTANT ROW" {
            verdict.saw(detail.clone(), false);
        } else if let Some((_, using)) = detail
            .strip_prefix("SEARCH ")
            .and_then(|rest| rest.split_once(" INDEX "))
        {
            let (index, condition) = using.split_once(' ').unwrap_or((using, ""));
            let table = index.strip_prefix("sqlite_autoindex_").unwrap_or(index);
            if HISTORY_TABLES.iter().any(|t| table.starts_with(t)) {
                verdict.saw(detail.clone(), bounded(index, condition));
            }
        }
    }
}

/// The plans of `sql` on PostgreSQL, prepared with the cycle's signature: custom with Idle true
/// and false (the values switch CTEs on and off), and generic. A statement without parameters
/// is explained as it is.
async fn pg_plans(
    conn: &mut sqlx::PgConnection,
    sql: &str,
    values: (&str, &str),
) -> anyhow::Result<Vec<Value>> {
    let prepared = sql.contains("$1");
    let batch = sql.contains("unnest(");
    let signature = if batch {
        PG_BATCH_SIGNATURE
    } else {
        PG_CYCLE_SIGNATURE
    };
    if prepared {
        // Sent as it is (the simple protocol): the `$n` in it are the prepared statement's own.
        sqlx::raw_sql(&format!("PREPARE cycle_step ({signature}) AS {sql}"))
            .execute(&mut *conn)
            .await?;
    }
    let mut plans = Vec::new();
    for (mode, idle) in [
        ("force_custom_plan", true),
        ("force_custom_plan", false),
        ("force_generic_plan", true),
    ] {
        sqlx::query(&format!("SET plan_cache_mode = {mode}"))
            .execute(&mut *conn)
            .await?;
        // EXECUTE takes literals only: a utility statement has no parameters of its own.
        let explain = if batch {
            // Two devices: the one planned with, and another.
            let (device, uuid) = values;
            format!(
                "EXPLAIN (FORMAT JSON) EXECUTE cycle_step (ARRAY['{device}', 'D02'], \
                 ARRAY[{G}, {G}]::bigint[], ARRAY['{uuid}', '{uuid}'], \
                 ARRAY['acknowledged', 'acknowledged'], ARRAY[false, false], \
                 ARRAY['<plist/>', '<plist/>']::bytea[], ARRAY['conn-1', 'conn-1'], \
                 ARRAY[{idle}, {idle}], ARRAY[{NOW}, {NOW}]::bigint[], \
                 ARRAY['inventory', NULL]::bytea[], \
                 ARRAY['command.acknowledged', 'command.acknowledged'], \
                 ARRAY['Acknowledged', 'Acknowledged'], ARRAY[true, true])"
            )
        } else if prepared {
            format!(
                "EXPLAIN (FORMAT JSON) EXECUTE cycle_step ('{}', '{}', 'acknowledged', \
                 '<plist/>'::bytea, {NOW}, 'conn-1', {idle}, {G}, 'inventory'::bytea, \
                 'command.acknowledged', 'Acknowledged', true)",
                values.0, values.1
            )
        } else {
            format!("EXPLAIN (FORMAT JSON) {sql}")
        };
        let row = sqlx::query(&explain).fetch_one(&mut *conn).await?;
        // The column is `json`, whose binary form is its text.
        let text: String = row.try_get_unchecked(0)?;
        let plan: Value = serde_json::from_str(&text)?;
        plans.push(plan[0]["Plan"].clone());
    }
    sqlx::query("RESET plan_cache_mode")
        .execute(&mut *conn)
        .await?;
    if prepared {
        // By name: sqlx keeps prepared statements of its own on the connection.
        sqlx::query("DEALLOCATE cycle_step")
            .execute(&mut *conn)
            .await?;
    }
    Ok(plans)
}

/// How `sql` reaches the history tables, by the engine's plans. `values`: the enrollment and the
/// CommandUUID to plan with.
async fn judge(db: &Db, sql: &str, values: (&str, &str)) -> anyhow::Result<(Verdict, String)> {
    let mut verdict = Verdict::default();
    let shown = match db {
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            let plans = pg_plans(&mut conn, sql, values).await?;
            for plan in &plans {
                judge_pg(plan, &mut verdict);
            }
            serde_json::to_string_pretty(&plans)?
        }
        Db::Sqlite(pool) => {
            // Parameters are left unbound (NULL): SQLite plans from the statement's shape.
            let details: Vec<String> = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| row.try_get("detail"))
                .collect::<Result<_, _>>()?;
            judge_sqlite(&details, &mut verdict);
            details.join("\n")
        }
    };
    Ok((verdict, shown))
}

fn v7(ms: i64) -> String {
    let ms = u64::try_from(ms).expect("after 1970");
    let at = uuid::Timestamp::from_unix(uuid::NoContext, ms / 1000, (ms % 1000) as u32 * 1_000_000);
    uuid::Uuid::new_v7(at).to_string().to_uppercase()
}

async fn enqueue(store: &QueueStore, uuid: &str, targets: &[Target]) {
    let payload = format!("<plist>{uuid}</plist>");
    let outcome = store
        .enqueue(
            &NewCommand {
                command_uuid: uuid,
                request_type: "SecurityInfo",
                payload: payload.as_bytes(),
                priority: 0,
                expires_at: None,
                idempotency_key: None,
                requested_by: "test",
                reason: "",
                targets,
                audit: false,
            },
            NOW,
        )
        .await
        .expect("enqueue");
    assert_eq!(outcome, EnqueueOutcome::Queued);
}

/// Seeds the history, queues two commands, runs a session's cycles recording the statements,
/// and judges each statement's plans.
async fn the_cycle_is_flat_with_history(store: QueueStore) {
    let _one_at_a_time = SERIAL.lock().await;
    let db = store.db().clone();
    let targets: Vec<Target> = (1..=DEVICES)
        .map(|n| Target {
            enrollment_id: format!("D{n:02}"),
            generation: G,
        })
        .collect();
    let seeded = history_seed::seed(&db, &targets, HISTORY, NOW)
        .await
        .expect("seed");
    assert_eq!(
        seeded,
        Seeded {
            commands: HISTORY,
            deliveries: HISTORY * DEVICES as u64
        }
    );
    let (first, second) = (v7(NOW), v7(NOW + 1));
    enqueue(&store, &first, &targets).await;
    enqueue(&store, &second, &targets).await;

    // The seeded history is what the module promises: UUIDv7 of past times, sorting before
    // anything queued from NOW on; acknowledged; results of a few hundred bytes.
    let (oldest, newest, results, smallest, largest): (String, String, i64, i64, i64) =
        service_kit::with_db!(&db, pool => sqlx::query_as(
            "SELECT MIN(d.command_uuid), MAX(d.command_uuid), COUNT(*),
                    CAST(MIN(LENGTH(d.result)) AS BIGINT), CAST(MAX(LENGTH(d.result)) AS BIGINT)
             FROM deliveries d WHERE d.status = 'acknowledged'",
        )
        .fetch_one(pool)
        .await)
        .expect("history");
    assert_eq!(results, (HISTORY * DEVICES as u64) as i64);
    assert!(newest < first, "{newest} sorts after {first}");
    for uuid in [&oldest, &newest] {
        let parsed = uuid::Uuid::parse_str(uuid).expect("a UUID");
        assert_eq!(parsed.get_version_num(), 7, "{uuid}");
        let (secs, _) = parsed.get_timestamp().expect("v7").to_unix();
        assert!((secs as i64) < NOW / 1000, "{uuid} is not in the past");
    }
    assert!(
        (200..1000).contains(&smallest) && (200..1000).contains(&largest),
        "results of {smallest}..{largest} bytes"
    );

    // One session of D01's, as a device runs it: Idle, NotNow, Acknowledged (with inventory),
    // then Idle on a new connection and Acknowledged.
    let answer = |uuid, status| {
        Some(Reported {
            command_uuid: uuid,
            status,
            body: b"<plist/>",
            inventory: Some(b"inventory"),
        })
    };
    let head =
        |cycle: command_svc::store::Cycle| cycle.next.map(|n| (n.command_uuid, n.sent_before));
    capture::start();
    let idle = store.cycle("D01", G, None, "conn-1", true, NOW).await;
    let not_now = store
        .cycle(
            "D01",
            G,
            answer(&first, CommandStatus::NotNow),
            "conn-1",
            false,
            NOW,
        )
        .await;
    let acked = store
        .cycle(
            "D01",
            G,
            answer(&second, CommandStatus::Acknowledged),
            "conn-1",
            false,
            NOW,
        )
        .await;
    let again = store.cycle("D01", G, None, "conn-2", true, NOW).await;
    let done = store
        .cycle(
            "D01",
            G,
            answer(&first, CommandStatus::Acknowledged),
            "conn-2",
            false,
            NOW,
        )
        .await;
    let statements = capture::stop();
    assert_eq!(head(idle.expect("idle")), Some((first.clone(), false)));
    assert_eq!(
        head(not_now.expect("not now")),
        Some((second.clone(), false))
    );
    assert_eq!(
        head(acked.expect("acknowledged")),
        None,
        "the first waits for an Idle"
    );
    assert_eq!(
        head(again.expect("idle again")),
        Some((first.clone(), true))
    );
    assert_eq!(head(done.expect("done")), None);
    assert!(
        statements.len() >= 3,
        "recorded too few statements: {statements:#?}"
    );

    let mut accesses = 0;
    let mut failures = Vec::new();
    for sql in &statements {
        let (verdict, plans) = judge(&db, sql, ("D01", &first)).await.expect("explain");
        accesses += verdict.accesses.len();
        // Shown with --nocapture: what was judged.
        let words: Vec<&str> = sql.split_whitespace().take(6).collect();
        eprintln!("{} …\n  {}", words.join(" "), verdict.accesses.join("\n  "));
        if !verdict.unbounded.is_empty() {
            failures.push(format!(
                "{sql}\n  unbounded: {:?}\n  plans:\n{plans}",
                verdict.unbounded
            ));
        }
    }
    assert!(
        accesses > 0,
        "no plan reached the history tables: {statements:#?}"
    );

    // On PostgreSQL the devices that ask at once share one statement: a round of every device's
    // Idle, sent together, runs it, and its plans must be as bounded.
    if matches!(db, Db::Postgres(_)) {
        capture::start();
        let round = futures::future::join_all(
            targets
                .iter()
                .map(|t| store.cycle(&t.enrollment_id, G, None, "conn-3", true, NOW)),
        )
        .await;
        let statements = capture::stop();
        assert!(round.into_iter().all(|cycle| cycle.is_ok()));
        let batch: Vec<&String> = statements
            .iter()
            .filter(|sql| sql.contains("unnest("))
            .collect();
        assert!(!batch.is_empty(), "no batch ran: {statements:#?}");
        for sql in batch {
            let (verdict, plans) = judge(&db, sql, ("D01", &first)).await.expect("explain");
            assert!(!verdict.accesses.is_empty(), "no access judged: {plans}");
            if !verdict.unbounded.is_empty() {
                failures.push(format!(
                    "{sql}\n  unbounded: {:?}\n  plans:\n{plans}",
                    verdict.unbounded
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} statements of the cycle read the history unbounded:\n{}",
        failures.len(),
        failures.join("\n\n")
    );

    // The dashboard's counts of refusals read the partial index of refusals, which holds none
    // of the million acknowledged deliveries.
    capture::start();
    store.errors_since(NOW - 86_400_000).await.expect("count");
    store.recent_errors(10).await.expect("recent");
    let statements = capture::stop();
    assert_eq!(statements.len(), 2, "{statements:#?}");
    for sql in statements {
        // Planned with the values the store binds (the only parameter: a limit, or a time).
        let value = if sql.contains("LIMIT $1") {
            10
        } else {
            NOW - 86_400_000
        };
        let literal = sql.replace("$1", &value.to_string());
        let (verdict, plans) = judge(&db, &literal, ("D01", &first))
            .await
            .expect("explain");
        // Bounded here means: the refusals' index, or a lookup by CommandUUID (the join).
        let elsewhere: Vec<&String> = verdict
            .unbounded
            .iter()
            .filter(|access| !access.contains("deliveries_refused"))
            .collect();
        assert!(
            plans.contains("deliveries_refused") && elsewhere.is_empty(),
            "the dashboard reads the history: {sql}\n{elsewhere:?}\n{plans}"
        );
    }

    // The checks catch what grows with the history: a sequential scan, and the primary key
    // searched by enrollment alone (every delivery the device ever had).
    for scan in [
        "SELECT COUNT(*) FROM deliveries WHERE not_now_count > 0",
        "SELECT MAX(completed_at) FROM deliveries d WHERE d.enrollment_id = 'D01' AND d.result IS NOT NULL",
    ] {
        let (verdict, plans) = judge(&db, scan, ("D01", &first)).await.expect("explain");
        assert!(
            !verdict.unbounded.is_empty(),
            "the check missed an unbounded read: {scan}\n{plans}"
        );
    }
}

#[tokio::test]
async fn sqlite_cycle_is_flat_with_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("command.db").display());
    let db = Db::connect(&DatabaseConfig::default(), &url)
        .await
        .expect("sqlite");
    the_cycle_is_flat_with_history(QueueStore::open(db).await.expect("migrations")).await;
}

#[tokio::test]
async fn postgres_cycle_is_flat_with_history() {
    let Some(database) = testkit::TempDatabase::create()
        .await
        .expect("PostgreSQL reachable")
    else {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
        return;
    };
    let db = Db::connect(&DatabaseConfig::default(), &database.url)
        .await
        .expect("postgres");
    the_cycle_is_flat_with_history(QueueStore::open(db).await.expect("migrations")).await;
}
