//! What devices report (`status` check-ins): the latest state of each declaration a device
//! holds, the latest value of each status item with every change kept for the retention period,
//! and a `declaration.status_changed` event when a declaration's state changed.

use super::served::{Channel, BOUND};
use super::store::DeclarativeStore;
use crate::error::Error;
use mdm_core::ddm::{DeclarationStatus, Reason, StatusReport};
use service_kit::db::BeginWrite;
use service_kit::events::NewEvent;
use service_kit::{now_ms, with_db};
use std::collections::BTreeMap;

/// The status item that lists the declarations: stored per declaration, not as an item.
const DECLARATIONS_ITEM: &str = "management.declarations";
/// Status items one report may carry at most; a real full report has a few dozen.
pub const MAX_ITEMS_PER_REPORT: usize = 1_000;
/// Declarations one report may describe at most (as many as a device can be served).
pub const MAX_DECLARATIONS_PER_REPORT: usize = 10_000;

/// A declaration on an enrollment: served through a set, and what the device last reported.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeclarationStateRow {
    /// The enrollment.
    pub enrollment_id: String,
    /// The declaration.
    pub identifier: String,
    /// Its `Type`.
    #[sqlx(rename = "type")]
    pub declaration_type: String,
    /// The `ServerToken` served now.
    pub server_token: String,
    /// The `ServerToken` the device reported on, if it reported.
    pub reported_server_token: Option<String>,
    /// Reported active.
    pub active: Option<bool>,
    /// Reported `valid`, `invalid` or `unknown`.
    pub valid: Option<String>,
    /// Reported reasons, JSON.
    pub reasons: Option<String>,
    /// Unix ms of the report.
    pub reported_at: Option<i64>,
}

/// Which states a listing keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateFilter {
    /// All.
    #[default]
    All,
    /// Reported active and valid on the version served now.
    Applied,
    /// Not reported on the version served now.
    Pending,
    /// Reported invalid.
    Failed,
}

impl StateFilter {
    fn sql(self) -> &'static str {
        match self {
            StateFilter::All => "",
            StateFilter::Applied => {
                " AND ds.server_token = d.server_token AND ds.active AND ds.valid = 'valid'"
            }
            StateFilter::Pending => {
                " AND (ds.server_token IS NULL OR ds.server_token <> d.server_token)"
            }
            StateFilter::Failed => " AND ds.valid = 'invalid'",
        }
    }
}

/// A status item's latest value.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StatusItemRow {
    /// Its name.
    pub item: String,
    /// Its value, JSON text.
    pub value: String,
    /// Unix ms.
    pub reported_at: i64,
}

/// One change of a status item, as the history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StatusChangeRow {
    /// Its place in the history (later changes have larger ones).
    pub id: i64,
    /// The item.
    pub item: String,
    /// Its new value, JSON text.
    pub value: String,
    /// Unix ms.
    pub reported_at: i64,
}

/// The columns of a [`DeclarationStateRow`], from `a` (assignments), `d` (declarations) and
/// `ds` (reported status).
const STATE_COLUMNS: &str = "SELECT DISTINCT a.enrollment_id, d.identifier, d.type, d.server_token,
        ds.server_token AS reported_server_token, ds.active, ds.valid, ds.reasons, ds.reported_at
     FROM declaration_set_assignments a
     JOIN declaration_set_members m ON m.set_name = a.set_name
     JOIN declarations d ON d.identifier = m.identifier
     LEFT JOIN declaration_status ds
        ON ds.enrollment_id = a.enrollment_id AND ds.identifier = d.identifier";

fn reasons_json(reasons: &[Reason]) -> String {
    let list: Vec<serde_json::Value> = reasons
        .iter()
        .map(|r| {
            serde_json::json!({"Code": r.code, "Description": r.description, "Details": r.details})
        })
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// A declaration's reported state as stored and compared.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Reported {
    identifier: String,
    server_token: String,
    active: bool,
    valid: String,
    reasons: String,
}

impl Reported {
    fn of(status: &DeclarationStatus) -> Reported {
        Reported {
            identifier: status.identifier.clone(),
            server_token: status.server_token.clone(),
            active: status.active,
            valid: status.valid.clone(),
            reasons: reasons_json(&status.reasons),
        }
    }
}

