//! Declaration sets and their assignments to enrollments. A change that alters what devices hold
//! answers the enrolled devices it concerns, in the same transaction (see [`super::store`]).
//! Lists of enrollment IDs travel into SQL as one JSON array (`json_each` /
//! `jsonb_array_elements_text`): assigning a set to 100,000 devices is a handful of statements.

use super::store::{json_rows, named, Change, DeclarativeStore, SetRow};
use crate::error::Error;
use service_kit::db::BeginWrite;
use service_kit::{now_ms, with_db};
use std::collections::BTreeMap;

/// Declarations in one set at most: a manifest stays a few hundred kilobytes.
pub const MAX_SET_DECLARATIONS: usize = 1_000;
/// Enrollments named in one assignment request at most (the command queue's fan-out limit).
pub const MAX_ASSIGNMENTS_PER_REQUEST: usize = 100_000;
/// The longest set name: it is a segment of the admin API's URLs.
pub const MAX_SET_NAME_LEN: usize = 128;

/// The enrolled devices a set (`set_name = $1`) is assigned to.
const ENROLLED_OF_SET: &str = "SELECT a.enrollment_id FROM declaration_set_assignments a
     JOIN enrollments e ON e.id = a.enrollment_id AND e.status = 'enrolled'
     WHERE a.set_name = $1 ORDER BY a.enrollment_id";

/// A set name is a URL segment of the admin API: printable, no `/`, bounded.
fn check_set_name(name: &str) -> Result<(), Error> {
    if name.trim().is_empty()
        || name.len() > MAX_SET_NAME_LEN
        || name.contains('/')
        || name.chars().any(char::is_control)
    {
        return Err(Error::InvalidRequest(format!(
            "a set name is 1 to {MAX_SET_NAME_LEN} bytes of printable text without '/'"
        )));
    }
    Ok(())
}

