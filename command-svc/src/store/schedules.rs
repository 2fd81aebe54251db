//! Periodic jobs that one replica at a time runs: a replica claims a run until a time (a
//! conditional update, the same on both engines, so two replicas never both win), reads where
//! the job stopped, and saves where it stops now.

use super::QueueStore;
use crate::error::Error;
use service_kit::with_db;

impl QueueStore {
    /// Claims the run of `name` until `until` if no replica holds it at `now`; the cursor to
    /// continue from when claimed, `None` when another replica holds it.
    pub async fn claim_schedule(
        &self,
        name: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<String>, Error> {
        let cursor: Option<String> = with_db!(&self.db, pool => async {
            sqlx::query("INSERT INTO schedules (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .execute(pool)
                .await?;
            sqlx::query_scalar(
                "UPDATE schedules SET claimed_until = $3
                 WHERE name = $1 AND claimed_until <= $2 RETURNING cursor",
            )
            .bind(name)
            .bind(now)
            .bind(until)
            .fetch_optional(pool)
            .await
        }.await)?;
        Ok(cursor)
    }

    /// Saves where the run of `name` stopped.
    pub async fn save_schedule_cursor(&self, name: &str, cursor: &str) -> Result<(), Error> {
        with_db!(&self.db, pool => sqlx::query("UPDATE schedules SET cursor = $2 WHERE name = $1")
            .bind(name)
            .bind(cursor)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}
