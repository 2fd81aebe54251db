//! The server's processes started for a test: enroll-svc, command-svc, push-svc, admin-svc and
//! the proxy as real binaries on loopback ports, with a device CA and a server certificate made for the test, on
//! SQLite or on a fresh PostgreSQL database; the proxy also serves enrollment (SCEP, OTA) from
//! enroll-svc's own CA. push-svc delivers to a mock APNs (in the test process,
//! on its own runtime) and has a push certificate installed through the admin API at start.

use crate::apns::ApnsFixture;
use crate::pki::{Issued, PkiFiles, TestCa, PUSH_TOPIC};
use crate::postgres::TempDatabase;
use crate::process::{free_port, wait_for_tcp, workspace_bin, ChildProcess};
use anyhow::{anyhow, Context};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// admin-svc's key sealing webhook secrets (base64 of 32 bytes; a test value).
const SEALING_KEY: &str = "dGVzdC1hZG1pbi1zZWFsaW5nLWtleS0zMi1ieXRlcyE=";

/// The admin token with every scope, `admin` included (named `ops`).
pub const ADMIN_TOKEN: &str = "test-admin-token-with-every-scope";
/// An admin token with the `read` scope only (named `auditor`).
pub const READ_ONLY_TOKEN: &str = "test-read-only-token";

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// How long a process may take to come up.
pub const STARTUP: Duration = Duration::from_secs(30);

/// Which database the services use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// A SQLite file in the stack's temporary directory.
    Sqlite,
    /// A fresh PostgreSQL database, dropped afterwards.
    Postgres,
}