impl DeclarativeStore {
    /// Creates a set or replaces its declarations (each must exist). A new membership syncs
    /// every enrolled device the set is assigned to.
    pub async fn put_set(
        &self,
        name: &str,
        declarations: &[String],
        by: &str,
    ) -> Result<(SetRow, Change), Error> {
        check_set_name(name)?;
        let mut members: Vec<String> = Vec::with_capacity(declarations.len());
        for identifier in declarations {
            if !members.contains(identifier) {
                members.push(identifier.clone());
            }
        }
        if members.len() > MAX_SET_DECLARATIONS {
            return Err(Error::InvalidRequest(format!(
                "a set holds at most {MAX_SET_DECLARATIONS} declarations"
            )));
        }
        let members_json = serde_json::to_string(&members).unwrap_or_default();
        let rows = json_rows(&self.db, "$1");
        let now = now_ms();
        let result: Result<Result<Option<Vec<String>>, Vec<String>>, sqlx::Error> = with_db!(&self.db, pool => async {
                let mut tx = pool.begin_write().await?;
                let unknown: Vec<String> = sqlx::query_scalar(&format!(
                    "SELECT value FROM ({rows}) AS wanted
                     WHERE value NOT IN (SELECT identifier FROM declarations)"
                ))
                .bind(&members_json)
                .fetch_all(&mut *tx)
                .await?;
                if !unknown.is_empty() {
                    return Ok(Err(unknown));
                }
                let before: Vec<String> = sqlx::query_scalar(
                    "SELECT identifier FROM declaration_set_members WHERE set_name = $1 ORDER BY position",
                )
                .bind(name)
                .fetch_all(&mut *tx)
                .await?;
                let existed = sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM declaration_sets WHERE name = $1",
                )
                .bind(name)
                .fetch_one(&mut *tx)
                .await?
                    > 0;
                if existed && before == members {
                    return Ok(Ok(None));
                }
                sqlx::query(
                    "INSERT INTO declaration_sets (name, created_at, updated_at, updated_by)
                     VALUES ($1, $2, $2, $3)
                     ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at,
                        updated_by = excluded.updated_by",
                )
                .bind(name)
                .bind(now)
                .bind(by)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM declaration_set_members WHERE set_name = $1")
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
                for (position, identifier) in members.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO declaration_set_members (set_name, identifier, position)
                         VALUES ($1, $2, $3)",
                    )
                    .bind(name)
                    .bind(identifier)
                    .bind(position as i64)
                    .execute(&mut *tx)
                    .await?;
                }
                // The same declarations in another order change no device's manifest.
                let mut was = before;
                was.sort_unstable();
                let mut now_held = members.clone();
                now_held.sort_unstable();
                let sync: Vec<String> = if existed && was == now_held {
                    Vec::new()
                } else {
                    sqlx::query_scalar(ENROLLED_OF_SET)
                        .bind(name)
                        .fetch_all(&mut *tx)
                        .await?
                };
                tx.commit().await?;
                Ok(Ok(Some(sync)))
            }.await);
        let change = match result? {
            Err(unknown) => {
                return Err(Error::InvalidRequest(format!(
                    "unknown declarations: {}",
                    named(&unknown)
                )))
            }
            Ok(sync) => sync.map(Change::made).unwrap_or_default(),
        };
        let set = self.set(name).await?.ok_or_else(|| {
            Error::Conflict(format!("set {name:?} was deleted while it was changed"))
        })?;
        Ok((set, change))
    }

    /// One set.
    pub async fn set(&self, name: &str) -> Result<Option<SetRow>, Error> {
        Ok(self.sets_where(name, "", 1).await?.into_iter().next())
    }

    /// Sets in name order after `after`, at most `limit`.
    pub async fn sets(&self, after: &str, limit: i64) -> Result<Vec<SetRow>, Error> {
        self.sets_where("", after, limit).await
    }

    /// The set `only` (when not empty), or the sets after `after`.
    async fn sets_where(&self, only: &str, after: &str, limit: i64) -> Result<Vec<SetRow>, Error> {
        type Head = (String, i64, i64, String, i64);
        let members_sql = format!(
            "SELECT set_name, identifier FROM declaration_set_members
             WHERE set_name IN ({}) ORDER BY set_name, position",
            json_rows(&self.db, "$1")
        );
        let result: Result<Vec<SetRow>, sqlx::Error> = with_db!(&self.db, pool => async {
            let heads: Vec<Head> = sqlx::query_as(
                "SELECT s.name, s.created_at, s.updated_at, s.updated_by,
                    (SELECT COUNT(*) FROM declaration_set_assignments a WHERE a.set_name = s.name)
                 FROM declaration_sets s
                 WHERE ($1 = '' OR s.name = $1) AND s.name > $2
                 ORDER BY s.name LIMIT $3",
            )
            .bind(only)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            // Every set's members in one statement, whatever the page's size.
            let names: Vec<&str> = heads.iter().map(|head| head.0.as_str()).collect();
            let members: Vec<(String, String)> = sqlx::query_as(&members_sql)
                .bind(serde_json::to_string(&names).unwrap_or_default())
                .fetch_all(pool)
                .await?;
            let mut by_set: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (set_name, identifier) in members {
                by_set.entry(set_name).or_default().push(identifier);
            }
            Ok(heads
                .into_iter()
                .map(|(name, created_at, updated_at, updated_by, assigned)| SetRow {
                    declarations: by_set.remove(&name).unwrap_or_default(),
                    name,
                    created_at,
                    updated_at,
                    updated_by,
                    assigned,
                })
                .collect())
        }.await);
        Ok(result?)
    }

    /// Deletes a set and its assignments; the enrolled devices it was assigned to sync.
    pub async fn delete_set(&self, name: &str) -> Result<Change, Error> {
        let result: Result<Option<Vec<String>>, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let sync: Vec<String> = sqlx::query_scalar(ENROLLED_OF_SET)
                .bind(name)
                .fetch_all(&mut *tx)
                .await?;
            let deleted = sqlx::query("DELETE FROM declaration_sets WHERE name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?;
            if deleted.rows_affected() == 0 {
                return Ok(None);
            }
            tx.commit().await?;
            Ok(Some(sync))
        }.await);
        match result? {
            None => Err(Error::Absent(format!("no declaration set {name:?}"))),
            Some(sync) => Ok(Change::made(sync)),
        }
    }

    /// Assigns a set to enrollments and takes it back from others (each must be known here,
    /// in any status). Only the assignments that changed sync their devices.
    pub async fn assign(
        &self,
        name: &str,
        assign: &[String],
        unassign: &[String],
        by: &str,
    ) -> Result<(SetRow, Change), Error> {
        if assign.len() + unassign.len() > MAX_ASSIGNMENTS_PER_REQUEST {
            return Err(Error::InvalidRequest(format!(
                "at most {MAX_ASSIGNMENTS_PER_REQUEST} enrollments per request"
            )));
        }
        if let Some(both) = assign.iter().find(|id| unassign.contains(id)) {
            return Err(Error::InvalidRequest(format!(
                "{both} is both assigned and unassigned"
            )));
        }
        let assign_json = serde_json::to_string(assign).unwrap_or_default();
        let unassign_json = serde_json::to_string(unassign).unwrap_or_default();
        let rows = json_rows(&self.db, "$1");
        let rows_2 = json_rows(&self.db, "$2");
        let now = now_ms();
        enum Outcome {
            NoSet,
            Unknown(Vec<String>),
            Changed(Vec<String>),
        }
        let result: Result<Outcome, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let exists = sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM declaration_sets WHERE name = $1",
            )
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
            if exists == 0 {
                return Ok(Outcome::NoSet);
            }
            let unknown: Vec<String> = sqlx::query_scalar(&format!(
                "SELECT value FROM ({rows}) AS wanted
                 WHERE value NOT IN (SELECT id FROM enrollments) LIMIT 11"
            ))
            .bind(&assign_json)
            .fetch_all(&mut *tx)
            .await?;
            if !unknown.is_empty() {
                return Ok(Outcome::Unknown(unknown));
            }
            let mut changed: Vec<String> = sqlx::query_scalar(&format!(
                "INSERT INTO declaration_set_assignments (set_name, enrollment_id, assigned_at, assigned_by)
                 SELECT $2, value, $3, $4 FROM ({rows}) AS wanted WHERE true
                 ON CONFLICT (set_name, enrollment_id) DO NOTHING
                 RETURNING enrollment_id"
            ))
            .bind(&assign_json)
            .bind(name)
            .bind(now)
            .bind(by)
            .fetch_all(&mut *tx)
            .await?;
            let removed: Vec<String> = sqlx::query_scalar(&format!(
                "DELETE FROM declaration_set_assignments
                 WHERE set_name = $1 AND enrollment_id IN ({rows_2})
                 RETURNING enrollment_id"
            ))
            .bind(name)
            .bind(&unassign_json)
            .fetch_all(&mut *tx)
            .await?;
            changed.extend(removed);
            let changed_json = serde_json::to_string(&changed).unwrap_or_default();
            let sync: Vec<String> = sqlx::query_scalar(&format!(
                "SELECT id FROM enrollments WHERE status = 'enrolled' AND id IN ({rows})
                 ORDER BY id"
            ))
            .bind(&changed_json)
            .fetch_all(&mut *tx)
            .await?;
            if !changed.is_empty() {
                sqlx::query("UPDATE declaration_sets SET updated_at = $2, updated_by = $3 WHERE name = $1")
                    .bind(name)
                    .bind(now)
                    .bind(by)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(Outcome::Changed(if changed.is_empty() { Vec::new() } else { sync }))
        }.await);
        let change = match result? {
            Outcome::NoSet => return Err(Error::Absent(format!("no declaration set {name:?}"))),
            Outcome::Unknown(unknown) => {
                return Err(Error::InvalidRequest(format!(
                    "unknown enrollments: {}",
                    named(&unknown)
                )))
            }
            Outcome::Changed(sync) if sync.is_empty() => Change::default(),
            Outcome::Changed(sync) => Change::made(sync),
        };
        let set = self
            .set(name)
            .await?
            .ok_or_else(|| Error::Absent(format!("no declaration set {name:?}")))?;
        Ok((set, change))
    }

    /// The enrollments a set is assigned to, in ID order after `after`.
    pub async fn assignments(
        &self,
        name: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<String>, Error> {
        if self.set(name).await?.is_none() {
            return Err(Error::Absent(format!("no declaration set {name:?}")));
        }
        let ids = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT enrollment_id FROM declaration_set_assignments
                 WHERE set_name = $1 AND enrollment_id > $2 ORDER BY enrollment_id LIMIT $3",
            )
            .bind(name)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(ids)
    }
}
