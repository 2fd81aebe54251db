//! The mock APNs: an HTTP/2-over-TLS server that speaks the APNs provider API for MDM pushes.
//! Apple's push servers cannot be reached from a test machine, so push-svc's real send path runs
//! against this mock over real TLS and HTTP/2.
//!
//! The mock checks what Apple checks and a little more: the client certificate must chain to a
//! configured CA (the push certificate), the path must be `/3/device/<hex token>`, `apns-topic`
//! must equal the certificate's UID attribute, `apns-push-type` must be `mdm`, `apns-expiration`
//! must be present, and the body must be exactly `{"mdm":"<PushMagic>"}`. It can inject APNs
//! errors (410, 400, 403, ...), latency and a GOAWAY every N requests, records every delivery,
//! and lets a subscriber (a simulated device) wait for its push.
//!
//! # Layout
//! - [`MockApns`] (here): the server handle tests and the binary use, and its settings.
//! - `server`: TLS accept loop and the HTTP/2 connection (GOAWAY, latency).
//! - `validate`: what makes a request a valid MDM push, and the APNs reason if not.
//! - `record`: deliveries, refusals, injected faults and waiting for a push.
//! - [`feed`]: the long-poll feed of deliveries for devices in other processes.
//! - [`push_feed`]: [`PushFeed`], the devices' client of that feed.
//! - [`error`]: the crate's error.
//!
//! It is its own crate so that `testkit` (which runs it in a test's process, to inject faults)
//! and `devsim` (whose simulated devices follow its feed) both depend on it and not on each
//! other. The `mock-apns` binary runs the same server as its own process:
//! `cargo run -p mock-apns -- --help`.
//!
//! [`MockApns::start`] runs the server on a runtime of its own (a background thread), so a test
//! on a current-thread runtime, a synchronous caller and the benchmark can all use it without
//! starving it. The handle is the test's window into it: what was delivered, what was refused,
//! faults to inject, and [`MockApns::wait_for_push`] for a simulated device.

pub mod error;
pub mod feed;
pub mod push_feed;
mod record;
mod server;
mod validate;

pub use error::Error;
pub use push_feed::PushFeed;
pub use record::{Delivery, Fault, Refusal, DEFAULT_KEEP};

use record::Recorder;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How the mock listens and whom it trusts.
#[derive(Debug, Clone)]
pub struct MockApnsConfig {
    /// Listen address; port 0 picks a free one.
    pub listen: SocketAddr,
    /// PEM of the server certificate (chain) the mock presents.
    pub server_cert_pem: String,
    /// PEM of its private key.
    pub server_key_pem: String,
    /// PEM of the CA(s) a push certificate must chain to.
    pub client_ca_pem: String,
    /// SETTINGS_MAX_CONCURRENT_STREAMS advertised per connection (APNs typically allows 1000).
    pub max_concurrent_streams: u32,
    /// Keep deliveries in memory (tests, the feed); off, only counts are kept (benchmarks).
    pub record_deliveries: bool,
    /// How many of the latest deliveries and refusals are kept when recording.
    pub keep: usize,
    /// Worker threads of the mock's own runtime.
    pub worker_threads: usize,
    /// Where to serve the push feed ([`feed`]) for simulated devices in other processes; `None`
    /// serves none. Needs `record_deliveries`.
    pub feed_listen: Option<SocketAddr>,
}

impl MockApnsConfig {
    /// Loopback on a free port, 1000 streams per connection, deliveries recorded, two threads.
    pub fn new(server_cert_pem: &str, server_key_pem: &str, client_ca_pem: &str) -> MockApnsConfig {
        MockApnsConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            server_cert_pem: server_cert_pem.to_owned(),
            server_key_pem: server_key_pem.to_owned(),
            client_ca_pem: client_ca_pem.to_owned(),
            max_concurrent_streams: 1000,
            record_deliveries: true,
            keep: DEFAULT_KEEP,
            worker_threads: 2,
            feed_listen: None,
        }
    }
}

/// A running mock APNs. Dropping it stops the server.
pub struct MockApns {
    addr: SocketAddr,
    feed_addr: Option<SocketAddr>,
    recorder: Arc<Recorder>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for MockApns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockApns")
            .field("addr", &self.addr)
            .finish()
    }
}

