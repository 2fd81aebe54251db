//! The mock APNs for a test: a CA that issues both the mock's server certificate and the push
//! certificates it accepts, the mock itself, and a push certificate for [`PUSH_TOPIC`] ready to
//! upload.
//!
//! The mock runs either in the test process (from `devsim`, on its own runtime: faults and
//! latency can be injected and deliveries inspected through [`ApnsFixture::mock`]) or as its own
//! `mock-apns` process, as in production where Apple is another machine (the whole-system test).
//! Either way it serves its push feed, which simulated devices follow through
//! [`ApnsFixture::feed`].

use crate::pki::{Issued, PkiFiles, TestCa, PUSH_TOPIC};
use crate::process::{workspace_bin, ChildProcess};
use crate::stack::{listening_addr, STARTUP};
use mock_apns::{MockApns, MockApnsConfig, PushFeed};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

enum Runner {
    InProcess(MockApns),
    Process(ChildProcess),
}

/// A running mock APNs and the PKI around it. Dropping it stops the mock.
pub struct ApnsFixture {
    /// Issues the mock's server certificate and push certificates.
    pub ca: TestCa,
    /// A push certificate for [`PUSH_TOPIC`] from `ca`.
    pub push_cert: Issued,
    /// `ca` as a PEM file: push-svc's `apns.ca_files`.
    pub ca_file: PathBuf,
    runner: Runner,
    url: String,
    feed_url: String,
    feed: OnceLock<PushFeed>,
    _files: PkiFiles,
}

impl ApnsFixture {
    /// Starts a mock APNs in this process on a free loopback port that records every delivery.
    pub fn start() -> ApnsFixture {
        ApnsFixture::start_with(|_| {})
    }

    /// Starts one in this process with its configuration adjusted by `tune` (e.g. no
    /// recording for benchmarks).
    pub fn start_with(tune: impl FnOnce(&mut MockApnsConfig)) -> ApnsFixture {
        let (ca, files, server_files) = pki();
        let server = &server_files.issued;
        let mut config = MockApnsConfig::new(&server.cert_pem, &server.key_pem, &ca.cert_pem());
        config.feed_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        tune(&mut config);
        let mock = MockApns::start(config).expect("start the mock APNs");
        let feed_url = mock
            .feed_addr()
            .map(|addr| format!("http://{addr}"))
            .unwrap_or_default();
        let url = mock.url();
        ApnsFixture::new(ca, files, Runner::InProcess(mock), url, feed_url)
    }

    /// Starts the `mock-apns` binary as its own process (it must be built:
    /// `cargo build --workspace --bins`).
    pub async fn start_process() -> anyhow::Result<ApnsFixture> {
        let (ca, files, server_files) = pki();
        let path = |p: &PathBuf| p.display().to_string();
        let args = vec![
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--feed-listen".into(),
            "127.0.0.1:0".into(),
            "--cert".into(),
            path(&server_files.cert),
            "--key".into(),
            path(&server_files.key),
            "--client-ca".into(),
            path(&server_files.ca),
        ];
        let child =
            ChildProcess::spawn("mock-apns", &workspace_bin("mock-apns"), &args, &[]).await?;
        let addr = listening_addr(&child.wait_for_line("mock-apns listening", STARTUP).await?)?;
        let feed = listening_addr(&child.wait_for_line("mock-apns feed", STARTUP).await?)?;
        Ok(ApnsFixture::new(
            ca,
            files,
            Runner::Process(child),
            format!("https://{addr}"),
            format!("http://{feed}"),
        ))
    }

    fn new(ca: TestCa, files: PkiFiles, runner: Runner, url: String, feed_url: String) -> Self {
        let ca_file = files.write("apns-ca.pem", &ca.cert_pem());
        let push_cert = ca.issue_push(PUSH_TOPIC);
        ApnsFixture {
            ca,
            push_cert,
            ca_file,
            runner,
            url,
            feed_url,
            feed: OnceLock::new(),
            _files: files,
        }
    }

    /// The in-process mock, to inject faults or inspect deliveries.
    ///
    /// # Panics
    /// When the mock runs as its own process ([`ApnsFixture::start_process`]): such a test
    /// sees pushes through [`ApnsFixture::feed`] only, like a device.
    pub fn mock(&self) -> &MockApns {
        match &self.runner {
            Runner::InProcess(mock) => mock,
            Runner::Process(_) => {
                panic!("the mock APNs runs as its own process: use ApnsFixture::feed")
            }
        }
    }

    /// The mock's process, when it runs as one.
    pub fn process(&self) -> Option<&ChildProcess> {
        match &self.runner {
            Runner::InProcess(_) => None,
            Runner::Process(child) => Some(child),
        }
    }

    /// `https://127.0.0.1:<port>`: push-svc's APNs URL.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The push feed, followed from the first call on (which must be inside a Tokio runtime);
    /// every push since the mock started is counted.
    pub fn feed(&self) -> &PushFeed {
        self.feed.get_or_init(|| PushFeed::follow(&self.feed_url))
    }

    /// The push certificate and its key in one PEM: the usual upload.
    pub fn push_pem(&self) -> String {
        self.push_cert.identity_pem()
    }
}

/// The mock's server certificate and the CA it trusts, as values and files.
struct ServerFiles {
    issued: Issued,
    cert: PathBuf,
    key: PathBuf,
    ca: PathBuf,
}

fn pki() -> (TestCa, PkiFiles, ServerFiles) {
    let ca = TestCa::new("Mock APNs CA");
    let issued = ca.issue_server(&["127.0.0.1", "localhost"]);
    let files = PkiFiles::new();
    let (cert, key) = files.write_issued("apns-server", &issued);
    let ca_path = files.write("apns-client-ca.pem", &ca.cert_pem());
    let server = ServerFiles {
        issued,
        cert,
        key,
        ca: ca_path,
    };
    (ca, files, server)
}
