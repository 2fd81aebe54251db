//! Events as admin-svc keeps them: received from the services' outboxes and stored once each
//! (by their UUID), in one transaction with what they start — a delivery per matching webhook,
//! a blueprint run at a device's first TokenUpdate, a blueprint command's answer counted, an
//! identity renewal started or moved along.

use super::renewals::{renewal_change, Bind, RenewalChange};
use super::AdminStore;
use crate::events::filter::Subscription;
use service_kit::db::BeginWrite;
use service_kit::with_db;
use std::collections::HashSet;

/// Rows per multi-row insert: 11 parameters each, far below SQLite's limit.
const INSERT_BATCH: usize = 500;

/// An event received from a service.
#[derive(Debug, Clone)]
pub struct Received {
    /// Which service emitted it.
    pub source: &'static str,
    /// The event as pulled.
    pub event: mdm_proto::v1::Event,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    /// admin-svc's order of receipt.
    pub seq: i64,
    /// The emitter's UUID.
    pub id: String,
    /// Its type.
    #[sqlx(rename = "type")]
    pub kind: String,
    /// enroll-svc, command-svc or push-svc.
    pub source: String,
    /// Unix ms, by the emitter's clock.
    pub occurred_at: i64,
    /// Unix ms.
    pub received_at: i64,
    /// The enrollment (empty: fleet-wide).
    pub enrollment_id: String,
    /// Command events.
    pub command_uuid: Option<String>,
    /// Command events.
    pub request_type: Option<String>,
    /// Command and push events.
    pub status: Option<String>,
    /// What the device sent.
    pub raw: Option<Vec<u8>>,
    /// A JSON object.
    pub attributes: Option<String>,
}

/// The columns of [`EventRow`], prefixed for joins.
pub const EVENT_COLUMNS: &str = "e.seq, e.id, e.type, e.source, e.occurred_at, e.received_at,
    e.enrollment_id, e.command_uuid, e.request_type, e.status, e.raw, e.attributes";

/// What one ingest did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ingested {
    /// Events stored now.
    pub stored: usize,
    /// Events already stored (pulled again after a lost acknowledgement).
    pub repeated: usize,
    /// Webhook deliveries made.
    pub deliveries: usize,
    /// Blueprint runs started.
    pub runs: usize,
    /// Identity renewals started, completed and failed.
    pub renewals: super::RenewalChanges,
}

/// Filters of the event listing.
#[derive(Debug, Clone, Default)]
pub struct EventFilter<'a> {
    /// Only this enrollment.
    pub enrollment_id: Option<&'a str>,
    /// Only this type.
    pub kind: Option<&'a str>,
    /// Only after this `seq` (paging, oldest first).
    pub after: i64,
}

/// An enabled blueprint, as ingest matches devices to it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BlueprintMatch {
    id: String,
    applies_to_all: bool,
    enrollment_token_ids: String,
    command_count: i64,
}

impl BlueprintMatch {
    fn applies_to(&self, enrollment_token_id: &str) -> bool {
        self.applies_to_all
            || (!enrollment_token_id.is_empty()
                && self
                    .enrollment_token_ids
                    .split(',')
                    .any(|t| t == enrollment_token_id))
    }
}

/// Command events after which a blueprint command has its answer (or never will).
const FINAL_COMMAND_EVENTS: [&str; 4] = [
    "command.acknowledged",
    "command.error",
    "command.expired",
    "command.cancelled",
];

impl AdminStore {
    /// The enabled blueprints, as ingest matches them.
    pub async fn enabled_blueprints(&self) -> Result<Vec<BlueprintMatch>, sqlx::Error> {
        with_db!(&self.db, pool => sqlx::query_as::<_, BlueprintMatch>(
            "SELECT id, applies_to_all, enrollment_token_ids, command_count FROM blueprints WHERE enabled",
        )
        .fetch_all(pool)
        .await)
    }