impl MockApns {
    /// Binds, builds the TLS configuration and starts serving on a background runtime.
    pub fn start(config: MockApnsConfig) -> Result<MockApns, Error> {
        let tls = server::tls_config(&config)?;
        let listener = std::net::TcpListener::bind(config.listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let feed_listener = match config.feed_listen {
            Some(feed) => {
                let feed = std::net::TcpListener::bind(feed)?;
                feed.set_nonblocking(true)?;
                Some(feed)
            }
            None => None,
        };
        let feed_addr = feed_listener
            .as_ref()
            .map(std::net::TcpListener::local_addr)
            .transpose()?;
        let recorder = Arc::new(Recorder::new(config.record_deliveries, config.keep));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.worker_threads.max(1))
            .thread_name("mock-apns")
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = server::Server {
            tls,
            recorder: Arc::clone(&recorder),
            max_concurrent_streams: config.max_concurrent_streams,
        };
        let thread = std::thread::Builder::new()
            .name("mock-apns-main".into())
            .spawn(move || {
                runtime.block_on(async move {
                    if let Some(feed) = feed_listener {
                        match tokio::net::TcpListener::from_std(feed) {
                            Ok(feed) => {
                                tokio::spawn(feed::serve(feed, Arc::clone(&serving.recorder)));
                            }
                            Err(error) => tracing::error!(%error, "mock APNs feed cannot listen"),
                        }
                    }
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => serving.run(listener, stopped).await,
                        Err(error) => tracing::error!(%error, "mock APNs cannot listen"),
                    }
                });
                // Connections still open are dropped with the runtime.
                runtime.shutdown_background();
            })?;
        Ok(MockApns {
            addr,
            feed_addr,
            recorder,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The push feed's address, if it serves one.
    pub fn feed_addr(&self) -> Option<SocketAddr> {
        self.feed_addr
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:<port>`: the base URL push-svc is configured with.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Every delivery so far (empty when recording is off).
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.recorder.deliveries()
    }

    /// Deliveries to one token (hex, any case).
    pub fn deliveries_to(&self, token_hex: &str) -> Vec<Delivery> {
        let token = token_hex.to_ascii_lowercase();
        self.recorder
            .deliveries()
            .into_iter()
            .filter(|d| d.token == token)
            .collect()
    }

    /// Number of accepted pushes (counted even when recording is off).
    pub fn delivered_count(&self) -> u64 {
        self.recorder.delivered_count()
    }

    /// Requests answered with an error, with the reason.
    pub fn refusals(&self) -> Vec<Refusal> {
        self.recorder.refusals()
    }

    /// Number of HTTP/2 connections accepted (after the TLS handshake).
    pub fn connection_count(&self) -> u64 {
        self.recorder.connection_count()
    }

    /// Number of GOAWAY frames sent because of [`MockApns::set_goaway_every`].
    pub fn goaway_count(&self) -> u64 {
        self.recorder.goaway_count()
    }

    /// Answers every later valid push to `token_hex` with `fault` instead of 200.
    pub fn inject(&self, token_hex: &str, fault: Fault) {
        self.recorder.inject(token_hex, fault);
    }

    /// Answers every later valid push, whatever its token, with `fault` (None: stop).
    pub fn inject_all(&self, fault: Option<Fault>) {
        self.recorder.inject_all(fault);
    }

    /// Delays every answer by `latency` (zero: none).
    pub fn set_latency(&self, latency: Duration) {
        self.recorder.set_latency(latency);
    }

    /// Sends a graceful GOAWAY on a connection after every `n` requests on it (0: never).
    pub fn set_goaway_every(&self, n: u64) {
        self.recorder.set_goaway_every(n);
    }

    /// Waits until a push to `token_hex` arrives (one already recorded counts), or `timeout`.
    /// This is what a simulated device does while it sleeps.
    pub async fn wait_for_push(&self, token_hex: &str, timeout: Duration) -> Option<Delivery> {
        self.recorder.wait_for(token_hex, timeout).await
    }
}

impl Drop for MockApns {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Every certificate in a PEM text.
pub(crate) fn certificates(
    pem: &str,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Pem {
            what,
            why: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(Error::Pem {
            what,
            why: "no CERTIFICATE block".into(),
        });
    }
    Ok(certs)
}

/// The private key in a PEM text.
pub(crate) fn private_key(pem: &str) -> Result<PrivateKeyDer<'static>, Error> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| Error::Pem {
        what: "server key",
        why: e.to_string(),
    })
}
