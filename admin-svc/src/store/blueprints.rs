//! Blueprints (commands applied to a device when it finishes enrolling) and their runs.

use super::{AdminStore, Audit};
use crate::error::ApiError;
use service_kit::db::{is_unique_violation, BeginWrite};
use service_kit::with_db;

/// A blueprint as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BlueprintRow {
    /// Its ID.
    pub id: String,
    /// Its unique name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// A JSON array of command documents.
    pub commands: String,
    /// How many.
    pub command_count: i64,
    /// Every new device, or only those of `enrollment_token_ids`.
    pub applies_to_all: bool,
    /// Comma-separated enrollment token IDs.
    pub enrollment_token_ids: String,
    /// DeviceConfigured after the commands, for a device in Setup Assistant.
    pub device_configured: bool,
    /// Whether new devices get it.
    pub enabled: bool,
    /// Who made it.
    pub created_by: String,
    /// Unix ms.
    pub created_at: i64,
    /// A JSON array of the declaration sets assigned to each device it runs on.
    pub declaration_sets: String,
}

const BLUEPRINT_COLUMNS: &str = "id, name, description, commands, command_count, applies_to_all,
    enrollment_token_ids, device_configured, enabled, created_by, created_at, declaration_sets";

/// A blueprint applied to one enrollment generation.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunRow {
    /// Its ID.
    pub id: String,
    /// The blueprint.
    pub blueprint_id: String,
    /// The device.
    pub enrollment_id: String,
    /// Its enrollment generation.
    pub generation: i64,
    /// It waited in Setup Assistant at its TokenUpdate.
    pub awaiting_configuration: bool,
    /// queueing | waiting | done | failed
    pub status: String,
    /// Commands queued so far.
    pub queued: i64,
    /// Of those, answered (or expired, or cancelled).
    pub answered: i64,
    /// The blueprint's commands.
    pub total: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const RUN_COLUMNS: &str = "id, blueprint_id, enrollment_id, generation, awaiting_configuration,
    status, queued, answered, total, error, created_at, updated_at";

impl AdminStore {
    /// Stores a blueprint, audited; `Conflict` when its name is taken.
    pub async fn create_blueprint(&self, row: &BlueprintRow) -> Result<(), ApiError> {
        let sql = format!(
            "INSERT INTO blueprints ({BLUEPRINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        );
        let done: Result<(), sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            sqlx::query(&sql)
                .bind(&row.id)
                .bind(&row.name)
                .bind(&row.description)
                .bind(&row.commands)
                .bind(row.command_count)
                .bind(row.applies_to_all)
                .bind(&row.enrollment_token_ids)
                .bind(row.device_configured)
                .bind(row.enabled)
                .bind(&row.created_by)
                .bind(row.created_at)
                .bind(&row.declaration_sets)
                .execute(&mut *tx)
                .await?;
            Audit {
                at: row.created_at,
                actor: &row.created_by,
                action: "blueprint.created",
                detail: format!("{} ({}), {} commands", row.id, row.name, row.command_count),
            }
            .write(&mut *tx)
            .await?;
            tx.commit().await
        }.await);
        done.map_err(|e| {
            if is_unique_violation(&e) {
                ApiError::Conflict(format!("a blueprint is already named {:?}", row.name))
            } else {
                ApiError::Database(e)
            }
        })
    }

    /// Enables or disables a blueprint, audited; `false` when there is none.
    pub async fn set_blueprint_enabled(
        &self,
        id: &str,
        enabled: bool,
        actor: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query("UPDATE blueprints SET enabled = $2 WHERE id = $1")
                .bind(id)
                .bind(enabled)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            Audit { at: now, actor, action: "blueprint.updated", detail: format!("{id}: enabled {enabled}") }
                .write(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        }.await)
    }

    /// Deletes a blueprint (runs in progress stop), audited; `false` when there is none.
    pub async fn delete_blueprint(
        &self,
        id: &str,
        actor: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query("DELETE FROM blueprints WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            sqlx::query(
                "UPDATE blueprint_runs SET status = 'failed', error = 'the blueprint was deleted', updated_at = $2
                 WHERE blueprint_id = $1 AND status IN ('queueing', 'waiting')",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Audit { at: now, actor, action: "blueprint.deleted", detail: id.to_owned() }
                .write(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        }.await)
    }

    /// One blueprint.
    pub async fn blueprint(&self, id: &str) -> Result<Option<BlueprintRow>, sqlx::Error> {
        let sql = format!("SELECT {BLUEPRINT_COLUMNS} FROM blueprints WHERE id = $1");
        with_db!(&self.db, pool => sqlx::query_as::<_, BlueprintRow>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)
    }

    /// Every blueprint, by name.
    pub async fn blueprints(&self) -> Result<Vec<BlueprintRow>, sqlx::Error> {
        let sql = format!("SELECT {BLUEPRINT_COLUMNS} FROM blueprints ORDER BY name");
        with_db!(&self.db, pool => sqlx::query_as::<_, BlueprintRow>(&sql)
            .fetch_all(pool)
            .await)
    }

    /// Runs of a blueprint (or of every blueprint for one device), newest first.
    pub async fn runs(
        &self,
        blueprint_id: Option<&str>,
        enrollment_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RunRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM blueprint_runs
             WHERE ($1 IS NULL OR blueprint_id = $1) AND ($2 IS NULL OR enrollment_id = $2)
             ORDER BY created_at DESC, id LIMIT $3"
        );
        with_db!(&self.db, pool => sqlx::query_as::<_, RunRow>(&sql)
            .bind(blueprint_id)
            .bind(enrollment_id)
            .bind(limit)
            .fetch_all(pool)
            .await)
    }

    /// Runs with something to do: commands left to queue, or all answered while waiting.
    pub async fn runs_to_advance(&self, limit: i64) -> Result<Vec<RunRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM blueprint_runs
             WHERE status = 'queueing' OR (status = 'waiting' AND answered >= total)
             ORDER BY created_at, id LIMIT $1"
        );
        with_db!(&self.db, pool => sqlx::query_as::<_, RunRow>(&sql)
            .bind(limit)
            .fetch_all(pool)
            .await)
    }

    /// Notes that a run queued its command number `index` as `command_uuid`.
    pub async fn run_queued(
        &self,
        run_id: &str,
        index: i64,
        command_uuid: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO blueprint_commands (command_uuid, run_id) VALUES ($1, $2)
                 ON CONFLICT (command_uuid) DO NOTHING",
            )
            .bind(command_uuid)
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE blueprint_runs SET queued = $2, updated_at = $3 WHERE id = $1 AND queued < $2")
                .bind(run_id)
                .bind(index + 1)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }.await)
    }

    /// Moves a run to `status` (with `error` for a failure).
    pub async fn set_run_status(
        &self,
        run_id: &str,
        status: &str,
        error: Option<&str>,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        with_db!(&self.db, pool => sqlx::query(
            "UPDATE blueprint_runs SET status = $2, error = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(run_id)
        .bind(status)
        .bind(error)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
    }
}
