//! `--history N`: every benchmark device gets N past commands before the measured scenarios, so
//! the command cycle runs against a long-lived server's tables. The rows are written straight
//! into command-svc's database by `command_svc::store::history_seed`, the one place that knows
//! how (the tests use it too).

use command_svc::store::history_seed::{self, Seeded};
use command_svc::store::Target;
use devsim::sim::SimDevice;
use service_kit::db::{DatabaseConfig, Db};
use std::time::Instant;
use testkit::Stack;

/// Seeds `commands` past commands for every device; answers what was written and the seconds
/// it took (statistics refresh and, on PostgreSQL, a checkpoint included).
pub async fn seed(
    stack: &Stack,
    devices: &[SimDevice],
    commands: u64,
) -> anyhow::Result<(Seeded, f64)> {
    // Every benchmark device enrolled once, so its enrollment is in generation 1.
    let targets: Vec<Target> = devices
        .iter()
        .map(|d| Target {
            enrollment_id: d.enrollment_id(),
            generation: 1,
        })
        .collect();
    let db = Db::connect(&DatabaseConfig::default(), stack.command_database_url()).await?;
    let started = Instant::now();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    let seeded = history_seed::seed(&db, &targets, commands, i64::try_from(now)?).await?;
    if let Db::Postgres(pool) = &db {
        // Gigabytes of fresh pages would otherwise be written out by the checkpointer during
        // the measured scenarios, and charged to them as PostgreSQL's CPU.
        sqlx::query("CHECKPOINT").execute(pool).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    db.close().await;
    Ok((seeded, seconds))
}
