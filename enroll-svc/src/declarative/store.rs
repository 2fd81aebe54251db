//! Declarations, sets and assignments on SQLite or PostgreSQL, and what each device is served.
//!
//! Every change is one transaction that also answers which enrolled devices' manifests it
//! changed (the enrollments to sync), so a change and the list of devices it concerns can never
//! disagree. Lists of enrollment IDs travel into SQL as one JSON array (`json_each` /
//! `jsonb_array_elements_text`): assigning a set to 100,000 devices is a handful of statements.

use crate::error::Error;
use mdm_core::ddm::Declaration;
use service_kit::db::{BeginWrite, Db};
use service_kit::{now_ms, with_db};

/// Declarations in one set at most: a manifest stays a few hundred kilobytes.
pub const MAX_SET_DECLARATIONS: usize = 1_000;
/// Enrollments named in one assignment request at most (the command queue's fan-out limit).
pub const MAX_ASSIGNMENTS_PER_REQUEST: usize = 100_000;
/// The longest set name: it is a segment of the admin API's URLs.
pub const MAX_SET_NAME_LEN: usize = 128;

/// Declarations, sets and assignments.
#[derive(Debug, Clone)]
pub struct DeclarativeStore {
    pub(crate) db: Db,
}

/// A stored declaration.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeclarationRow {
    /// `Identifier`.
    pub identifier: String,
    /// `Type`.
    #[sqlx(rename = "type")]
    pub declaration_type: String,
    /// `Payload`, JSON text as accepted.
    pub payload: String,
    /// `ServerToken`.
    pub server_token: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last change of content.
    pub updated_at: i64,
    /// Who made the last change.
    pub updated_by: String,
}

/// A stored set with its declarations and how many enrollments it is assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetRow {
    /// Its name.
    pub name: String,
    /// Its declarations' identifiers, in the order given.
    pub declarations: Vec<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// Who changed it last.
    pub updated_by: String,
    /// Enrollments it is assigned to.
    pub assigned: i64,
}

/// What a change did: the enrolled devices whose manifest it changed, and an ID unique to it
/// (the idempotency key of the sync that follows). A request that changed nothing has no ID and
/// no devices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    /// Empty when nothing changed.
    pub change_id: String,
    /// Enrolled devices to sync, in ID order.
    pub sync: Vec<String>,
}

impl Change {
    fn made(sync: Vec<String>) -> Change {
        Change {
            change_id: uuid::Uuid::now_v7().to_string(),
            sync,
        }
    }
}

/// One declaration a device is served: what its manifest lists.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ServedItem {
    /// `Identifier`.
    pub identifier: String,
    /// `Type`.
    #[sqlx(rename = "type")]
    pub declaration_type: String,
    /// `ServerToken`.
    pub server_token: String,
    /// When its content last changed (Unix ms).
    pub updated_at: i64,
}

/// The rows of a JSON array of strings bound as `$1`, as a table with one column `value`.
pub(crate) fn json_rows(db: &Db, parameter: &str) -> String {
    match db {
        Db::Sqlite(_) => format!("SELECT value FROM json_each({parameter})"),
        Db::Postgres(_) => {
            format!("SELECT value FROM jsonb_array_elements_text(CAST({parameter} AS jsonb))")
        }
    }
}

/// The enrolled devices among those that hold a set (`set_name = $1`) or any set holding a
/// declaration (`identifier = $1`).
const ENROLLED_OF_SET: &str = "SELECT a.enrollment_id FROM declaration_set_assignments a
     JOIN enrollments e ON e.id = a.enrollment_id AND e.status = 'enrolled'
     WHERE a.set_name = $1 ORDER BY a.enrollment_id";
const ENROLLED_OF_DECLARATION: &str = "SELECT DISTINCT a.enrollment_id
     FROM declaration_set_members m
     JOIN declaration_set_assignments a ON a.set_name = m.set_name
     JOIN enrollments e ON e.id = a.enrollment_id AND e.status = 'enrolled'
     WHERE m.identifier = $1 ORDER BY a.enrollment_id";

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

/// At most this many unknown names are listed in an error.
const NAMED_IN_ERRORS: usize = 10;

fn named(list: &[String]) -> String {
    let mut shown = list
        .iter()
        .take(NAMED_IN_ERRORS)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > NAMED_IN_ERRORS {
        shown.push_str(&format!(" and {} more", list.len() - NAMED_IN_ERRORS));
    }
    shown
}

impl DeclarativeStore {
    /// A store on `db`, whose migrations (enroll-svc's) have run.
    pub fn new(db: Db) -> DeclarativeStore {
        DeclarativeStore { db }
    }

    /// The database (tests read it directly).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Creates or replaces a declaration checked already ([`mdm_core::ddm::check_declaration`]).
    /// The same content again changes nothing (same `ServerToken`); new content syncs every
    /// enrolled device holding it through a set.
    pub async fn put_declaration(
        &self,
        declaration: &Declaration,
        by: &str,
    ) -> Result<(DeclarationRow, Change), Error> {
        self.put(declaration, None, by).await
    }

    /// Stores an asset the server keeps: its declaration as [`Self::put_declaration`] does, and
    /// its sealed data with it, in the same transaction.
    pub async fn put_asset(
        &self,
        asset: &super::assets::Asset,
        by: &str,
    ) -> Result<(DeclarationRow, Change), Error> {
        self.put(&asset.declaration, Some(asset), by).await
    }