    /// Stores `received` (in that order; those already stored are skipped) with the webhook
    /// deliveries they make for `subscriptions` and their blueprint bookkeeping, in one
    /// transaction: after a crash either all of it is there or none, and the events are pulled
    /// again.
    pub async fn ingest(
        &self,
        received: &[Received],
        subscriptions: &[Subscription],
        blueprints: &[BlueprintMatch],
        renew_identities: bool,
        now: i64,
    ) -> Result<Ingested, sqlx::Error> {
        if received.is_empty() {
            return Ok(Ingested::default());
        }
        with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let mut done = Ingested::default();
            let mut stored: Vec<(i64, &Received)> = Vec::with_capacity(received.len());
            for batch in received.chunks(INSERT_BATCH) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO events (id, type, source, occurred_at, received_at, enrollment_id,
                        command_uuid, request_type, status, raw, attributes) ",
                );
                insert.push_values(batch, |mut row, r| {
                    let e = &r.event;
                    row.push_bind(e.id.clone())
                        .push_bind(e.r#type.clone())
                        .push_bind(r.source)
                        .push_bind(e.occurred_at_ms)
                        .push_bind(now)
                        .push_bind(e.enrollment_id.clone())
                        .push_bind(non_empty(&e.command_uuid))
                        .push_bind(non_empty(&e.request_type))
                        .push_bind(non_empty(&e.status))
                        .push_bind((!e.raw_payload.is_empty()).then(|| e.raw_payload.clone()))
                        .push_bind(non_empty(&e.attributes_json));
                });
                insert.push(" ON CONFLICT (id) DO NOTHING RETURNING seq, id");
                let rows: Vec<(i64, String)> = insert.build_query_as().fetch_all(&mut *tx).await?;
                let seqs: std::collections::HashMap<String, i64> =
                    rows.into_iter().map(|(seq, id)| (id, seq)).collect();
                for r in batch {
                    match seqs.get(&r.event.id) {
                        Some(seq) => stored.push((*seq, r)),
                        None => done.repeated += 1,
                    }
                }
            }
            done.stored = stored.len();
            let deliveries: Vec<(&str, i64, &str)> = stored
                .iter()
                .flat_map(|(seq, r)| {
                    subscriptions
                        .iter()
                        .filter(|s| s.wants(&r.event.r#type))
                        .map(move |s| (s.webhook_id.as_str(), *seq, r.event.enrollment_id.as_str()))
                })
                .collect();
            for batch in deliveries.chunks(INSERT_BATCH) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO webhook_deliveries (webhook_id, event_seq, enrollment_id, status, next_attempt_at) ",
                );
                insert.push_values(batch, |mut row, (webhook, seq, enrollment)| {
                    row.push_bind(*webhook)
                        .push_bind(*seq)
                        .push_bind(*enrollment)
                        .push_bind("pending")
                        .push_bind(now);
                });
                insert.build().execute(&mut *tx).await?;
            }
            done.deliveries = deliveries.len();
            // Which answered commands a blueprint run or an identity renewal waits for, read
            // once for the batch: almost none are, and a statement per answer was two of every
            // three statements ingest made under load. Nothing in this transaction adds to
            // either set; an event whose command is not in it has nothing to update.
            let answered: Vec<&str> = stored
                .iter()
                .map(|(_, r)| &r.event)
                .filter(|e| FINAL_COMMAND_EVENTS.contains(&e.r#type.as_str()) && !e.command_uuid.is_empty())
                .map(|e| e.command_uuid.as_str())
                .collect();
            let mut awaited_by_runs = HashSet::new();
            let mut awaited_by_renewals = HashSet::new();
            for chunk in answered.chunks(INSERT_BATCH) {
                for (awaiting, awaited) in [
                    ("SELECT command_uuid FROM blueprint_commands WHERE NOT answered AND command_uuid IN (", &mut awaited_by_runs),
                    ("SELECT command_uuid FROM identity_renewals WHERE status = 'queued' AND command_uuid IN (", &mut awaited_by_renewals),
                ] {
                    let mut query = sqlx::QueryBuilder::new(awaiting);
                    let mut list = query.separated(", ");
                    for uuid in chunk {
                        list.push_bind(*uuid);
                    }
                    query.push(")");
                    let found: Vec<String> = query.build_query_scalar().fetch_all(&mut *tx).await?;
                    awaited.extend(found);
                }
            }
            for (_, r) in &stored {
                let e = &r.event;
                let change = renewal_change(e, renew_identities).filter(|change| match change {
                    RenewalChange::Installed { command_uuid } => awaited_by_renewals.contains(command_uuid),
                    _ => true,
                });
                if let Some(change) = change {
                    let (sql, binds) = change.statement(&e.enrollment_id, now);
                    let mut query = sqlx::query(sql);
                    for bind in binds {
                        query = match bind {
                            Bind::Text(text) => query.bind(text),
                            Bind::Int(n) => query.bind(n),
                        };
                    }
                    if query.execute(&mut *tx).await?.rows_affected() > 0 {
                        done.renewals += change.counted();
                    }
                }
                if e.r#type == "enrollment.token_update" {
                    for (blueprint, generation, awaiting) in runs_for(e, blueprints) {
                        let started = sqlx::query(
                            "INSERT INTO blueprint_runs (id, blueprint_id, enrollment_id, generation,
                                awaiting_configuration, status, total, created_at, updated_at)
                             VALUES ($1, $2, $3, $4, $5, 'queueing', $6, $7, $7)
                             ON CONFLICT (blueprint_id, enrollment_id, generation) DO NOTHING",
                        )
                        .bind(uuid::Uuid::new_v4().to_string())
                        .bind(&blueprint.id)
                        .bind(&e.enrollment_id)
                        .bind(generation)
                        .bind(awaiting)
                        .bind(blueprint.command_count)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        done.runs += usize::from(started.rows_affected() > 0);
                    }
                } else if awaited_by_runs.contains(&e.command_uuid)
                    && FINAL_COMMAND_EVENTS.contains(&e.r#type.as_str())
                {
                    let run: Option<String> = sqlx::query_scalar(
                        "UPDATE blueprint_commands SET answered = TRUE
                         WHERE command_uuid = $1 AND NOT answered RETURNING run_id",
                    )
                    .bind(&e.command_uuid)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some(run) = run {
                        sqlx::query("UPDATE blueprint_runs SET answered = answered + 1, updated_at = $2 WHERE id = $1")
                            .bind(run)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            tx.commit().await?;
            Ok(done)
        }.await)
    }

    /// Stored events, oldest first, after `filter.after`, at most `limit`. Only the filters
    /// given are in the statement, so that each reads its own index (an optional filter written
    /// as `$n IS NULL OR …` would read them all once PostgreSQL picks a generic plan).
    pub async fn events(
        &self,
        filter: &EventFilter<'_>,
        limit: i64,
    ) -> Result<Vec<EventRow>, sqlx::Error> {
        with_db!(&self.db, pool => {
            let mut query = sqlx::QueryBuilder::new(format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.seq > "));
            query.push_bind(filter.after);
            if let Some(enrollment_id) = filter.enrollment_id {
                query.push(" AND e.enrollment_id = ").push_bind(enrollment_id);
            }
            if let Some(kind) = filter.kind {
                query.push(" AND e.type = ").push_bind(kind);
            }
            query.push(" ORDER BY e.seq LIMIT ").push_bind(limit);
            query.build_query_as::<EventRow>().fetch_all(pool).await
        })
    }

    /// One stored event by its UUID.
    pub async fn event(&self, id: &str) -> Result<Option<EventRow>, sqlx::Error> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.id = $1");
        with_db!(&self.db, pool => sqlx::query_as::<_, EventRow>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)
    }

    /// Gives up on deliveries of events received before `cutoff` (an endpoint paused or failing
    /// that long: they are dead, and replayable), deletes finished deliveries and events
    /// received before it that no delivery still waits for; how many events went.
    pub async fn purge_events(&self, cutoff: i64, now: i64) -> Result<u64, sqlx::Error> {
        with_db!(&self.db, pool => async {
            sqlx::query(
                "UPDATE webhook_deliveries SET status = 'dead', completed_at = $2,
                    last_error = 'not delivered within the retention period'
                 WHERE status = 'pending'
                   AND event_seq IN (SELECT seq FROM events WHERE received_at < $1)",
            )
            .bind(cutoff)
            .bind(now)
            .execute(pool)
            .await?;
            sqlx::query("DELETE FROM webhook_deliveries WHERE completed_at IS NOT NULL AND completed_at < $1")
                .bind(cutoff)
                .execute(pool)
                .await?;
            let done = sqlx::query(
                "DELETE FROM events WHERE received_at < $1
                   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = events.seq)",
            )
            .bind(cutoff)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        }.await)
    }
}

/// The blueprints a device's TokenUpdate event starts: only its first (the device became
/// managed), on the device channel, once per enrollment generation.
fn runs_for<'b>(
    event: &mdm_proto::v1::Event,
    blueprints: &'b [BlueprintMatch],
) -> Vec<(&'b BlueprintMatch, i64, bool)> {
    let attributes: serde_json::Value =
        serde_json::from_str(&event.attributes_json).unwrap_or_default();
    let first = attributes["first"].as_bool() == Some(true);
    let user_channel = attributes["user_id"].is_string();
    if !first || user_channel {
        return Vec::new();
    }
    let generation = attributes["generation"].as_i64().unwrap_or(0);
    let awaiting = attributes["awaiting_configuration"].as_bool() == Some(true);
    let token = attributes["enrollment_token_id"].as_str().unwrap_or("");
    blueprints
        .iter()
        .filter(|b| b.applies_to(token))
        .map(|b| (b, generation, awaiting))
        .collect()
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}
