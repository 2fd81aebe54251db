//! The database layer against a PostgreSQL server of the test's own: every failure while it
//! restarts or refuses connections is classified transient (503, never 500), the pool recovers
//! by itself, and a TLS-only server is reached with `sslmode=verify-full`.

use service_kit::db::{is_transient, DatabaseConfig, Db};
use std::time::Duration;
use testkit::{eventually, PgCluster, PgClusterOptions, StopMode, TestCa};

fn config() -> DatabaseConfig {
    DatabaseConfig {
        acquire_timeout_ms: 1_000,
        ..DatabaseConfig::default()
    }
}

/// Runs one statement; answers its error, if any.
async fn probe(db: &Db) -> Result<(), sqlx::Error> {
    db.ping().await
}

#[tokio::test]
async fn a_restart_and_an_outage_are_transient_and_the_pool_recovers() {
    let cluster = PgCluster::start(PgClusterOptions::default()).expect("private PostgreSQL");
    let db = Db::connect(&config(), &cluster.admin_url())
        .await
        .expect("connect");
    probe(&db).await.expect("up");

    // A restart terminates every session (57P01) or cuts it: whatever the pool sees is transient.
    cluster.restart().expect("restart");
    eventually(
        Duration::from_secs(30),
        "the pool recovers after a restart",
        || async {
            match probe(&db).await {
                Ok(()) => Some(()),
                Err(e) => {
                    assert!(
                        is_transient(&e),
                        "a restart answered a non-transient error: {e}"
                    );
                    None
                }
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));

    // A server that is down: connections are refused, and that is transient too.
    cluster.stop(StopMode::Immediate).expect("stop");
    let down = probe(&db).await.expect_err("the server is down");
    assert!(is_transient(&down), "refused connections: {down}");
    cluster.start_again().expect("start");
    eventually(
        Duration::from_secs(30),
        "the pool recovers after an outage",
        || async { probe(&db).await.ok() },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn a_terminated_backend_is_transient() {
    let cluster = PgCluster::start(PgClusterOptions::default()).expect("private PostgreSQL");
    let db = Db::connect(
        &DatabaseConfig {
            max_connections: 1,
            ..config()
        },
        &cluster.admin_url(),
    )
    .await
    .expect("connect");
    let Db::Postgres(pool) = &db else {
        panic!("a PostgreSQL pool")
    };
    // A transaction holds the pool's one connection while another session terminates it, as
    // an administrator or a failover does.
    let mut tx = pool.begin().await.expect("begin");
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *tx)
        .await
        .expect("pid");
    let admin = Db::connect(&config(), &cluster.admin_url())
        .await
        .expect("admin");
    let Db::Postgres(admin) = &admin else {
        panic!("a PostgreSQL pool")
    };
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(admin)
        .await
        .expect("terminate");
    let error = sqlx::query("SELECT 1")
        .execute(&mut *tx)
        .await
        .expect_err("the session is gone");
    assert!(is_transient(&error), "{error:?}");
}

#[tokio::test]
async fn a_tls_only_server_is_reached_with_verify_full() {
    let ca = TestCa::new("Test PostgreSQL CA");
    let cluster = PgCluster::start(PgClusterOptions {
        tls_server: Some(ca.issue_server(&["127.0.0.1", "localhost"])),
    })
    .expect("private PostgreSQL with TLS");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = testkit::write_pem(dir.path(), "pg-ca.pem", &ca.cert_pem());
    let url = |params: &str| format!("{}?{params}", cluster.admin_url());

    let db = Db::connect(
        &config(),
        &url(&format!(
            "sslmode=verify-full&sslrootcert={}",
            root.display()
        )),
    )
    .await
    .expect("TLS with the server's CA");
    let Db::Postgres(pool) = &db else {
        panic!("a PostgreSQL pool")
    };
    let tls: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(pool)
        .await
        .expect("pg_stat_ssl");
    assert!(tls, "the session is encrypted");

    // Without TLS the server refuses; with another CA the client refuses.
    Db::connect(&config(), &url("sslmode=disable"))
        .await
        .expect_err("plaintext is refused");
    let stranger = TestCa::new("Another CA");
    let other = testkit::write_pem(dir.path(), "other-ca.pem", &stranger.cert_pem());
    Db::connect(
        &config(),
        &url(&format!(
            "sslmode=verify-full&sslrootcert={}",
            other.display()
        )),
    )
    .await
    .expect_err("a server certificate from an unknown CA is refused");
}
