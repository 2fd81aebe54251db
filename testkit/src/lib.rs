//! Test-only helpers for the integration tests of the MDM server's crates: they make real
//! certificates, run the real binaries on loopback ports, give each test its own PostgreSQL
//! database, and talk HTTPS the way a device or an admin would. Nothing here is used in
//! production code.
//!
//! Modules:
//! - [`pki`]: a throwaway CA ([`TestCa`]) issuing server and client certificates ([`Issued`]),
//!   and PEM files on disk ([`PkiFiles`], [`write_pem`]).
//! - [`process`]: workspace binaries as child processes ([`workspace_bin`], [`ChildProcess`]),
//!   free loopback ports ([`free_port`]), and polling waits ([`wait_for_tcp`], [`eventually`]).
//! - [`postgres`]: a fresh database per test ([`TempDatabase`], [`postgres_admin_url`]);
//!   `MDM_TEST_POSTGRES=off` skips, an unreachable server fails.
//! - [`pg_cluster`]: a PostgreSQL server of the test's own ([`PgCluster`]), to restart, stop
//!   or run with TLS required.
//! - [`http`]: a reqwest client that trusts only the test CA ([`https_client`]).
//! - [`messages`]: device check-in and report plists shaped like real captures.
//! - [`fixtures`]: the repository's third-party protocol data ([`fixture`], [`fixture_text`]).
//! - [`apns`]: the mock APNs with its CA and a push certificate ([`ApnsFixture`]).
//! - [`device`]: one device driven by hand ([`TestDevice`]).
//! - [`stack`]: the services and the proxy started as processes for one test ([`Stack`]).
//!
//! The main items are re-exported at the crate root.

pub mod apns;
pub mod device;
pub mod fixtures;
pub mod http;
pub mod json;
pub mod messages;
pub mod pg_cluster;
pub mod pki;
pub mod postgres;
pub mod process;
pub mod stack;

pub use apns::ApnsFixture;
pub use device::{Received, TestDevice};
pub use fixtures::{fixture, fixture_text};
pub use http::{https_client, https_client_builder};
pub use pg_cluster::{PgCluster, PgClusterOptions, StopMode};
pub use pki::{write_pem, ClientCertOptions, Issued, PkiFiles, TestCa};
pub use postgres::{fresh_database, postgres_admin_url, FreshDatabase, TempDatabase};
pub use process::{eventually, free_port, wait_for_tcp, workspace_bin, ChildProcess};
pub use stack::{Engine, Stack, StackOptions};