/// How to start the stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Database engine of the services.
    pub engine: Engine,
    /// `cn-equals-udid` or `bound-certificate`.
    pub identity_policy: &'static str,
    /// The device listener's mode: `mtls`, `signature`, `mtls-or-signature`, `trusted-header`.
    pub device_mode: &'static str,
    /// `trusted-header` mode: the allow-listed load-balancer CIDRs (TOML array).
    pub trusted_proxies: Option<&'static str>,
    /// The proxy's body limit, if not the default.
    pub max_body_bytes: Option<usize>,
    /// command-svc's retention sweep interval, if not the default.
    pub sweep_interval_secs: Option<u64>,
    /// Run the mock APNs as its own `mock-apns` process rather than in the test process.
    pub apns_process: bool,
    /// A `tracing` filter for every process (`RUST_LOG`), such as `debug`; the services'
    /// defaults otherwise.
    pub log_filter: Option<&'static str>,
    /// Processes of each of enroll-svc, command-svc and push-svc (at least 1), sharing their
    /// databases; every client is given all of them.
    pub replicas: usize,
    /// Proxies (at least 1), each with its own device, enrollment and health listeners.
    pub proxies: usize,
    /// With [`Engine::Postgres`]: the server to create the databases on (an admin URL, such as
    /// a [`crate::PgCluster`]'s), instead of `MDM_TEST_POSTGRES`'s.
    pub postgres_server: Option<String>,
    /// More settings for every enroll-svc process (`MDM_ENROLL_…` variables), such as a short
    /// identity validity.
    pub enroll_env: Vec<(&'static str, String)>,
    /// More settings for every command-svc process (`MDM_COMMAND_…` variables).
    pub command_env: Vec<(&'static str, String)>,
    /// More settings for admin-svc (`MDM_ADMIN_…` variables), such as `[events]` timings.
    pub admin_env: Vec<(&'static str, String)>,
    /// Another CA (PEM) the proxy trusts for device identities: an operator's CA, such as the
    /// CA of the server devices are migrated from.
    pub extra_client_ca_pem: Option<String>,
    /// The names of the certificate the proxy's device and enrollment listeners present, when
    /// not the names of admin-svc's (`localhost`, `127.0.0.1`): a certificate for another host.
    pub proxy_server_names: Option<Vec<&'static str>>,
    /// Whether the proxy serves its enrollment listener (enroll-svc's `enrollment.base_url`
    /// names its port either way, as a deployment that forgot to turn it on does).
    pub enrollment_listener: bool,
    /// enroll-svc's `enrollment.topic`, when not the push certificate's ([`PUSH_TOPIC`]).
    pub enrollment_topic: Option<String>,
}

impl StackOptions {
    /// Defaults on `engine`.
    pub fn new(engine: Engine) -> StackOptions {
        StackOptions {
            engine,
            identity_policy: "cn-equals-udid",
            device_mode: "mtls",
            trusted_proxies: None,
            max_body_bytes: None,
            sweep_interval_secs: None,
            apns_process: false,
            log_filter: None,
            replicas: 1,
            proxies: 1,
            postgres_server: None,
            enroll_env: Vec::new(),
            command_env: Vec::new(),
            admin_env: Vec::new(),
            extra_client_ca_pem: None,
            proxy_server_names: None,
            enrollment_listener: true,
            enrollment_topic: None,
        }
    }
}

/// A running stack. Dropping it kills the processes and removes its files and database.
pub struct Stack {
    /// The CA that issues device identities (and the server certificate).
    pub device_ca: TestCa,
    /// PEM files the processes read.
    pub pki: PkiFiles,
    /// enroll-svc.
    pub enroll: ChildProcess,
    /// enroll-svc's gRPC address.
    pub enroll_addr: SocketAddr,
    /// command-svc.
    pub command: ChildProcess,
    /// command-svc's gRPC address.
    pub command_addr: SocketAddr,
    /// push-svc, pointed at [`Stack::apns`].
    pub push: ChildProcess,
    /// push-svc's gRPC address.
    pub push_addr: SocketAddr,
    /// The mock APNs push-svc delivers to, with the push certificate installed at start.
    pub apns: ApnsFixture,
    /// enroll-svc's `/metrics` listener.
    pub enroll_metrics_addr: SocketAddr,
    /// command-svc's `/metrics` listener.
    pub command_metrics_addr: SocketAddr,
    /// push-svc's `/metrics` listener.
    pub push_metrics_addr: SocketAddr,
    /// The proxy.
    pub proxy: ChildProcess,
    /// `https://127.0.0.1:<port>` of the device listener.
    pub device_url: String,
    /// The proxy's health listener.
    pub health_addr: SocketAddr,
    /// admin-svc.
    pub admin: ChildProcess,
    /// `https://127.0.0.1:<port>` of admin-svc's API.
    pub admin_url: String,
    /// admin-svc's `/metrics` listener.
    pub admin_metrics_addr: SocketAddr,
    /// `https://127.0.0.1:<port>` of the enrollment listener (SCEP, OTA, profiles).
    pub enrollment_url: String,
    /// enroll-svc's device-identity CA (generated at its first start), as PEM: the proxy's
    /// device listener trusts it beside [`Stack::device_ca`].
    pub identity_ca_file: PathBuf,
    /// The stand-in for Apple's device CA: OTA phase 2 answers must be signed by a
    /// certificate it issued.
    pub apple_device_ca: TestCa,
    /// The replicas of enroll-svc, command-svc and push-svc beyond the first (whose fields
    /// are above), with [`StackOptions::replicas`] above 1.
    pub replicas: Vec<Replica>,
    /// The proxies beyond the first, with [`StackOptions::proxies`] above 1.
    pub proxies: Vec<Edge>,
    enroll_env: Vec<(String, String)>,
    command_env: Vec<(String, String)>,
    admin_env: Vec<(String, String)>,
    command_database_url: String,
    /// Each service's PostgreSQL database (none on SQLite), named by its service.
    databases: Vec<(&'static str, TempDatabase)>,
}

/// One more process of a service.
pub struct Replica {
    /// `enroll-svc`, `command-svc` or `push-svc`.
    pub service: &'static str,
    /// The process.
    pub process: ChildProcess,
    /// Its gRPC address.
    pub addr: SocketAddr,
    /// Its `/metrics` listener.
    pub metrics_addr: SocketAddr,
}

/// One more proxy.
pub struct Edge {
    /// The process.
    pub process: ChildProcess,
    /// `https://127.0.0.1:<port>` of its device listener.
    pub device_url: String,
    /// Its health listener.
    pub health_addr: SocketAddr,
}

/// `http://a,http://b`: every replica of a service, as a client's URL setting.
fn urls(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(|a| format!("http://{a}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `env` with `key` set to `value` (replacing it).
fn with_setting(env: &[(String, String)], key: &str, value: String) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = env.iter().filter(|(k, _)| k != key).cloned().collect();
    env.push((key.to_owned(), value));
    env
}

/// Reads `addr=<socket address>` from a service's "listening" log line.
pub fn listening_addr(line: &str) -> anyhow::Result<SocketAddr> {
    let start = line
        .find("addr=")
        .ok_or_else(|| anyhow!("no addr= in {line:?}"))?;
    let rest = &line[start + 5..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    rest[..end]
        .trim_matches('"')
        .parse()
        .with_context(|| format!("bad address in {line:?}"))
}

fn env(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

impl Stack {
    /// Starts the services and the proxy. `Ok(None)` when the options ask for PostgreSQL and the
    /// PostgreSQL run is switched off (`MDM_TEST_POSTGRES=off`).
    pub async fn start(options: StackOptions) -> anyhow::Result<Option<Stack>> {
        let pki = PkiFiles::new();
        // Each service owns its database.
        let mut databases = Vec::new();
        let sqlite_url = |name: &str| {
            format!(
                "sqlite://{}",
                pki.path().join(format!("{name}.db")).display()
            )
        };
        let (enroll_db, command_db, push_db, admin_db) = match options.engine {
            Engine::Sqlite => (
                sqlite_url("enroll"),
                sqlite_url("command"),
                sqlite_url("push"),
                sqlite_url("admin"),
            ),
            Engine::Postgres => {
                for service in ["enroll-svc", "command-svc", "push-svc", "admin-svc"] {
                    let created = match &options.postgres_server {
                        Some(server) => Some(TempDatabase::create_on(server).await?),
                        None => TempDatabase::create().await?,
                    };
                    match created {
                        Some(db) => databases.push((service, db)),
                        None => return Ok(None),
                    }
                }
                let url = |i: usize| databases[i].1.url.clone();
                (url(0), url(1), url(2), url(3))
            }
        };
        let device_ca = TestCa::new("MDM Test Device CA");
        let ca_file = pki.write("device-ca.pem", &device_ca.cert_pem());
        let server = device_ca.issue_server(&["localhost", "127.0.0.1"]);
        let (cert_file, key_file) = pki.write_issued("server", &server);
        // Enrollment: enroll-svc exports its CA for the proxy, trusts a test "Apple device" CA
        // for OTA phase 2, signs profiles with the server's key and ships the server's root.
        let apple_device_ca = TestCa::new("Test Apple iPhone Device CA");
        let apple_ca_file = pki.write("apple-device-ca.pem", &apple_device_ca.cert_pem());
        let identity_ca_file = pki.path().join("identity-ca.pem");
        let device_port = free_port();
        let enrollment_port = free_port();

        // The services name each other, so their ports are chosen before either starts.
        let addrs = || -> Vec<SocketAddr> {
            (0..options.replicas.max(1))
                .map(|_| SocketAddr::from(([127, 0, 0, 1], free_port())))
                .collect()
        };
        let (enroll_addrs, command_addrs, push_addrs) = (addrs(), addrs(), addrs());
        let (enroll_addr, command_addr, push_addr) =
            (enroll_addrs[0], command_addrs[0], push_addrs[0]);
        let (enroll_urls, command_urls, push_urls) =
            (urls(&enroll_addrs), urls(&command_addrs), urls(&push_addrs));
        let apns = if options.apns_process {
            ApnsFixture::start_process().await?
        } else {
            ApnsFixture::start()
        };
        let with_log = |mut env: Vec<(String, String)>| {
            if let Some(filter) = options.log_filter {
                env.push(("RUST_LOG".into(), filter.into()));
            }
            env
        };
        let push_env = with_log(env(&[
            ("MDM_PUSH_LISTEN", push_addr.to_string()),
            ("MDM_PUSH_METRICS_LISTEN", "127.0.0.1:0".into()),
            ("MDM_PUSH_DATABASE__URL", push_db),
            (
                "MDM_PUSH_SECRET_KEY",
                "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"".into(),
            ),
            ("MDM_PUSH_APNS__PRODUCTION_URL", apns.url()),
            ("MDM_PUSH_APNS__SANDBOX_URL", apns.url()),
            (
                "MDM_PUSH_APNS__CA_FILES",
                format!("[{:?}]", path(apns.ca_file.clone())),
            ),
            ("MDM_PUSH_APNS__RETRY_BACKOFF_MS", "5".into()),
            ("MDM_PUSH_CERTIFICATE__REFRESH_MS", "200".into()),
        ]));
        let mut enroll_env = with_log(env(&[
            ("MDM_ENROLL_LISTEN", enroll_addr.to_string()),
            ("MDM_ENROLL_METRICS_LISTEN", "127.0.0.1:0".into()),
            ("MDM_ENROLL_DATABASE__URL", enroll_db),
            ("MDM_ENROLL_PUSH_URL", push_urls.clone()),
            (
                "MDM_ENROLL_SECRET_KEY",
                "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"".into(),
            ),
            (
                "MDM_ENROLL_CA__EXPORT_CERT_FILE",
                path(identity_ca_file.clone()),
            ),
            (
                "MDM_ENROLL_ENROLLMENT__BASE_URL",
                format!("https://127.0.0.1:{enrollment_port}"),
            ),
            (
                "MDM_ENROLL_ENROLLMENT__SERVER_URL",
                format!("https://127.0.0.1:{device_port}/mdm"),
            ),
            (
                "MDM_ENROLL_ENROLLMENT__CHECK_IN_URL",
                format!("https://127.0.0.1:{device_port}/checkin"),
            ),
            (
                "MDM_ENROLL_ENROLLMENT__TOPIC",
                options
                    .enrollment_topic
                    .clone()
                    .unwrap_or_else(|| PUSH_TOPIC.into()),
            ),
            ("MDM_ENROLL_ENROLLMENT__ORGANIZATION", "MDM Test".into()),
            (
                "MDM_ENROLL_ENROLLMENT__SERVER_CA_FILE",
                path(ca_file.clone()),
            ),
            (
                "MDM_ENROLL_ENROLLMENT__SIGNING_CERT_FILE",
                path(cert_file.clone()),
            ),
            (
                "MDM_ENROLL_ENROLLMENT__SIGNING_KEY_FILE",
                path(key_file.clone()),
            ),
            ("MDM_ENROLL_ENROLLMENT__DEVICE_CA_FILE", path(apple_ca_file)),
        ]));
        for (name, value) in &options.enroll_env {
            enroll_env.push(((*name).to_owned(), value.clone()));
        }
        let mut command_env = with_log(env(&[
            ("MDM_COMMAND_LISTEN", command_addr.to_string()),
            ("MDM_COMMAND_METRICS_LISTEN", "127.0.0.1:0".into()),
            ("MDM_COMMAND_DATABASE__URL", command_db.clone()),
            ("MDM_COMMAND_ENROLL_URL", enroll_urls.clone()),
            ("MDM_COMMAND_PUSH__URL", push_urls.clone()),
            ("MDM_COMMAND_PUSH__ACTIVITY_FLUSH_MS", "200".into()),
        ]));
        if let Some(secs) = options.sweep_interval_secs {
            command_env.push((
                "MDM_COMMAND_RETENTION__SWEEP_INTERVAL_SECS".into(),
                secs.to_string(),
            ));
        }
        for (name, value) in &options.command_env {
            command_env.push(((*name).to_owned(), value.clone()));
        }
        let (push, _) = start_service("push-svc", &push_env).await?;
        let (enroll, _) = start_service("enroll-svc", &enroll_env).await?;
        let (command, _) = start_service("command-svc", &command_env).await?;
        let enroll_metrics_addr = metrics_addr(&enroll, "enroll-svc").await?;
        let push_metrics_addr = metrics_addr(&push, "push-svc").await?;
        let command_metrics_addr = metrics_addr(&command, "command-svc").await?;
        // More replicas, on the same databases, once the first of each has migrated them.
        let mut replicas = Vec::new();
        for (service, env, key, addrs) in [
            ("push-svc", &push_env, "MDM_PUSH_LISTEN", &push_addrs),
            (
                "enroll-svc",
                &enroll_env,
                "MDM_ENROLL_LISTEN",
                &enroll_addrs,
            ),
            (
                "command-svc",
                &command_env,
                "MDM_COMMAND_LISTEN",
                &command_addrs,
            ),
        ] {
            for addr in addrs.iter().skip(1) {
                let env = with_setting(env, key, addr.to_string());
                let (process, _) = start_service(service, &env).await?;
                let metrics_addr = metrics_addr(&process, service).await?;
                replicas.push(Replica {
                    service,
                    process,
                    addr: *addr,
                    metrics_addr,
                });
            }
        }

        let health_port = free_port();
        let admin_port = free_port();
        let tokens = format!(
            "[{{name = \"ops\", sha256 = \"{}\", scopes = [\"read\", \"commands\", \"destructive\", \"clear-passcode\", \"push-certificate\", \"admin\", \"webhooks\", \"migrate\"]}}, \
             {{name = \"auditor\", sha256 = \"{}\", scopes = [\"read\"]}}]",
            sha256_hex(ADMIN_TOKEN),
            sha256_hex(READ_ONLY_TOKEN)
        );
        let mut admin_env = with_log(env(&[
            ("MDM_ADMIN_LISTEN", format!("127.0.0.1:{admin_port}")),
            ("MDM_ADMIN_SECRET_KEY", SEALING_KEY.into()),
            ("MDM_ADMIN_METRICS_LISTEN", "127.0.0.1:0".into()),
            ("MDM_ADMIN_CERT_FILE", path(cert_file.clone())),
            ("MDM_ADMIN_KEY_FILE", path(key_file.clone())),
            ("MDM_ADMIN_DATABASE__URL", admin_db),
            ("MDM_ADMIN_TOKENS", tokens),
            ("MDM_ADMIN_SERVICES__ENROLL_URL", enroll_urls.clone()),
            ("MDM_ADMIN_SERVICES__COMMAND_URL", command_urls.clone()),
            ("MDM_ADMIN_SERVICES__PUSH_URL", push_urls.clone()),
            ("MDM_ADMIN_SERVICES__TIMEOUT_MS", "5000".into()),
        ]));
        for (name, value) in &options.admin_env {
            admin_env = with_setting(&admin_env, name, value.clone());
        }
        let (admin, _) = start_service("admin-svc", &admin_env).await?;
        let admin_metrics_addr = metrics_addr(&admin, "admin-svc").await?;
        let mut client_ca_files = vec![path(ca_file), path(identity_ca_file.clone())];
        if let Some(pem) = &options.extra_client_ca_pem {
            client_ca_files.push(path(pki.write("operator-ca.pem", pem)));
        }
        let client_cas = format!("{client_ca_files:?}");
        let (proxy_cert_file, proxy_key_file) = match &options.proxy_server_names {
            Some(names) => pki.write_issued("proxy-server", &device_ca.issue_server(names)),
            None => (cert_file.clone(), key_file.clone()),
        };
        let mut proxy_env = with_log(env(&[
            (
                "MDM_PROXY_DEVICE__LISTEN",
                format!("127.0.0.1:{device_port}"),
            ),
            ("MDM_PROXY_DEVICE__CERT_FILE", path(proxy_cert_file.clone())),
            ("MDM_PROXY_DEVICE__KEY_FILE", path(proxy_key_file.clone())),
            ("MDM_PROXY_DEVICE__CLIENT_CA_FILES", client_cas),
            (
                "MDM_PROXY_DEVICE__IDENTITY_POLICY",
                options.identity_policy.into(),
            ),
            (
                "MDM_PROXY_HEALTH_LISTEN",
                format!("127.0.0.1:{health_port}"),
            ),
            ("MDM_PROXY_SERVICES__ENROLL_URL", enroll_urls.clone()),
            ("MDM_PROXY_SERVICES__COMMAND_URL", command_urls.clone()),
            ("MDM_PROXY_SERVICES__TIMEOUT_MS", "5000".into()),
            ("MDM_PROXY_THREADS", "2".into()),
            ("MDM_PROXY_SHUTDOWN_GRACE_SECS", "0".into()),
        ]));
        if options.enrollment_listener {
            for (key, value) in [
                (
                    "MDM_PROXY_ENROLLMENT__LISTEN",
                    format!("127.0.0.1:{enrollment_port}"),
                ),
                ("MDM_PROXY_ENROLLMENT__CERT_FILE", path(proxy_cert_file)),
                ("MDM_PROXY_ENROLLMENT__KEY_FILE", path(proxy_key_file)),
            ] {
                proxy_env.push((key.into(), value));
            }
        }
        proxy_env.push(("MDM_PROXY_DEVICE__MODE".into(), options.device_mode.into()));
        if let Some(cidrs) = options.trusted_proxies {
            proxy_env.push(("MDM_PROXY_DEVICE__TRUSTED_PROXIES".into(), cidrs.into()));
        }
        if let Some(limit) = options.max_body_bytes {
            proxy_env.push(("MDM_PROXY_DEVICE__MAX_BODY_BYTES".into(), limit.to_string()));
        }
        let proxy = ChildProcess::spawn("proxy", &workspace_bin("proxy"), &[], &proxy_env).await?;
        let device_addr = SocketAddr::from(([127, 0, 0, 1], device_port));
        let health_addr = SocketAddr::from(([127, 0, 0, 1], health_port));
        let enrollment_addr = SocketAddr::from(([127, 0, 0, 1], enrollment_port));
        let mut listening = vec![device_addr, health_addr];
        if options.enrollment_listener {
            listening.push(enrollment_addr);
        }
        for addr in listening {
            wait_for_tcp(addr, STARTUP)
                .await
                .with_context(|| format!("proxy did not listen on {addr}:\n{}", proxy.logs()))?;
        }
        let mut proxies = Vec::new();
        for _ in 1..options.proxies.max(1) {
            let (device, enrollment, health) = (free_port(), free_port(), free_port());
            let mut env = with_setting(
                &proxy_env,
                "MDM_PROXY_DEVICE__LISTEN",
                format!("127.0.0.1:{device}"),
            );
            if options.enrollment_listener {
                env = with_setting(
                    &env,
                    "MDM_PROXY_ENROLLMENT__LISTEN",
                    format!("127.0.0.1:{enrollment}"),
                );
            }
            env = with_setting(
                &env,
                "MDM_PROXY_HEALTH_LISTEN",
                format!("127.0.0.1:{health}"),
            );
            let process = ChildProcess::spawn("proxy", &workspace_bin("proxy"), &[], &env).await?;
            let ports = [device, health]
                .into_iter()
                .chain(options.enrollment_listener.then_some(enrollment));
            for port in ports {
                let addr = SocketAddr::from(([127, 0, 0, 1], port));
                wait_for_tcp(addr, STARTUP).await.with_context(|| {
                    format!("proxy did not listen on {addr}:\n{}", process.logs())
                })?;
            }
            proxies.push(Edge {
                process,
                device_url: format!("https://127.0.0.1:{device}"),
                health_addr: SocketAddr::from(([127, 0, 0, 1], health)),
            });
        }
        let stack = Stack {
            device_ca,
            pki,
            enroll,
            enroll_addr,
            command,
            command_addr,
            push,
            push_addr,
            apns,
            enroll_metrics_addr,
            command_metrics_addr,
            push_metrics_addr,
            proxy,
            device_url: format!("https://127.0.0.1:{device_port}"),
            health_addr,
            admin,
            admin_url: format!("https://127.0.0.1:{admin_port}"),
            admin_metrics_addr,
            enrollment_url: format!("https://127.0.0.1:{enrollment_port}"),
            identity_ca_file,
            apple_device_ca,
            replicas,
            proxies,
            enroll_env,
            command_env,
            admin_env,
            command_database_url: command_db,
            databases,
        };
        stack
            .upload_push_certificate(&stack.apns.push_pem())
            .await?;
        Ok(Some(stack))
    }

    /// Installs a push certificate (PEM with its key) through the admin API.
    pub async fn upload_push_certificate(&self, pem: &str) -> anyhow::Result<()> {
        use base64::Engine;
        let body = format!(
            "{{\"pem\": \"{}\"}}",
            base64::engine::general_purpose::STANDARD.encode(pem)
        );
        let response = self
            .admin_client()
            .put(format!("{}/v1/push-certificate", self.admin_url))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(
            status.is_success(),
            "push certificate upload answered {status}: {text}\n{}",
            self.logs()
        );
        Ok(())
    }

    /// A device client presenting `identity` (or no certificate) and trusting the test CA.
    pub fn device_client(&self, identity: Option<&Issued>) -> reqwest::Client {
        let pem = identity.map(Issued::identity_pem);
        crate::http::https_client(&self.device_ca.cert_pem(), pem.as_deref())
    }

    /// A client of the admin API (server TLS only; send [`ADMIN_TOKEN`] as a bearer token).
    pub fn admin_client(&self) -> reqwest::Client {
        crate::http::https_client(&self.device_ca.cert_pem(), None)
    }

    /// Stops enroll-svc (SIGKILL: as abrupt as a crash).
    pub fn stop_enroll(&mut self) {
        self.enroll.kill();
    }

    /// Kills command-svc (SIGKILL: a crash at any point of any request).
    pub fn kill_command(&mut self) {
        self.command.kill();
    }

    /// Starts command-svc again on its address and database.
    pub async fn restart_command(&mut self) -> anyhow::Result<()> {
        let (command, _) = start_service("command-svc", &self.command_env).await?;
        self.command = command;
        Ok(())
    }

    /// Kills admin-svc (SIGKILL).
    pub fn kill_admin(&mut self) {
        self.admin.kill();
    }

    /// Starts admin-svc again on its address and database.
    pub async fn restart_admin(&mut self) -> anyhow::Result<()> {
        let (admin, _) = start_service("admin-svc", &self.admin_env).await?;
        self.admin = admin;
        Ok(())
    }

    /// The enroll-svc configuration, for restarting it on the same database.
    pub fn enroll_env(&self) -> &[(String, String)] {
        &self.enroll_env
    }

    /// command-svc's database URL (`sqlite://…` or `postgres://…`), for tools that write to it
    /// directly, such as the benchmark seeding a long command history.
    pub fn command_database_url(&self) -> &str {
        &self.command_database_url
    }

    /// Each service's PostgreSQL database, as (service, database name); none on SQLite. For
    /// finding the stack's activity in `pg_stat_database` or its backends among the server's
    /// processes.
    pub fn postgres_databases(&self) -> Vec<(&'static str, &str)> {
        self.databases
            .iter()
            .map(|(service, db)| (*service, db.name()))
            .collect()
    }

    /// Logs of every process, for failure messages.
    pub fn logs(&self) -> String {
        let mut logs = format!(
            "--- enroll-svc ---\n{}\n--- command-svc ---\n{}\n--- push-svc ---\n{}\n--- admin-svc ---\n{}\n--- proxy ---\n{}",
            self.enroll.logs(),
            self.command.logs(),
            self.push.logs(),
            self.admin.logs(),
            self.proxy.logs()
        );
        for replica in &self.replicas {
            logs.push_str(&format!(
                "\n--- {} at {} ---\n{}",
                replica.service,
                replica.addr,
                replica.process.logs()
            ));
        }
        for edge in &self.proxies {
            logs.push_str(&format!(
                "\n--- proxy at {} ---\n{}",
                edge.device_url,
                edge.process.logs()
            ));
        }
        if let Some(mock) = self.apns.process() {
            logs.push_str(&format!("\n--- mock-apns ---\n{}", mock.logs()));
        }
        logs
    }
}

/// Starts a service binary with `env`; returns it with the address it logged.
pub async fn start_service(
    bin: &str,
    env: &[(String, String)],
) -> anyhow::Result<(ChildProcess, SocketAddr)> {
    let process = ChildProcess::spawn(bin, &workspace_bin(bin), &[], env).await?;
    let line = process
        .wait_for_line(&format!("{bin} listening"), STARTUP)
        .await?;
    let addr = listening_addr(&line)?;
    Ok((process, addr))
}

/// The `/metrics` address a service logged (before its gRPC "listening" line).
pub async fn metrics_addr(process: &ChildProcess, bin: &str) -> anyhow::Result<SocketAddr> {
    let line = process
        .wait_for_line(&format!("{bin} metrics listening"), STARTUP)
        .await?;
    listening_addr(&line)
}

/// Scrapes a Prometheus endpoint and returns the value of one sample line, e.g.
/// `mdm_checkins_total{message_type="Authenticate",outcome="ok"}` (0 when absent).
pub async fn scrape(addr: SocketAddr, sample: &str) -> anyhow::Result<f64> {
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .find_map(|line| {
            line.strip_prefix(sample)
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or(0.0))
}

fn path(p: PathBuf) -> String {
    p.display().to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_address_of_a_listening_line() {
        let line = "2026-11-21T20:00:00Z  INFO enroll_svc: enroll-svc listening addr=127.0.0.1:40123 engine=\"sqlite\"";
        assert_eq!(
            super::listening_addr(line).expect("parses").to_string(),
            "127.0.0.1:40123"
        );
        assert!(super::listening_addr("no address").is_err());
    }
}
