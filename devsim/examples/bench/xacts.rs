//! PostgreSQL transactions (commits and rollbacks) in this stack's databases, from
//! `pg_stat_database`, to report per device request.
//!
//! PostgreSQL 15+ backends report their counts in batches: at most once a second while busy,
//! and a backend that goes idle right after a report holds the rest for up to 10 s
//! (`PGSTAT_IDLE_INTERVAL`). A count read as the load stops would miss up to a second of it,
//! and one read as it starts would include the tail of whatever ran before. So every reading
//! waits until [`SETTLE`] has passed since the last load; the wait is outside the CPU window,
//! and the services' idle traffic in it (a heartbeat, gauges) is a few transactions a second.

use sqlx::{Connection, PgConnection};
use std::time::{Duration, Instant};
use testkit::Stack;

/// How long after the load stops the counts are complete: `PGSTAT_IDLE_INTERVAL` and a margin.
const SETTLE: Duration = Duration::from_secs(11);

/// Reads the transaction counts of the stack's databases (nothing on SQLite).
pub struct Transactions {
    /// On the server's admin database, so the readings are not counted themselves.
    conn: Option<PgConnection>,
    /// (service, database).
    databases: Vec<(&'static str, String)>,
    busy_until: Instant,
}

/// Transactions per service's database, in [`Transactions`]' order.
pub type Counts = Vec<(&'static str, i64)>;

impl Transactions {
    pub async fn connect(stack: &Stack) -> anyhow::Result<Transactions> {
        let databases: Vec<(&'static str, String)> = stack
            .postgres_databases()
            .into_iter()
            .map(|(service, name)| (service, name.to_owned()))
            .collect();
        let conn = match testkit::postgres_admin_url() {
            Some(url) if !databases.is_empty() => Some(PgConnection::connect(&url).await?),
            _ => None,
        };
        Ok(Transactions {
            conn,
            databases,
            busy_until: Instant::now(),
        })
    }

    /// Notes that load ran until now: the next reading waits for its counts.
    pub fn busy(&mut self) {
        self.busy_until = Instant::now();
    }

    /// The counts once the last load's are in; `None` without PostgreSQL.
    pub async fn settled(&mut self) -> anyhow::Result<Option<Counts>> {
        let Some(conn) = self.conn.as_mut() else {
            return Ok(None);
        };
        let ready = self.busy_until + SETTLE;
        if let Some(wait) = ready.checked_duration_since(Instant::now()) {
            eprintln!(
                "waiting {:.0} s for PostgreSQL's transaction counts",
                wait.as_secs_f64()
            );
            tokio::time::sleep(wait).await;
        }
        let mut counts = Vec::with_capacity(self.databases.len());
        for (service, name) in &self.databases {
            let count: i64 = sqlx::query_scalar(
                "SELECT COALESCE(SUM(xact_commit + xact_rollback), 0)::bigint
                 FROM pg_stat_database WHERE datname = $1",
            )
            .bind(name)
            .fetch_one(&mut *conn)
            .await?;
            counts.push((*service, count));
        }
        Ok(Some(counts))
    }
}

/// `{"total", "per_request", "<service>": per request, …}` from two readings.
pub fn per_request(before: &Counts, after: &Counts, requests: usize) -> serde_json::Value {
    let per = |n: i64| (n as f64 / requests.max(1) as f64 * 1000.0).round() / 1000.0;
    let mut out = serde_json::Map::new();
    let mut total = 0;
    for ((service, start), (_, end)) in before.iter().zip(after) {
        total += end - start;
        out.insert((*service).into(), per(end - start).into());
    }
    out.insert("total".into(), total.into());
    out.insert("per_request".into(), per(total).into());
    serde_json::Value::Object(out)
}

/// One line for people, from [`per_request`]'s figures.
pub fn line(figures: &serde_json::Value) -> String {
    let services = figures
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.ends_with("-svc"))
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "PostgreSQL: {} transactions = {} per device request ({services}; this stack's databases)",
        figures["total"], figures["per_request"]
    )
}
