//! A PostgreSQL server of the test's own, for what cannot be done to the machine's shared one:
//! restarting it under load, refusing connections, requiring TLS.
//!
//! The cluster lives in a temporary directory, listens on a free loopback port, trusts every
//! connection (or, with TLS required, every TLS connection and no other), and is stopped and
//! removed when dropped. PostgreSQL refuses to run as root, so as root the server programs run
//! as the `postgres` account (`runuser`), which owns the directory.

use crate::pki::Issued;
use crate::process::free_port;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;

/// How to start the cluster.
#[derive(Debug, Clone, Default)]
pub struct PgClusterOptions {
    /// Serve TLS with this certificate (issue it for `127.0.0.1`), and refuse every connection
    /// without TLS.
    pub tls_server: Option<Issued>,
}

/// A running private PostgreSQL server.
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl std::fmt::Debug for PgCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgCluster")
            .field("port", &self.port)
            .finish()
    }
}

impl PgCluster {
    /// Creates the cluster (`initdb`) and starts it. Fails when PostgreSQL's server programs
    /// are not installed.
    pub fn start(options: PgClusterOptions) -> anyhow::Result<PgCluster> {
        let bin = server_bin_dir()?;
        let as_postgres = nix::unistd::geteuid().is_root();
        let dir = tempfile::Builder::new().prefix("mdm-pg-").tempdir()?;
        let cluster = PgCluster {
            bin,
            port: free_port(),
            as_postgres,
            dir,
        };
        if as_postgres {
            give_to_postgres(cluster.dir.path())?;
        }
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data().display().to_string(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        if let Some(server) = &options.tls_server {
            cluster.require_tls(server)?;
        }
        cluster.start_again()?;
        Ok(cluster)
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`: a URL whose user may create databases.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub fn start_again(&self) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().display().to_string(),
                "-l",
                &log,
                "-o",
                &options,
                "-w",
                "-t",
                "30",
                "start",
            ],
        )
        .with_context(|| format!("start PostgreSQL; its log:\n{}", self.log()))
    }

    /// Stops the server: `fast` disconnects every session (what a restart or a failover does
    /// to them), `immediate` is a crash.
    pub fn stop(&self, mode: StopMode) -> anyhow::Result<()> {
        let mode = match mode {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        };
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().display().to_string(),
                "-m",
                mode,
                "-w",
                "stop",
            ],
        )
    }

    /// Stops (fast) and starts the server: every open connection is cut.
    pub fn restart(&self) -> anyhow::Result<()> {
        self.stop(StopMode::Fast)?;
        self.start_again()
    }

    /// Makes every new transaction read-only (or writable again), as when writes reach a
    /// standby during a failover: writes fail with `25006 read_only_sql_transaction`.
    pub async fn set_read_only(&self, read_only: bool) -> anyhow::Result<()> {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.admin_url()).await?;
        let value = if read_only { "on" } else { "off" };
        sqlx::query(&format!(
            "ALTER SYSTEM SET default_transaction_read_only = {value}"
        ))
        .execute(&mut conn)
        .await?;
        sqlx::query("SELECT pg_reload_conf()")
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(())
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Turns TLS on with `server`'s certificate and refuses connections without it.
    fn require_tls(&self, server: &Issued) -> anyhow::Result<()> {
        let data = self.data();
        let cert = data.join("server.crt");
        let key = data.join("server.key");
        std::fs::write(&cert, &server.cert_pem)?;
        std::fs::write(&key, &server.key_pem)?;
        // PostgreSQL refuses a key anyone else may read.
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        if self.as_postgres {
            give_to_postgres(&cert)?;
            give_to_postgres(&key)?;
        }
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))?;
        std::io::Write::write_all(
            &mut conf,
            b"\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n",
        )?;
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 0.0.0.0/0 reject\n",
        )?;
        Ok(())
    }

    /// Runs one of PostgreSQL's server programs (as `postgres` when we are root).
    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        };
        let output = command
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .with_context(|| format!("run {}", path.display()))?;
        if !output.status.success() {
            bail!(
                "{program} {args:?} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}

/// How [`PgCluster::stop`] stops the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Sessions are terminated (`57P01 admin_shutdown`), then the server stops.
    Fast,
    /// The server quits at once, as in a crash.
    Immediate,
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Err(error) = self.stop(StopMode::Immediate) {
            eprintln!("testkit: stopping the private PostgreSQL: {error:#}");
        }
    }
}

/// The directory of `initdb` and `pg_ctl`: Debian keeps them out of `PATH`.
fn server_bin_dir() -> anyhow::Result<PathBuf> {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(root)
        .with_context(|| {
            format!(
                "PostgreSQL's server programs: {} is missing",
                root.display()
            )
        })?
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .with_context(|| format!("no initdb under {}", root.display()))
}

/// Makes `path` the `postgres` account's, so the server can use it.
fn give_to_postgres(path: &Path) -> anyhow::Result<()> {
    let user = nix::unistd::User::from_name("postgres")?
        .context("PostgreSQL refuses to run as root, and there is no postgres account")?;
    std::os::unix::fs::chown(path, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
        .with_context(|| format!("chown {} to postgres", path.display()))
}
