//! A long command history, written straight into the queue tables in a few set-based
//! statements: the benchmark's (`--history N`) and the tests' way to give devices many past
//! commands. Replaying them through enqueue and the report cycle would take a thousand device
//! round trips per device; this way a thousand past commands for a thousand devices (a million
//! deliveries) take about half a minute on PostgreSQL, most of it spent maintaining the indexes,
//! and a few seconds on SQLite.
//!
//! The rows look like a real past, so the planner and the page cache see what a long-lived
//! server has:
//! - one `commands` row per past command, shared by all its targets as an enqueue makes it,
//!   with the payload the real renderer makes;
//! - one delivery per target and command, `acknowledged`, with a result plist of a few hundred
//!   bytes naming the command and the device, queued, sent and completed in the past;
//! - spread over the week before `now` (inside the default 30-day retention, so the sweep
//!   leaves them alone), one command at least a millisecond after the other;
//! - command UUIDs that are UUIDv7 of those past times (uppercase, as command-svc writes
//!   them), so they sort before anything enqueued from `now` on, as real ones would. The 74
//!   bits UUIDv7 leaves to the generator are one random prefix per seeding and the command's
//!   number (RFC 9562's counter method), so they are unique without a random call per row.
//!
//! Commands are numbered by `generate_series` on PostgreSQL and by a recursive CTE on SQLite;
//! deliveries are the cross product of those commands with the targets (one array on
//! PostgreSQL, multi-row `VALUES` batches on SQLite). Statistics are refreshed at the end.

use super::Target;
use crate::error::Error;
use plist::{Dictionary, Value};
use service_kit::db::{BeginWrite, Db};

/// The span the history covers, before `now`.
const SPAN_MS: i64 = 7 * 24 * 3600 * 1000;
/// The newest past command is this long before `now`.
const NEWEST_BEFORE_MS: i64 = 3600 * 1000;
/// The request type of every past command.
const REQUEST_TYPE: &str = "SecurityInfo";
/// Stands in for the CommandUUID and the device in the rendered plists, which are then split
/// around it so SQL can put each row's own values in.
const HOLE: &str = "HISTORY-SEED-HOLE";
/// Targets per SQLite `INSERT`: 2 parameters each, far below SQLite's 32,766 limit.
const SQLITE_BATCH: usize = 2_000;

/// What [`seed`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seeded {
    /// `commands` rows.
    pub commands: u64,
    /// `deliveries` rows (commands × targets).
    pub deliveries: u64,
}

