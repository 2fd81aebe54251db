//! Webhooks and their deliveries: registration (audited), the sender's due deliveries (per
//! endpoint and enrollment, only the oldest pending one: order per enrollment), outcomes with
//! backoff, dead letters and their replay.

use super::{AdminStore, Audit, EventRow};
use crate::error::ApiError;
use service_kit::db::BeginWrite;
use service_kit::with_db;

/// A webhook as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookRow {
    /// Its ID.
    pub id: String,
    /// Where events are posted.
    pub url: String,
    /// What it is for.
    pub description: String,
    /// Comma-separated type patterns.
    pub event_types: String,
    /// `mdm` or `micromdm`.
    pub format: String,
    /// The HMAC key, sealed.
    pub sealed_secret: Vec<u8>,
    /// Whether events are delivered to it.
    pub enabled: bool,
    /// Who registered it.
    pub created_by: String,
    /// Unix ms.
    pub created_at: i64,
    /// Failures in a row.
    pub consecutive_failures: i64,
    /// Not tried again before (Unix ms).
    pub retry_at: i64,
    /// Unix ms.
    pub last_success_at: Option<i64>,
    /// Unix ms.
    pub last_failure_at: Option<i64>,
    /// What went wrong last.
    pub last_error: Option<String>,
}

const WEBHOOK_COLUMNS: &str = "id, url, description, event_types, format, sealed_secret, enabled,
    created_by, created_at, consecutive_failures, retry_at, last_success_at, last_failure_at, last_error";

/// A delivery as listed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryRow {
    /// Its ID.
    pub id: i64,
    /// The webhook.
    pub webhook_id: String,
    /// The event's `seq`.
    pub event_seq: i64,
    /// The event's UUID.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// The enrollment.
    pub enrollment_id: String,
    /// pending | delivered | dead
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Unix ms.
    pub next_attempt_at: i64,
    /// Unix ms.
    pub last_attempt_at: Option<i64>,
    /// The receiver's last HTTP status.
    pub response_status: Option<i64>,
    /// What went wrong last.
    pub last_error: Option<String>,
    /// Unix ms (delivered or dead).
    pub completed_at: Option<i64>,
}

/// A delivery the sender should attempt now, with everything it needs.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    /// The delivery.
    pub id: i64,
    /// Its attempts so far.
    pub attempts: i64,
    /// The webhook.
    pub webhook: WebhookRow,
    /// The event.
    pub event: EventRow,
}

/// Counts of a webhook's deliveries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    /// Waiting.
    pub pending: i64,
    /// Given up on.
    pub dead: i64,
    /// When the oldest pending event was received (Unix ms).
    pub oldest_pending_at: Option<i64>,
}

/// What became of one attempt.
#[derive(Debug, Clone)]
pub enum Attempt {
    /// 2xx.
    Delivered {
        /// The status.
        status: u16,
    },
    /// Anything else: retried at `retry_at`, or dead when `dead`.
    Failed {
        /// The status, when the receiver answered.
        status: Option<u16>,
        /// What went wrong.
        error: String,
        /// The delivery's next attempt (Unix ms).
        retry_at: i64,
        /// No attempts left.
        dead: bool,
    },
}