    async fn put(
        &self,
        declaration: &Declaration,
        asset: Option<&super::assets::Asset>,
        by: &str,
    ) -> Result<(DeclarationRow, Change), Error> {
        let payload = serde_json::Value::Object(declaration.payload.clone()).to_string();
        let now = now_ms();
        let result: Result<(DeclarationRow, Option<Vec<String>>), sqlx::Error> = with_db!(&self.db, pool => async {
                let mut tx = pool.begin_write().await?;
                let before: Option<String> =
                    sqlx::query_scalar("SELECT server_token FROM declarations WHERE identifier = $1")
                        .bind(&declaration.identifier)
                        .fetch_optional(&mut *tx)
                        .await?;
                if before.as_deref() == Some(declaration.server_token.as_str()) {
                    let row = sqlx::query_as::<_, DeclarationRow>(
                        "SELECT * FROM declarations WHERE identifier = $1",
                    )
                    .bind(&declaration.identifier)
                    .fetch_one(&mut *tx)
                    .await?;
                    return Ok((row, None));
                }
                let row = sqlx::query_as::<_, DeclarationRow>(
                    "INSERT INTO declarations
                        (identifier, type, payload, server_token, created_at, updated_at, updated_by)
                     VALUES ($1, $2, $3, $4, $5, $5, $6)
                     ON CONFLICT (identifier) DO UPDATE SET type = excluded.type,
                        payload = excluded.payload, server_token = excluded.server_token,
                        updated_at = excluded.updated_at, updated_by = excluded.updated_by
                     RETURNING *",
                )
                .bind(&declaration.identifier)
                .bind(&declaration.declaration_type)
                .bind(&payload)
                .bind(&declaration.server_token)
                .bind(now)
                .bind(by)
                .fetch_one(&mut *tx)
                .await?;
                match asset {
                    // Its data: the declaration's Reference names its size and digest, so new
                    // data always comes with a new ServerToken.
                    Some(asset) => {
                        sqlx::query(
                            "INSERT INTO declaration_assets (identifier, content_type, sealed, updated_at)
                             VALUES ($1, $2, $3, $4)
                             ON CONFLICT (identifier) DO UPDATE SET content_type = excluded.content_type,
                                sealed = excluded.sealed, updated_at = excluded.updated_at",
                        )
                        .bind(&declaration.identifier)
                        .bind(&asset.content_type)
                        .bind(&asset.sealed)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    // A declaration given whole references its data elsewhere: data kept for an
                    // earlier version of it would never be fetched again.
                    None => {
                        sqlx::query("DELETE FROM declaration_assets WHERE identifier = $1")
                            .bind(&declaration.identifier)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                let sync: Vec<String> = sqlx::query_scalar(ENROLLED_OF_DECLARATION)
                    .bind(&declaration.identifier)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok((row, Some(sync)))
            }.await);
        let (row, sync) = result?;
        Ok((row, sync.map(Change::made).unwrap_or_default()))
    }

    /// One declaration.
    pub async fn declaration(&self, identifier: &str) -> Result<Option<DeclarationRow>, Error> {
        let row = with_db!(&self.db, pool => {
            sqlx::query_as::<_, DeclarationRow>("SELECT * FROM declarations WHERE identifier = $1")
                .bind(identifier)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row)
    }

    /// The sets holding a declaration, by name.
    pub async fn sets_of(&self, identifier: &str) -> Result<Vec<String>, Error> {
        let sets = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT set_name FROM declaration_set_members WHERE identifier = $1 ORDER BY set_name",
            )
            .bind(identifier)
            .fetch_all(pool)
            .await
        })?;
        Ok(sets)
    }

    /// Declarations in identifier order after `after`, at most `limit`.
    pub async fn declarations(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<Vec<DeclarationRow>, Error> {
        let rows = with_db!(&self.db, pool => {
            sqlx::query_as::<_, DeclarationRow>(
                "SELECT * FROM declarations WHERE identifier > $1 ORDER BY identifier LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Deletes a declaration no set holds (a set's devices would lose it unannounced otherwise).
    pub async fn delete_declaration(&self, identifier: &str) -> Result<(), Error> {
        let sets = self.sets_of(identifier).await?;
        if !sets.is_empty() {
            return Err(Error::Conflict(format!(
                "declaration {identifier:?} is in the sets {}: take it out of them first",
                named(&sets)
            )));
        }
        let deleted = with_db!(&self.db, pool => {
            sqlx::query("DELETE FROM declarations WHERE identifier = $1")
                .bind(identifier)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        });
        match deleted {
            Ok(0) => Err(Error::Absent(format!("no declaration {identifier:?}"))),
            Ok(_) => Ok(()),
            // A set took it in between: the foreign key refuses.
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Err(Error::Conflict(
                format!("declaration {identifier:?} is in a set: take it out of it first"),
            )),
            Err(e) => Err(e.into()),
        }
    }

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
            let mut sets = Vec::with_capacity(heads.len());
            for (name, created_at, updated_at, updated_by, assigned) in heads {
                let declarations = sqlx::query_scalar(
                    "SELECT identifier FROM declaration_set_members WHERE set_name = $1 ORDER BY position",
                )
                .bind(&name)
                .fetch_all(pool)
                .await?;
                sets.push(SetRow { name, declarations, created_at, updated_at, updated_by, assigned });
            }
            Ok(sets)
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
