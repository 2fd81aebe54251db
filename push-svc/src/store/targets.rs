//! Push targets: registration, lookup in bulk, outcomes, activity and the inactivity sweep.

use super::rows::{TargetRow, TargetStatus};
use super::{PushStore, CHUNK};
use crate::error::Error;
use crate::outcome::Outcome;
use service_kit::db::{BeginWrite, Db};
use service_kit::with_db;

/// What a TokenUpdate registers.
#[derive(Debug, Clone)]
pub struct NewTarget<'a> {
    /// Enrollment ID.
    pub enrollment_id: &'a str,
    /// Its device channel.
    pub device_id: &'a str,
    /// APNs token.
    pub token: &'a [u8],
    /// PushMagic.
    pub push_magic: &'a str,
    /// Topic the device reported.
    pub topic: &'a str,
}

/// Enrollments that got the same outcome and reason from one push.
#[derive(Debug, Clone)]
pub struct ResultGroup {
    /// The outcome.
    pub outcome: Outcome,
    /// APNs's reason, verbatim (empty when delivered).
    pub reason: String,
    /// The enrollments.
    pub enrollment_ids: Vec<String>,
}

/// One event per target of a push outcome (`$1` type, `$2` now, `$3` outcome, `$4` attributes,
/// `$5` the targets, appended by the caller): only targets that exist, as the update touches.
const PUSH_EVENTS: &str =
    "INSERT INTO event_outbox (type, occurred_at, enrollment_id, status, attributes)
     SELECT $1, $2, enrollment_id, $3, $4 FROM push_targets WHERE enrollment_id";

/// The events of a push outcome: `push.delivered` or `push.failed` (with APNs's reason), and
/// `enrollment.inactive` too when APNs says the token is gone.
fn outcome_events(outcome: Outcome, reason: Option<&str>) -> Vec<(&'static str, String)> {
    let attributes = serde_json::json!({ "reason": reason }).to_string();
    let mut events = vec![(
        if outcome == Outcome::Delivered {
            "push.delivered"
        } else {
            "push.failed"
        },
        attributes,
    )];
    if outcome == Outcome::Unregistered {
        events.push((
            "enrollment.inactive",
            serde_json::json!({ "reason": "unregistered" }).to_string(),
        ));
    }
    events
}

/// Active targets silent since before `$1` become inactive at `$2`.
const MARK_SILENT: &str =
    "UPDATE push_targets SET status = 'inactive', flag = 'silent', inactive_at = $2
     WHERE status = 'active' AND last_seen_at < $1";
/// Their events, selected from the relation the caller appends.
const SILENT_EVENTS: &str =
    "INSERT INTO event_outbox (type, occurred_at, enrollment_id, attributes)
     SELECT 'enrollment.inactive', $2, enrollment_id, '{\"reason\":\"silent\"}' FROM";

const TARGET_COLUMNS: &str = "enrollment_id, device_id, token, push_magic, topic, status, flag,
    registered_at, last_seen_at, last_push_at, last_outcome, last_reason, inactive_at";

impl PushStore {
    /// Registers or replaces a target; it is active and unflagged afterwards, and counts as
    /// seen now (a TokenUpdate is a connection).
    pub async fn register_target(&self, t: &NewTarget<'_>, now: i64) -> Result<(), Error> {
        with_db!(&self.db, pool => sqlx::query(
            "INSERT INTO push_targets (enrollment_id, device_id, token, push_magic, topic, status,
                registered_at, last_seen_at)
             VALUES ($1, $2, $3, $4, $5, 'active', $6, $6)
             ON CONFLICT (enrollment_id) DO UPDATE SET
                device_id = excluded.device_id, token = excluded.token,
                push_magic = excluded.push_magic, topic = excluded.topic, status = 'active',
                flag = NULL, inactive_at = NULL, registered_at = excluded.registered_at,
                last_seen_at = excluded.last_seen_at",
        )
        .bind(t.enrollment_id)
        .bind(t.device_id)
        .bind(t.token)
        .bind(t.push_magic)
        .bind(t.topic)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Removes an enrollment's target, and with `whole_device` every target of that device.
    pub async fn remove_target(
        &self,
        enrollment_id: &str,
        whole_device: bool,
    ) -> Result<u64, Error> {
        let removed = with_db!(&self.db, pool => sqlx::query(
            "DELETE FROM push_targets WHERE enrollment_id = $1 OR ($2 AND device_id = $1)",
        )
        .bind(enrollment_id)
        .bind(whole_device)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(removed)
    }

    /// The targets of `ids` that exist, in no particular order.
    pub async fn targets(&self, ids: &[String]) -> Result<Vec<TargetRow>, Error> {
        let mut rows = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT {TARGET_COLUMNS} FROM push_targets WHERE enrollment_id {}",
                id_set(&self.db, 1)
            );
            let found = match &self.db {
                Db::Sqlite(pool) => {
                    sqlx::query_as::<_, TargetRow>(&sql)
                        .bind(json_list(chunk))
                        .fetch_all(pool)
                        .await
                }
                Db::Postgres(pool) => {
                    sqlx::query_as::<_, TargetRow>(&sql)
                        .bind(chunk)
                        .fetch_all(pool)
                        .await
                }
            }?;
            rows.extend(found);
        }
        Ok(rows)
    }

