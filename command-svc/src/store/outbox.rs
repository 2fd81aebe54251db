//! The inventory outbox: what acknowledged results said about devices, written in the same
//! transaction as the result (so a crash can lose neither), read by the dispatcher
//! (`crate::inventory`) and deleted once enroll-svc has it.

use super::QueueStore;
use crate::error::Error;
use service_kit::with_db;

/// Appends an update: `$1` enrollment, `$2` reported at, `$3` the encoded update.
pub(super) const INSERT_OUTBOX: &str =
    "INSERT INTO inventory_outbox (enrollment_id, reported_at, payload) VALUES ($1, $2, $3)";

/// One pending update.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxRow {
    /// Increasing.
    pub id: i64,
    /// The device.
    pub enrollment_id: String,
    /// When the device reported it (Unix ms).
    pub reported_at: i64,
    /// `mdm.v1.InventoryUpdate`, encoded.
    pub payload: Vec<u8>,
}

impl QueueStore {
    /// The oldest pending updates, at most `limit`.
    pub async fn pending_inventory(&self, limit: usize) -> Result<Vec<OutboxRow>, Error> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = with_db!(&self.db, pool => sqlx::query_as::<_, OutboxRow>(
            "SELECT id, enrollment_id, reported_at, payload FROM inventory_outbox ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// Forgets updates enroll-svc has, in one statement (one commit for a whole batch).
    pub async fn delivered_inventory(&self, ids: &[i64]) -> Result<(), Error> {
        if ids.is_empty() {
            return Ok(());
        }
        with_db!(&self.db, pool => {
            let mut delete = sqlx::QueryBuilder::new("DELETE FROM inventory_outbox WHERE id IN (");
            let mut list = delete.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            delete.push(")");
            delete.build().execute(pool).await.map(|_| ())
        })?;
        Ok(())
    }

    /// Updates waiting, and the report time of the oldest (for the lag gauge).
    pub async fn inventory_backlog(&self) -> Result<(i64, Option<i64>), Error> {
        let backlog = with_db!(&self.db, pool => sqlx::query_as::<_, (i64, Option<i64>)>(
            "SELECT COUNT(*), MIN(reported_at) FROM inventory_outbox",
        )
        .fetch_one(pool)
        .await)?;
        Ok(backlog)
    }
}