impl AdminStore {
    /// Registers a webhook, audited.
    pub async fn create_webhook(&self, row: &WebhookRow) -> Result<(), ApiError> {
        let sql = format!(
            "INSERT INTO webhooks ({WEBHOOK_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        );
        let done: Result<(), sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            sqlx::query(&sql)
                .bind(&row.id)
                .bind(&row.url)
                .bind(&row.description)
                .bind(&row.event_types)
                .bind(&row.format)
                .bind(&row.sealed_secret)
                .bind(row.enabled)
                .bind(&row.created_by)
                .bind(row.created_at)
                .bind(row.consecutive_failures)
                .bind(row.retry_at)
                .bind(row.last_success_at)
                .bind(row.last_failure_at)
                .bind(&row.last_error)
                .execute(&mut *tx)
                .await?;
            Audit {
                at: row.created_at,
                actor: &row.created_by,
                action: "webhook.created",
                detail: format!("{} {} ({}), events {}", row.id, row.url, row.format, row.event_types),
            }
            .write(&mut *tx)
            .await?;
            tx.commit().await
        }.await);
        Ok(done?)
    }

    /// Changes a webhook (its URL, types, format, enabled, description, secret), audited;
    /// `false` when there is none.
    pub async fn update_webhook(
        &self,
        row: &WebhookRow,
        actor: &str,
        now: i64,
    ) -> Result<bool, ApiError> {
        let done: Result<bool, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let updated = sqlx::query(
                "UPDATE webhooks SET url = $2, description = $3, event_types = $4, format = $5,
                    sealed_secret = $6, enabled = $7,
                    consecutive_failures = CASE WHEN $7 AND NOT enabled THEN 0 ELSE consecutive_failures END,
                    retry_at = CASE WHEN $7 AND NOT enabled THEN 0 ELSE retry_at END
                 WHERE id = $1",
            )
            .bind(&row.id)
            .bind(&row.url)
            .bind(&row.description)
            .bind(&row.event_types)
            .bind(&row.format)
            .bind(&row.sealed_secret)
            .bind(row.enabled)
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                return Ok(false);
            }
            Audit {
                at: now,
                actor,
                action: "webhook.updated",
                detail: format!("{} {} ({}), events {}, enabled {}", row.id, row.url, row.format, row.event_types, row.enabled),
            }
            .write(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        }.await);
        Ok(done?)
    }

    /// Removes a webhook and its deliveries, audited; `false` when there is none.
    pub async fn delete_webhook(&self, id: &str, actor: &str, now: i64) -> Result<bool, ApiError> {
        let done: Result<bool, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let deleted = sqlx::query("DELETE FROM webhooks WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if deleted.rows_affected() == 0 {
                return Ok(false);
            }
            sqlx::query("DELETE FROM webhook_deliveries WHERE webhook_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            Audit { at: now, actor, action: "webhook.deleted", detail: id.to_owned() }
                .write(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        }.await);
        Ok(done?)
    }

    /// One webhook.
    pub async fn webhook(&self, id: &str) -> Result<Option<WebhookRow>, sqlx::Error> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1");
        with_db!(&self.db, pool => sqlx::query_as::<_, WebhookRow>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)
    }

    /// Every webhook, by ID (there are few).
    pub async fn webhooks(&self) -> Result<Vec<WebhookRow>, sqlx::Error> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY id");
        with_db!(&self.db, pool => sqlx::query_as::<_, WebhookRow>(&sql)
            .fetch_all(pool)
            .await)
    }

    /// A webhook's pending and dead deliveries.
    pub async fn delivery_counts(&self, webhook_id: &str) -> Result<DeliveryCounts, sqlx::Error> {
        let (pending, dead, oldest): (i64, i64, Option<i64>) = with_db!(&self.db, pool => sqlx::query_as(
            "SELECT
                (SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'pending'),
                (SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'dead'),
                (SELECT MIN(e.received_at) FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
                 WHERE d.webhook_id = $1 AND d.status = 'pending')",
        )
        .bind(webhook_id)
        .fetch_one(pool)
        .await)?;
        Ok(DeliveryCounts {
            pending,
            dead,
            oldest_pending_at: oldest,
        })
    }

    /// Every webhook's pending and dead deliveries together, for the gauges.
    pub async fn all_delivery_counts(&self) -> Result<DeliveryCounts, sqlx::Error> {
        let (pending, dead, oldest): (i64, i64, Option<i64>) = with_db!(&self.db, pool => sqlx::query_as(
            "SELECT
                (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'),
                (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'dead'),
                (SELECT MIN(e.received_at) FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
                 WHERE d.status = 'pending')",
        )
        .fetch_one(pool)
        .await)?;
        Ok(DeliveryCounts {
            pending,
            dead,
            oldest_pending_at: oldest,
        })
    }

    /// A webhook's deliveries, newest first, of one status or any, before `before` (an ID).
    /// Only the filters given are in the statement (see [`AdminStore::events`]).
    pub async fn deliveries(
        &self,
        webhook_id: &str,
        status: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, sqlx::Error> {
        with_db!(&self.db, pool => {
            let mut query = sqlx::QueryBuilder::new(
                "SELECT d.id, d.webhook_id, d.event_seq, e.id AS event_id, e.type AS event_type,
                        d.enrollment_id, d.status, d.attempts, d.next_attempt_at, d.last_attempt_at,
                        d.response_status, d.last_error, d.completed_at
                 FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
                 WHERE d.webhook_id = ",
            );
            query.push_bind(webhook_id);
            if let Some(status) = status {
                query.push(" AND d.status = ").push_bind(status);
            }
            if let Some(before) = before {
                query.push(" AND d.id < ").push_bind(before);
            }
            query.push(" ORDER BY d.id DESC LIMIT ").push_bind(limit);
            query.build_query_as::<DeliveryRow>().fetch_all(pool).await
        })
    }

    /// Puts dead deliveries of a webhook back in line (all of them, or those in `ids`), to
    /// be attempted now with a fresh count; how many. Audited.
    pub async fn replay(
        &self,
        webhook_id: &str,
        ids: Option<&[i64]>,
        actor: &str,
        now: i64,
    ) -> Result<u64, sqlx::Error> {
        with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let mut update = sqlx::QueryBuilder::new(
                "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, completed_at = NULL, next_attempt_at = ",
            );
            update.push_bind(now);
            update.push(" WHERE status = 'dead' AND webhook_id = ");
            update.push_bind(webhook_id);
            if let Some(ids) = ids {
                update.push(" AND id IN (");
                let mut list = update.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                update.push(")");
            }
            let replayed = update.build().execute(&mut *tx).await?.rows_affected();
            if replayed > 0 {
                sqlx::query("UPDATE webhooks SET retry_at = 0 WHERE id = $1")
                    .bind(webhook_id)
                    .execute(&mut *tx)
                    .await?;
                Audit {
                    at: now,
                    actor,
                    action: "webhook.replayed",
                    detail: format!("{webhook_id}: {replayed} dead deliveries"),
                }
                .write(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(replayed)
        }.await)
    }

    /// The deliveries to attempt at `now`, at most `limit`: for each endpoint that may be
    /// tried, the oldest pending delivery of each enrollment, if it is due. Each is for a
    /// different (endpoint, enrollment), so they may be sent at once without reordering.
    pub async fn due_deliveries(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<DueDelivery>, sqlx::Error> {
        let ids: Vec<(i64, i64, String, i64)> = with_db!(&self.db, pool => sqlx::query_as(
            "SELECT d.id, d.attempts, d.webhook_id, d.event_seq FROM webhook_deliveries d
             JOIN webhooks w ON w.id = d.webhook_id
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND w.enabled AND w.retry_at <= $1
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
                   WHERE p.status = 'pending' AND p.webhook_id = d.webhook_id
                     AND p.enrollment_id = d.enrollment_id AND p.event_seq < d.event_seq)
             ORDER BY d.id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Two more reads for the whole round, not two per delivery: the webhooks (few), and
        // the round's events by `seq`.
        let webhooks: std::collections::HashMap<String, WebhookRow> = self
            .webhooks()
            .await?
            .into_iter()
            .map(|w| (w.id.clone(), w))
            .collect();
        let events: std::collections::HashMap<i64, EventRow> = with_db!(&self.db, pool => {
            let mut query = sqlx::QueryBuilder::new(format!(
                "SELECT {} FROM events e WHERE e.seq IN (",
                super::EVENT_COLUMNS
            ));
            let mut list = query.separated(", ");
            for (_, _, _, seq) in &ids {
                list.push_bind(*seq);
            }
            query.push(")");
            query.build_query_as::<EventRow>().fetch_all(pool).await
        })?
        .into_iter()
        .map(|e| (e.seq, e))
        .collect();
        Ok(ids
            .into_iter()
            .filter_map(|(id, attempts, webhook_id, seq)| {
                Some(DueDelivery {
                    id,
                    attempts,
                    webhook: webhooks.get(&webhook_id)?.clone(),
                    event: events.get(&seq)?.clone(),
                })
            })
            .collect())
    }

    /// Records an attempt of delivery `id` to `webhook_id` at `now`.
    pub async fn record_attempt(
        &self,
        id: i64,
        webhook_id: &str,
        attempt: &Attempt,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            match attempt {
                Attempt::Delivered { status } => {
                    sqlx::query(
                        "UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1,
                            last_attempt_at = $2, response_status = $3, last_error = NULL, completed_at = $2
                         WHERE id = $1 AND status = 'pending'",
                    )
                    .bind(id)
                    .bind(now)
                    .bind(i64::from(*status))
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "UPDATE webhooks SET consecutive_failures = 0, retry_at = 0, last_success_at = $2 WHERE id = $1",
                    )
                    .bind(webhook_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                Attempt::Failed { status, error, retry_at, dead } => {
                    sqlx::query(
                        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = $2,
                            response_status = $3, last_error = $4, next_attempt_at = $5,
                            status = CASE WHEN $6 THEN 'dead' ELSE status END,
                            completed_at = CASE WHEN $6 THEN $2 ELSE NULL END
                         WHERE id = $1 AND status = 'pending'",
                    )
                    .bind(id)
                    .bind(now)
                    .bind(status.map(i64::from))
                    .bind(error)
                    .bind(retry_at)
                    .bind(dead)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("UPDATE webhooks SET last_failure_at = $2, last_error = $3 WHERE id = $1")
                        .bind(webhook_id)
                        .bind(now)
                        .bind(error)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await
        }.await)
    }

    /// Holds an endpoint that failed a round (and delivered nothing in it) back until
    /// `retry_at`: its pending deliveries wait, instead of each failing on its own.
    pub async fn pause_endpoint(&self, webhook_id: &str, retry_at: i64) -> Result<(), sqlx::Error> {
        with_db!(&self.db, pool => sqlx::query(
            "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1, retry_at = $2 WHERE id = $1",
        )
        .bind(webhook_id)
        .bind(retry_at)
        .execute(pool)
        .await
        .map(|_| ()))
    }

    /// Claims lease `name` for `holder` until `until`, or renews it; false when another holder
    /// has it at `now`.
    pub async fn claim_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, sqlx::Error> {
        with_db!(&self.db, pool => async {
            sqlx::query("INSERT INTO leases (name, holder, until) VALUES ($1, '', 0) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .execute(pool)
                .await?;
            let claimed = sqlx::query(
                "UPDATE leases SET holder = $2, until = $4 WHERE name = $1 AND (holder = $2 OR until <= $3)",
            )
            .bind(name)
            .bind(holder)
            .bind(now)
            .bind(until)
            .execute(pool)
            .await?;
            Ok(claimed.rows_affected() > 0)
        }.await)
    }
}