impl DeclarativeStore {
    /// Stores one status report of `enrollment_id` in one transaction. When the report lists the
    /// declarations (`management.declarations`: always the whole list), it replaces what was
    /// held; each item's value is kept, and a change of value also goes to the history. A
    /// changed declaration state writes a `declaration.status_changed` event with it.
    ///
    /// The certificate's binding to `channel` is checked in the same transaction; `false` when
    /// it did not hold (nothing is stored).
    pub async fn record_status(
        &self,
        channel: &Channel<'_>,
        report: &StatusReport,
    ) -> Result<bool, Error> {
        let enrollment_id = channel.id;
        if report.items.len() > MAX_ITEMS_PER_REPORT
            || report.declarations.len() > MAX_DECLARATIONS_PER_REPORT
        {
            return Err(Error::InvalidRequest(format!(
                "a status report carries at most {MAX_ITEMS_PER_REPORT} items and \
                 {MAX_DECLARATIONS_PER_REPORT} declarations"
            )));
        }
        let lists_declarations = report.items.contains_key(DECLARATIONS_ITEM);
        let reported: BTreeMap<&str, Reported> = report
            .declarations
            .iter()
            .map(|s| (s.identifier.as_str(), Reported::of(s)))
            .collect();
        let now = now_ms();
        let bound_sql = format!("SELECT COUNT(*) FROM enrollments e WHERE {BOUND}");
        let result: Result<bool, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let bound: i64 = sqlx::query_scalar(&bound_sql)
                .bind(channel.id)
                .bind(channel.device_id)
                .bind(channel.cert_sha256)
                .fetch_one(&mut *tx)
                .await?;
            if bound == 0 {
                return Ok(false);
            }
            let mut changed = Vec::new();
            if lists_declarations {
                let held: Vec<Reported> = sqlx::query_as(
                    "SELECT identifier, server_token, active, valid, reasons
                     FROM declaration_status WHERE enrollment_id = $1",
                )
                .bind(enrollment_id)
                .fetch_all(&mut *tx)
                .await?;
                let held: BTreeMap<String, Reported> =
                    held.into_iter().map(|r| (r.identifier.clone(), r)).collect();
                for (identifier, state) in &reported {
                    if held.get(*identifier) == Some(state) {
                        continue;
                    }
                    sqlx::query(
                        "INSERT INTO declaration_status
                            (enrollment_id, identifier, server_token, active, valid, reasons, reported_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)
                         ON CONFLICT (enrollment_id, identifier) DO UPDATE SET
                            server_token = excluded.server_token, active = excluded.active,
                            valid = excluded.valid, reasons = excluded.reasons,
                            reported_at = excluded.reported_at",
                    )
                    .bind(enrollment_id)
                    .bind(identifier)
                    .bind(&state.server_token)
                    .bind(state.active)
                    .bind(&state.valid)
                    .bind(&state.reasons)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    changed.push(serde_json::json!({
                        "identifier": identifier,
                        "server_token": state.server_token,
                        "active": state.active,
                        "valid": state.valid,
                        "reasons": serde_json::from_str::<serde_json::Value>(&state.reasons)
                            .unwrap_or_default(),
                    }));
                }
                for identifier in held.keys().filter(|id| !reported.contains_key(id.as_str())) {
                    sqlx::query(
                        "DELETE FROM declaration_status WHERE enrollment_id = $1 AND identifier = $2",
                    )
                    .bind(enrollment_id)
                    .bind(identifier)
                    .execute(&mut *tx)
                    .await?;
                    changed.push(serde_json::json!({"identifier": identifier, "removed": true}));
                }
            }
            for (item, value) in report.items.iter().filter(|(item, _)| *item != DECLARATIONS_ITEM) {
                let value = value.to_string();
                let stored: Option<String> = sqlx::query_scalar(
                    "INSERT INTO status_items (enrollment_id, item, value, reported_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (enrollment_id, item) DO UPDATE SET value = excluded.value,
                        reported_at = excluded.reported_at
                     WHERE status_items.value <> excluded.value
                     RETURNING item",
                )
                .bind(enrollment_id)
                .bind(item)
                .bind(&value)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                if stored.is_some() {
                    sqlx::query(
                        "INSERT INTO status_history (enrollment_id, item, value, reported_at)
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(enrollment_id)
                    .bind(item)
                    .bind(&value)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            sqlx::query(
                "INSERT INTO status_reports (enrollment_id, last_report_at, full_report_at)
                 VALUES ($1, $2, $3)
                 ON CONFLICT (enrollment_id) DO UPDATE SET last_report_at = excluded.last_report_at,
                    full_report_at = COALESCE(excluded.full_report_at, status_reports.full_report_at)",
            )
            .bind(enrollment_id)
            .bind(now)
            .bind(report.full_report.then_some(now))
            .execute(&mut *tx)
            .await?;
            if !changed.is_empty() {
                NewEvent {
                    kind: "declaration.status_changed",
                    enrollment_id,
                    attributes: Some(serde_json::json!({
                        "declarations": changed,
                        "full_report": report.full_report,
                    })),
                    ..NewEvent::default()
                }
                .write(&mut *tx, now)
                .await?;
            }
            tx.commit().await?;
            Ok(true)
        }.await);
        Ok(result?)
    }

    /// The states of one declaration on the enrollments it is served to (`identifier`), or of
    /// every declaration served to one enrollment (`enrollment_id`), after `after` in that
    /// order, at most `limit`.
    pub async fn states(
        &self,
        identifier: Option<&str>,
        enrollment_id: Option<&str>,
        filter: StateFilter,
        after: &str,
        limit: i64,
    ) -> Result<Vec<DeclarationStateRow>, Error> {
        let (key, value, order) = match (identifier, enrollment_id) {
            (Some(identifier), None) => ("d.identifier", identifier, "a.enrollment_id"),
            (None, Some(enrollment_id)) => ("a.enrollment_id", enrollment_id, "d.identifier"),
            _ => {
                return Err(Error::InvalidRequest(
                    "name either a declaration or an enrollment".into(),
                ))
            }
        };
        let sql = format!(
            "{STATE_COLUMNS} WHERE {key} = $1 AND {order} > $2{} ORDER BY {order} LIMIT $3",
            filter.sql()
        );
        let rows = with_db!(&self.db, pool => {
            sqlx::query_as::<_, DeclarationStateRow>(&sql)
                .bind(value)
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await
        })?;
        Ok(rows)
    }

    /// The latest value of each status item of an enrollment, and when it last sent a full
    /// report.
    pub async fn status_items(
        &self,
        enrollment_id: &str,
    ) -> Result<(Vec<StatusItemRow>, Option<i64>), Error> {
        let result: Result<_, sqlx::Error> = with_db!(&self.db, pool => async {
            let items = sqlx::query_as::<_, StatusItemRow>(
                "SELECT item, value, reported_at FROM status_items WHERE enrollment_id = $1 ORDER BY item",
            )
            .bind(enrollment_id)
            .fetch_all(pool)
            .await?;
            let full: Option<Option<i64>> = sqlx::query_scalar(
                "SELECT full_report_at FROM status_reports WHERE enrollment_id = $1",
            )
            .bind(enrollment_id)
            .fetch_optional(pool)
            .await?;
            Ok((items, full.flatten()))
        }.await);
        Ok(result?)
    }

    /// Changes of an enrollment's status items (of `item` only, when given), newest first,
    /// before the change `before_id` (0: from the newest), at most `limit`.
    pub async fn status_history(
        &self,
        enrollment_id: &str,
        item: Option<&str>,
        before_id: i64,
        limit: i64,
    ) -> Result<Vec<StatusChangeRow>, Error> {
        let before_id = if before_id > 0 { before_id } else { i64::MAX };
        let rows = with_db!(&self.db, pool => {
            sqlx::query_as::<_, StatusChangeRow>(
                "SELECT id, item, value, reported_at FROM status_history
                 WHERE enrollment_id = $1 AND ($2 = '' OR item = $2) AND id < $3
                 ORDER BY id DESC LIMIT $4",
            )
            .bind(enrollment_id)
            .bind(item.unwrap_or_default())
            .bind(before_id)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Forgets status history reported before `before_ms`; answers how many changes it dropped.
    pub async fn prune_history(&self, before_ms: i64) -> Result<u64, Error> {
        let done = with_db!(&self.db, pool => {
            sqlx::query("DELETE FROM status_history WHERE reported_at < $1")
                .bind(before_ms)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })?;
        Ok(done)
    }
}
