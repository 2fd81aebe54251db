//! What a database error means for the caller: a temporary condition that a retry may get past
//! (answered 503, so devices and clients retry), or a real fault (500), or a constraint the
//! caller turns into its own answer. One classification for every service and both engines.

/// SQLSTATE classes and codes that PostgreSQL uses for conditions that pass: the server is
/// restarting or failing over, the connection broke, resources ran out for a moment, or the
/// transaction lost a race that a retry wins.
const TRANSIENT_SQLSTATE_CLASSES: [&str; 3] = [
    // connection_exception (08000, 08003, 08006, ...).
    "08",
    // insufficient_resources (53100 disk_full, 53200 out_of_memory, 53300 too_many_connections).
    "53", // system_error (58000, 58030 io_error).
    "58",
];
const TRANSIENT_SQLSTATES: [&str; 8] = [
    // admin_shutdown: the server is shutting down or the backend was terminated (a restart).
    "57P01", // crash_shutdown.
    "57P02", // cannot_connect_now: the server is starting up or in recovery.
    "57P03", // database_dropped is permanent, idle_session_timeout is not.
    "57P05", // query_canceled (statement_timeout).
    "57014", // serialization_failure and deadlock_detected: retry the transaction.
    "40001", "40P01",
    // read_only_sql_transaction: writes reached a standby, as during a failover.
    "25006",
];

/// SQLite primary result codes for conditions that pass: SQLITE_BUSY (5, and its extended
/// codes such as 517 BUSY_SNAPSHOT), SQLITE_LOCKED (6), SQLITE_IOERR (10), SQLITE_FULL (13),
/// SQLITE_CANTOPEN (14) and SQLITE_PROTOCOL (15).
const TRANSIENT_SQLITE_PRIMARY: [i64; 6] = [5, 6, 10, 13, 14, 15];

/// True when `error` is a temporary condition: answer "unavailable" (HTTP 503) and let the
/// caller retry. A fault here must never look like a device's or an admin's mistake.
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let Some(code) = db.code() else {
                return false;
            };
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLite reports its extended result code; the low byte is the primary code.
                code.parse::<i64>()
                    .is_ok_and(|extended| TRANSIENT_SQLITE_PRIMARY.contains(&(extended & 0xff)))
            } else {
                transient_sqlstate(&code)
            }
        }
        _ => false,
    }
}

fn transient_sqlstate(code: &str) -> bool {
    TRANSIENT_SQLSTATES.contains(&code)
        || TRANSIENT_SQLSTATE_CLASSES
            .iter()
            .any(|class| code.starts_with(class))
}

/// True when a database error is a unique-constraint violation (the same on both engines).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_restarts_failovers_and_races_are_transient() {
        for code in [
            "57P01", "57P02", "57P03", "08006", "08001", "53300", "40001", "40P01", "25006",
            "57014", "58030",
        ] {
            assert!(transient_sqlstate(code), "{code}");
        }
    }

    #[test]
    fn constraint_and_syntax_errors_are_not() {
        for code in ["23505", "23503", "42601", "42P01", "22P02", "57P04"] {
            assert!(!transient_sqlstate(code), "{code}");
        }
    }

    #[tokio::test]
    async fn sqlite_busy_is_transient_and_a_constraint_is_not() {
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        use std::str::FromStr;
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("busy.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .expect("url")
            .create_if_missing(true)
            .busy_timeout(std::time::Duration::ZERO);
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .expect("open");
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .execute(&pool)
            .await
            .expect("create");
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&pool)
            .await
            .expect("insert");
        let duplicate = sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&pool)
            .await
            .expect_err("duplicate");
        assert!(is_unique_violation(&duplicate) && !is_transient(&duplicate));
        // One connection holds the write lock; the other is refused at once: SQLITE_BUSY.
        let mut holder = pool.begin().await.expect("begin");
        sqlx::query("INSERT INTO t VALUES (2)")
            .execute(&mut *holder)
            .await
            .expect("write");
        let busy = sqlx::query("INSERT INTO t VALUES (3)")
            .execute(&pool)
            .await
            .expect_err("busy");
        assert!(is_transient(&busy), "{busy}");
    }

    #[test]
    fn connection_level_failures_are_transient() {
        assert!(is_transient(&sqlx::Error::PoolTimedOut));
        assert!(is_transient(&sqlx::Error::PoolClosed));
        assert!(is_transient(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused
        ))));
        assert!(is_transient(&sqlx::Error::Protocol(
            "connection reset".into()
        )));
        assert!(!is_transient(&sqlx::Error::RowNotFound));
        assert!(!is_transient(&sqlx::Error::ColumnNotFound("x".into())));
    }
}