/// Gives every target `commands` past commands, acknowledged, before `now` (Unix ms), then
/// refreshes the planner's statistics. Targets should be distinct (a repeated one gets its
/// history once). `targets`' generations are written as they are: pass the enrollments'
/// current ones, as a real enqueue would have.
pub async fn seed(db: &Db, targets: &[Target], commands: u64, now: i64) -> Result<Seeded, Error> {
    if commands == 0 || targets.is_empty() {
        return Ok(Seeded::default());
    }
    let spacing = (SPAN_MS / i64::try_from(commands).unwrap_or(i64::MAX)).max(1);
    let count = i64::try_from(commands).unwrap_or(i64::MAX);
    let first_at = now - NEWEST_BEFORE_MS - (count - 1) * spacing;
    let parts = Parts::new();
    let result: Result<Seeded, sqlx::Error> = match db {
        Db::Postgres(pool) => {
            async {
                let mut tx = pool.begin_write().await?;
                let made =
                    bind_commands(sqlx::query(PG_COMMANDS), &parts, first_at, spacing, count)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                let ids: Vec<&str> = targets.iter().map(|t| t.enrollment_id.as_str()).collect();
                let generations: Vec<i64> = targets.iter().map(|t| t.generation).collect();
                let delivered = bind_results(sqlx::query(PG_DELIVERIES), &parts)
                    .bind(&ids)
                    .bind(&generations)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                // VACUUM as well as ANALYZE: a million fresh rows would otherwise set autovacuum
                // off in the middle of whatever is measured next, and a long-lived table has had
                // its vacuum. Outside any transaction, hence the simple protocol.
                sqlx::raw_sql("VACUUM (ANALYZE) commands, deliveries")
                    .execute(pool)
                    .await?;
                Ok(Seeded {
                    commands: made,
                    deliveries: delivered,
                })
            }
            .await
        }
        Db::Sqlite(pool) => {
            async {
                let mut tx = pool.begin_write().await?;
                let made = bind_commands(
                    sqlx::query(SQLITE_COMMANDS),
                    &parts,
                    first_at,
                    spacing,
                    count,
                )
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let mut delivered = 0;
                for batch in targets.chunks(SQLITE_BATCH) {
                    let rows = (0..batch.len())
                        .map(|i| format!("(${}, ${})", 5 + 2 * i, 6 + 2 * i))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = SQLITE_DELIVERIES.replace("{targets}", &rows);
                    let mut query = bind_results(sqlx::query(&sql), &parts);
                    for target in batch {
                        query = query.bind(&target.enrollment_id).bind(target.generation);
                    }
                    delivered += query.execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
                sqlx::query("ANALYZE").execute(pool).await?;
                Ok(Seeded {
                    commands: made,
                    deliveries: delivered,
                })
            }
            .await
        }
    };
    Ok(result?)
}

/// The constant pieces of the rows: the rendered plists split around their per-row values,
/// and what makes this seeding's UUIDs and rows its own.
struct Parts {
    /// The command payload before and after its CommandUUID.
    payload: (String, String),
    /// The result before its CommandUUID, between it and the device, and after the device.
    result: (String, String, String),
    /// Three hex digits (UUIDv7 `rand_a`) and the variant digit, random per seeding.
    salt: (String, String),
    /// `requested_by` of this seeding's commands: how its deliveries find them.
    marker: String,
}

impl Parts {
    fn new() -> Parts {
        let mut command = Dictionary::new();
        command.insert("RequestType".into(), Value::String(REQUEST_TYPE.into()));
        let payload = String::from_utf8(mdm_core::commands::render_command(&command, HOLE))
            .unwrap_or_default();
        let payload = payload
            .split_once(HOLE)
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .unwrap_or_default();
        let result = xml(&Value::Dictionary(result_plist()));
        let mut pieces = result.splitn(3, HOLE).map(str::to_owned);
        let result = (
            pieces.next().unwrap_or_default(),
            pieces.next().unwrap_or_default(),
            pieces.next().unwrap_or_default(),
        );
        // A fresh UUIDv7 gives random bits in the right places: its rand_a and its variant.
        let fresh = uuid::Uuid::now_v7().to_string().to_uppercase();
        Parts {
            payload,
            result,
            salt: (fresh[15..18].to_owned(), fresh[20..21].to_owned()),
            marker: format!("history-seed {fresh}"),
        }
    }
}

/// An acknowledged SecurityInfo report, holes for the CommandUUID and the device: what a
/// phone answers, a few hundred bytes.
fn result_plist() -> Dictionary {
    let mut info = Dictionary::new();
    info.insert("HardwareEncryptionCaps".into(), Value::Integer(3.into()));
    info.insert("PasscodeCompliant".into(), Value::Boolean(true));
    info.insert("PasscodeCompliantWithProfiles".into(), Value::Boolean(true));
    info.insert("PasscodePresent".into(), Value::Boolean(true));
    let mut report = Dictionary::new();
    report.insert("CommandUUID".into(), Value::String(HOLE.into()));
    report.insert("SecurityInfo".into(), Value::Dictionary(info));
    report.insert("Status".into(), Value::String("Acknowledged".into()));
    report.insert("UDID".into(), Value::String(HOLE.into()));
    report
}

fn xml(value: &Value) -> String {
    let mut out = Vec::new();
    // Writing XML to a Vec fails only on a UID, and none is used here.
    let _ = value.to_writer_xml(&mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Binds `$1`..`$9` of the commands statements.
fn bind_commands<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    parts: &'q Parts,
    first_at: i64,
    spacing: i64,
    count: i64,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(REQUEST_TYPE)
        .bind(parts.payload.0.as_str())
        .bind(parts.payload.1.as_str())
        .bind(parts.marker.as_str())
        .bind(parts.salt.0.as_str())
        .bind(parts.salt.1.as_str())
        .bind(first_at)
        .bind(spacing)
        .bind(count)
}

/// Binds `$1`..`$4` of the deliveries statements.
fn bind_results<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    parts: &'q Parts,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(parts.marker.as_str())
        .bind(parts.result.0.as_str())
        .bind(parts.result.1.as_str())
        .bind(parts.result.2.as_str())
}

// The commands statements: `$1` request type, `$2`/`$3` the payload around its CommandUUID,
// `$4` the marker (requested_by), `$5`/`$6` the salt, `$7` the first command's time, `$8` the
// spacing, `$9` how many. A UUID is `TTTTTTTT-TTTT-7SSS-VNNN-NNNNNNNNNNNN`: T the time in
// milliseconds, S and V the salt, N the command's number.
const PG_COMMANDS: &str = "INSERT INTO commands
        (command_uuid, request_type, payload, priority, requested_by, reason, created_at)
    SELECT u.command_uuid, $1, convert_to($2 || u.command_uuid || $3, 'UTF8'), 0, $4, '', u.at
    FROM (
        SELECT s.at, substr(s.t, 1, 8) || '-' || substr(s.t, 9, 4) || '-7' || $5 || '-' || $6
                     || substr(s.n, 1, 3) || '-' || substr(s.n, 4, 12) AS command_uuid
        FROM (
            SELECT $7::bigint + i * $8::bigint AS at,
                   upper(lpad(to_hex($7::bigint + i * $8::bigint), 12, '0')) AS t,
                   upper(lpad(to_hex(i), 15, '0')) AS n
            FROM generate_series(0::bigint, $9::bigint - 1) AS i
        ) s
    ) u";

const SQLITE_COMMANDS: &str = "WITH RECURSIVE series (i) AS (
        SELECT 0 UNION ALL SELECT i + 1 FROM series WHERE i + 1 < $9
    ), stamped AS (
        SELECT $7 + i * $8 AS at, printf('%012X', $7 + i * $8) AS t, printf('%015X', i) AS n
        FROM series
    ), named AS (
        SELECT at, substr(t, 1, 8) || '-' || substr(t, 9, 4) || '-7' || $5 || '-' || $6
                   || substr(n, 1, 3) || '-' || substr(n, 4, 12) AS command_uuid
        FROM stamped
    )
    INSERT INTO commands
        (command_uuid, request_type, payload, priority, requested_by, reason, created_at)
    SELECT command_uuid, $1, CAST($2 || command_uuid || $3 AS BLOB), 0, $4, '', at FROM named";