    /// One target.
    pub async fn target(&self, enrollment_id: &str) -> Result<Option<TargetRow>, Error> {
        let sql = format!("SELECT {TARGET_COLUMNS} FROM push_targets WHERE enrollment_id = $1");
        let row = with_db!(&self.db, pool => sqlx::query_as::<_, TargetRow>(&sql)
            .bind(enrollment_id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// Targets in ID order after `after`, optionally with one status.
    pub async fn list_targets(
        &self,
        status: Option<&str>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<TargetRow>, Error> {
        let sql = format!(
            "SELECT {TARGET_COLUMNS} FROM push_targets
             WHERE ($1 IS NULL OR status = $1) AND enrollment_id > $2 ORDER BY enrollment_id LIMIT $3"
        );
        let rows = with_db!(&self.db, pool => sqlx::query_as::<_, TargetRow>(&sql)
            .bind(status)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// How many targets are in `status`: a count over `push_targets_status_seen`, whose
    /// leading column is the status.
    pub async fn count_targets(&self, status: TargetStatus) -> Result<u64, Error> {
        let n: i64 = with_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM push_targets WHERE status = $1",
        )
        .bind(status.as_str())
        .fetch_one(pool)
        .await)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Records one push's outcomes: when, what and why; a 410 makes the target inactive, a
    /// bad token or topic flags it, a delivery clears a flag.
    pub async fn record_results(&self, groups: &[ResultGroup], now: i64) -> Result<(), Error> {
        for group in groups {
            let outcome = group.outcome;
            if !outcome.was_attempted() {
                continue;
            }
            let make_inactive = outcome == Outcome::Unregistered;
            let set_flag = matches!(
                outcome,
                Outcome::Unregistered | Outcome::BadToken | Outcome::TopicMismatch
            );
            let flag = if group.reason.is_empty() {
                outcome.as_str().to_owned()
            } else {
                group.reason.clone()
            };
            let clear_flag = outcome == Outcome::Delivered;
            let reason = Some(group.reason.as_str()).filter(|r| !r.is_empty());
            let sql = format!(
                "UPDATE push_targets SET last_push_at = $1, last_outcome = $2, last_reason = $3,
                    status = CASE WHEN $4 THEN 'inactive' ELSE status END,
                    inactive_at = CASE WHEN $4 THEN $1 ELSE inactive_at END,
                    flag = CASE WHEN $5 THEN $6 WHEN $7 THEN NULL ELSE flag END
                 WHERE enrollment_id {}",
                id_set(&self.db, 8)
            );
            let events = outcome_events(outcome, reason);
            let insert_events = format!("{PUSH_EVENTS} {}", id_set(&self.db, 5));
            for chunk in group.enrollment_ids.chunks(CHUNK) {
                // The same binds on both engines; only the list parameter's type differs.
                macro_rules! in_transaction {
                    ($pool:expr, $list:expr) => {
                        async {
                            let mut tx = $pool.begin_write().await?;
                            sqlx::query(&sql)
                                .bind(now)
                                .bind(outcome.as_str())
                                .bind(reason)
                                .bind(make_inactive)
                                .bind(set_flag)
                                .bind(flag.as_str())
                                .bind(clear_flag)
                                .bind($list)
                                .execute(&mut *tx)
                                .await?;
                            for (kind, attributes) in &events {
                                sqlx::query(&insert_events)
                                    .bind(*kind)
                                    .bind(now)
                                    .bind(outcome.as_str())
                                    .bind(attributes.as_str())
                                    .bind($list)
                                    .execute(&mut *tx)
                                    .await?;
                            }
                            tx.commit().await
                        }
                        .await
                    };
                }
                match &self.db {
                    Db::Sqlite(pool) => in_transaction!(pool, json_list(chunk)),
                    Db::Postgres(pool) => in_transaction!(pool, chunk),
                }?;
            }
        }
        Ok(())
    }

    /// Records that `ids` connected at `at`. A target inactive only because it was silent is
    /// active again: the device has just proved it listens.
    pub async fn record_activity(&self, ids: &[String], at: i64) -> Result<(), Error> {
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "UPDATE push_targets SET last_seen_at = $1,
                    status = CASE WHEN flag = 'silent' THEN 'active' ELSE status END,
                    inactive_at = CASE WHEN flag = 'silent' THEN NULL ELSE inactive_at END,
                    flag = CASE WHEN flag = 'silent' THEN NULL ELSE flag END
                 WHERE last_seen_at < $1 AND enrollment_id {}",
                id_set(&self.db, 2)
            );
            match &self.db {
                Db::Sqlite(pool) => sqlx::query(&sql)
                    .bind(at)
                    .bind(json_list(chunk))
                    .execute(pool)
                    .await
                    .map(|_| ()),
                Db::Postgres(pool) => sqlx::query(&sql)
                    .bind(at)
                    .bind(chunk)
                    .execute(pool)
                    .await
                    .map(|_| ()),
            }?;
        }
        Ok(())
    }

    /// Marks active targets silent since before `cutoff` inactive (flag `silent`), each with an
    /// `enrollment.inactive` event (written first, in the same transaction, from the same
    /// condition).
    pub async fn mark_silent_inactive(&self, cutoff: i64, now: i64) -> Result<u64, Error> {
        let marked: Result<u64, sqlx::Error> = match &self.db {
            // One statement: the events are of exactly the rows this update changed, whatever
            // another replica's sweep does meanwhile.
            Db::Postgres(pool) => sqlx::query_scalar::<_, i64>(&format!(
                "WITH marked AS ({MARK_SILENT} RETURNING enrollment_id), events AS ({SILENT_EVENTS} marked)
                 SELECT COUNT(*) FROM marked"
            ))
            .bind(cutoff)
            .bind(now)
            .fetch_one(pool)
            .await
            .map(|n| u64::try_from(n).unwrap_or(0)),
            // SQLite's write transaction has no concurrent writer: read, then update.
            Db::Sqlite(pool) => async {
                let mut tx = pool.begin_write().await?;
                sqlx::query(&format!(
                    "{SILENT_EVENTS} push_targets WHERE status = 'active' AND last_seen_at < $1"
                ))
                .bind(cutoff)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let done = sqlx::query(MARK_SILENT)
                    .bind(cutoff)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected())
            }
            .await,
        };
        Ok(marked?)
    }

    /// Active targets silent since before `cutoff` and not pushed since then either: the
    /// sweep wakes them, longest silent first, at most `limit`.
    pub async fn due_for_wake(&self, cutoff: i64, limit: i64) -> Result<Vec<String>, Error> {
        let ids = with_db!(&self.db, pool => sqlx::query_scalar::<_, String>(
            "SELECT enrollment_id FROM push_targets
             WHERE status = 'active' AND last_seen_at < $1
               AND (last_push_at IS NULL OR last_push_at < $1)
             ORDER BY last_seen_at LIMIT $2",
        )
        .bind(cutoff)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        Ok(ids)
    }
}

/// `IN (…)` over a list bound as one parameter `$n`: a JSON array on SQLite (`json_each`), a
/// `text[]` on PostgreSQL. One short statement per chunk, instead of thousands of placeholders
/// to parse and bind.
fn id_set(db: &Db, n: usize) -> String {
    match db {
        Db::Sqlite(_) => format!("IN (SELECT value FROM json_each(${n}))"),
        Db::Postgres(_) => format!("= ANY(${n})"),
    }
}

/// IDs as a JSON array, for [`id_set`] on SQLite.
fn json_list(ids: &[String]) -> String {
    serde_json::Value::from(ids.to_vec()).to_string()
}
