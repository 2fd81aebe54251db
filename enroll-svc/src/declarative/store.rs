//! Declarations on SQLite or PostgreSQL, and what a change answers.
//!
//! Every change (here and in [`super::sets`]) is one transaction that also answers which
//! enrolled devices' manifests it changed (the enrollments to sync), so a change and the list of
//! devices it concerns can never disagree.

use crate::error::Error;
use mdm_core::ddm::Declaration;
use service_kit::db::{BeginWrite, Db};
use service_kit::{now_ms, with_db};
use std::collections::BTreeMap;

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
    pub(super) fn made(sync: Vec<String>) -> Change {
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

/// The rows of a JSON array of strings bound as `parameter`, as a table with one column `value`.
pub(crate) fn json_rows(db: &Db, parameter: &str) -> String {
    match db {
        Db::Sqlite(_) => format!("SELECT value FROM json_each({parameter})"),
        Db::Postgres(_) => {
            format!("SELECT value FROM jsonb_array_elements_text(CAST({parameter} AS jsonb))")
        }
    }
}

/// The enrolled devices that hold a declaration (`identifier = $1`) through any set.
const ENROLLED_OF_DECLARATION: &str = "SELECT DISTINCT a.enrollment_id
     FROM declaration_set_members m
     JOIN declaration_set_assignments a ON a.set_name = m.set_name
     JOIN enrollments e ON e.id = a.enrollment_id AND e.status = 'enrolled'
     WHERE m.identifier = $1 ORDER BY a.enrollment_id";

/// At most this many unknown names are listed in an error.
const NAMED_IN_ERRORS: usize = 10;

pub(super) fn named(list: &[String]) -> String {
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

    /// The sets holding each of `identifiers` (by name), in one statement; a declaration no set
    /// holds is absent.
    pub async fn sets_holding(
        &self,
        identifiers: &[&str],
    ) -> Result<BTreeMap<String, Vec<String>>, Error> {
        let sql = format!(
            "SELECT identifier, set_name FROM declaration_set_members
             WHERE identifier IN ({}) ORDER BY identifier, set_name",
            json_rows(&self.db, "$1")
        );
        let ids = serde_json::to_string(identifiers).unwrap_or_default();
        let rows: Vec<(String, String)> = with_db!(&self.db, pool => {
            sqlx::query_as(&sql).bind(&ids).fetch_all(pool).await
        })?;
        let mut holding: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (identifier, set_name) in rows {
            holding.entry(identifier).or_default().push(set_name);
        }
        Ok(holding)
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
}