// The deliveries statements: `$1` the marker, `$2`..`$4` the result around its CommandUUID and
// device; then the targets. Each was sent a second after it was queued and answered a second
// after that. Commands are the outer loop, so rows land in enqueue order, one
// command's deliveries together, as real enqueues write them.
const PG_DELIVERIES: &str = "INSERT INTO deliveries (enrollment_id, command_uuid, priority, status,
        queued_at, sent_at, completed_at, result, generation)
    SELECT t.enrollment_id, c.command_uuid, c.priority, 'acknowledged', c.created_at,
           c.created_at + 1000, c.created_at + 2000,
           convert_to($2 || c.command_uuid || $3 || t.enrollment_id || $4, 'UTF8'), t.generation
    FROM commands c CROSS JOIN unnest($5::text[], $6::bigint[]) AS t (enrollment_id, generation)
    WHERE c.requested_by = $1
    ON CONFLICT DO NOTHING";

const SQLITE_DELIVERIES: &str = "WITH t (enrollment_id, generation) AS (VALUES {targets})
    INSERT INTO deliveries (enrollment_id, command_uuid, priority, status,
        queued_at, sent_at, completed_at, result, generation)
    SELECT t.enrollment_id, c.command_uuid, c.priority, 'acknowledged', c.created_at,
           c.created_at + 1000, c.created_at + 2000,
           CAST($2 || c.command_uuid || $3 || t.enrollment_id || $4 AS BLOB), t.generation
    FROM commands c CROSS JOIN t
    WHERE c.requested_by = $1
    ON CONFLICT DO NOTHING";
