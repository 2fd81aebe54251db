//! The APNs provider client: HTTP/2 over TLS with the push certificate as client certificate.
//!
//! One [`ApnsClient`] per certificate holds a few HTTP/2 connections (`apns.connections`),
//! used round-robin, each carrying many concurrent streams; h2 keeps each connection within the
//! server's SETTINGS_MAX_CONCURRENT_STREAMS (APNs starts at 1 and raises it after the first
//! request), and a semaphore bounds the pushes in flight across connections. A connection is
//! opened on first use and again after it breaks (network error, GOAWAY). Failed attempts are
//! retried with exponential backoff: a repeated wake-up push is harmless, a lost one leaves a
//! command waiting until the device checks in by itself.
//!
//! - `apns::connection`: TCP (TCP_NODELAY) + TLS + HTTP/2 handshake, the TLS configuration.
//! - `apns::request`: the exact wire format and reading APNs's answer.

mod connection;
mod request;

pub use request::{push_body, push_path};

use crate::config::ApnsConfig;
use crate::error::Error;
use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http2::SendRequest;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Client settings shared by the clients of every certificate.
#[derive(Debug, Clone)]
pub struct ApnsSettings {
    /// Roots trusted for the APNs server certificate.
    pub roots: Arc<RootCertStore>,
    /// Production base URL.
    pub production_url: String,
    /// Sandbox base URL.
    pub sandbox_url: String,
    /// Connections per certificate.
    pub connections: usize,
    /// Pushes in flight per certificate.
    pub max_in_flight: usize,
    /// `apns-expiration` is now plus this.
    pub expiration: Duration,
    /// Deadline of one request.
    pub request_timeout: Duration,
    /// Deadline of one connection set-up.
    pub connect_timeout: Duration,
    /// Retries after a retryable failure.
    pub retries: u32,
    /// First retry delay.
    pub retry_backoff: Duration,
}

impl ApnsSettings {
    /// Settings from configuration: the configured CA files, or the public web roots.
    pub fn from_config(config: &ApnsConfig) -> Result<ApnsSettings, Error> {
        let mut roots = RootCertStore::empty();
        if config.ca_files.is_empty() {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for path in &config.ca_files {
            let pem = std::fs::read(path)?;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| Error::Tls(format!("{}: {e}", path.display())))?;
                roots
                    .add(cert)
                    .map_err(|e| Error::Tls(format!("{}: {e}", path.display())))?;
            }
        }
        if roots.is_empty() {
            return Err(Error::Tls("apns.ca_files hold no certificate".into()));
        }
        Ok(ApnsSettings {
            roots: Arc::new(roots),
            production_url: config.production_url.clone(),
            sandbox_url: config.sandbox_url.clone(),
            connections: config.connections.max(1),
            max_in_flight: config.max_in_flight.max(1),
            expiration: Duration::from_secs(config.expiration_secs),
            request_timeout: Duration::from_millis(config.request_timeout_ms),
            connect_timeout: Duration::from_millis(config.connect_timeout_ms),
            retries: config.retries,
            retry_backoff: Duration::from_millis(config.retry_backoff_ms),
        })
    }

    /// The base URL of an environment (`production` or `sandbox`).
    pub fn base_url(&self, environment: &str) -> &str {
        if environment == "sandbox" {
            &self.sandbox_url
        } else {
            &self.production_url
        }
    }
}

/// What APNs said about one push, after retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApnsReply {
    /// APNs answered with this status and (for errors) its reason, verbatim.
    Answered {
        /// HTTP status.
        status: u16,
        /// The `reason` of the JSON body; empty on 200.
        reason: String,
    },
    /// APNs could not be reached or did not answer in time, every attempt.
    Unreachable(String),
}

/// Resends of a push whose stream was refused unprocessed, beyond the configured retries: a
/// bound, so that a server refusing every stream cannot keep a push looping.
const MAX_UNPROCESSED_RESENDS: u32 = 20;

/// Why an attempt failed, and whether the server certainly did not process the request.
struct Failure {
    why: String,
    unprocessed: bool,
}

/// True when `error` says the request never reached APNs's processing: a stream refused by a
/// GOAWAY or REFUSED_STREAM, or a request the closing connection never sent.
fn unprocessed(error: &hyper::Error) -> bool {
    if error.is_canceled() {
        return true;
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(h2) = cause.downcast_ref::<h2::Error>() {
            return h2.is_go_away() || h2.reason() == Some(h2::Reason::REFUSED_STREAM);
        }
        source = cause.source();
    }
    false
}

/// Statuses worth another attempt: throttling and server-side trouble.
fn retryable(status: u16) -> bool {
    status == 429 || status >= 500
}

/// One certificate's connections to APNs.
#[derive(Clone)]
pub struct ApnsClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ApnsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsClient")
            .field("endpoint", &self.inner.endpoint.base)
            .field("topic", &self.inner.topic)
            .finish()
    }
}

struct Inner {
    endpoint: connection::Endpoint,
    topic: String,
    tls: tokio_rustls::TlsConnector,
    slots: Vec<Slot>,
    next_slot: AtomicUsize,
    next_id: AtomicU64,
    permits: Semaphore,
    settings: ApnsSettings,
}

/// One connection position: the live connection, and a lock so that one task connects while
/// the others wait for it.
#[derive(Default)]
struct Slot {
    current: Mutex<Option<Conn>>,
    connecting: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
struct Conn {
    id: u64,
    sender: SendRequest<Full<Bytes>>,
}

impl Slot {
    fn live(&self) -> Option<Conn> {
        let current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        current.clone().filter(|conn| !conn.sender.is_closed())
    }

    /// Forgets connection `id` (if still current) so that the next push reconnects.
    fn discard(&self, id: u64) {
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if current.as_ref().is_some_and(|conn| conn.id == id) {
            *current = None;
        }
    }
}

impl ApnsClient {
    /// A client for `certificate`'s key and chain, talking to `base_url` (nothing connects yet).
    pub fn new(
        certified: Arc<rustls::sign::CertifiedKey>,
        topic: &str,
        base_url: &str,
        settings: &ApnsSettings,
    ) -> Result<ApnsClient, Error> {
        let endpoint = connection::Endpoint::parse(base_url)?;
        let tls = connection::tls_connector(&settings.roots, certified)?;
        Ok(ApnsClient {
            inner: Arc::new(Inner {
                endpoint,
                topic: topic.to_owned(),
                tls,
                slots: (0..settings.connections).map(|_| Slot::default()).collect(),
                next_slot: AtomicUsize::new(0),
                next_id: AtomicU64::new(1),
                permits: Semaphore::new(settings.max_in_flight),
                settings: settings.clone(),
            }),
        })
    }

    /// The topic this client pushes on.
    pub fn topic(&self) -> &str {
        &self.inner.topic
    }

    /// The APNs base URL this client pushes to.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint.base
    }

    /// Opens one fresh connection (TCP, TLS with the certificate, HTTP/2), asks it something
    /// that pushes nothing ([`request::probe`]) and closes it: proof that APNs can be reached
    /// and accepts the certificate. The request matters: in TLS 1.3 the client's handshake
    /// completes before the server has judged the client certificate, so only an answer shows
    /// it was accepted. A fresh connection rather than a pooled one, so that the answer is
    /// about now. Answers how long it all took.
    pub async fn probe(&self) -> Result<Duration, String> {
        let inner = &self.inner;
        let started = std::time::Instant::now();
        let mut sender =
            connection::connect(&inner.endpoint, &inner.tls, inner.settings.connect_timeout)
                .await?;
        let request = request::probe(&inner.endpoint.base).map_err(|e| e.to_string())?;
        let asked = tokio::time::timeout(inner.settings.request_timeout, async {
            sender.ready().await?;
            let response = sender.send_request(request).await?;
            request::read_reply(response).await
        })
        .await;
        // Dropping the only handle ends the connection's task.
        drop(sender);
        match asked {
            Ok(Ok(ApnsReply::Answered {
                status: 403,
                reason,
            })) => Err(format!(
                "{} refused the certificate: 403 {reason}",
                inner.endpoint.base
            )),
            Ok(Ok(_)) => Ok(started.elapsed()),
            Ok(Err(error)) => Err(format!(
                "{} ended the connection: {error} (a refused certificate does this)",
                inner.endpoint.base
            )),
            Err(_) => Err(format!(
                "{} did not answer within {:?}",
                inner.endpoint.base, inner.settings.request_timeout
            )),
        }
    }

    /// Sends one MDM push, retrying network errors, GOAWAYs, 429 and 5xx with backoff.
    ///
    /// A stream the server refused without processing it (a GOAWAY that does not cover it,
    /// REFUSED_STREAM, a connection that closed before the request left) is sent again on a
    /// fresh connection at once and does not use up a retry: with a GOAWAY every N requests
    /// and thousands in flight, most requests on the closing connection meet one, and the
    /// push never reached APNs.
    pub async fn send(&self, token: &[u8], push_magic: &str) -> ApnsReply {
        let inner = &self.inner;
        let Ok(_permit) = inner.permits.acquire().await else {
            return ApnsReply::Unreachable("client closed".into());
        };
        let mut last: ApnsReply;
        let mut retries = 0u32;
        let mut unprocessed = 0u32;
        loop {
            match self.attempt(token, push_magic).await {
                Ok(reply) => match &reply {
                    ApnsReply::Answered { status, .. } if retryable(*status) => last = reply,
                    _ => return reply,
                },
                Err(failure) if failure.unprocessed && unprocessed < MAX_UNPROCESSED_RESENDS => {
                    unprocessed += 1;
                    continue;
                }
                Err(failure) => last = ApnsReply::Unreachable(failure.why),
            }
            if retries >= inner.settings.retries {
                return last;
            }
            retries += 1;
            let factor = 1u32 << (retries - 1).min(6);
            tokio::time::sleep(inner.settings.retry_backoff * factor).await;
        }
    }

    /// One attempt on the next connection.
    async fn attempt(&self, token: &[u8], push_magic: &str) -> Result<ApnsReply, Failure> {
        let inner = &self.inner;
        let slot_index = inner.next_slot.fetch_add(1, Ordering::Relaxed) % inner.slots.len();
        let slot = &inner.slots[slot_index];
        let mut conn = self.connection(slot).await.map_err(|why| Failure {
            why,
            unprocessed: false,
        })?;
        let request = request::build(
            &inner.endpoint.base,
            token,
            push_magic,
            &inner.topic,
            inner.settings.expiration,
        )
        .map_err(|e| Failure {
            why: e.to_string(),
            unprocessed: false,
        })?;
        let sent = tokio::time::timeout(inner.settings.request_timeout, async {
            conn.sender.ready().await?;
            let response = conn.sender.send_request(request).await?;
            request::read_reply(response).await
        })
        .await;
        match sent {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(error)) => {
                // Closed, reset or refused after a GOAWAY: this connection is done with.
                slot.discard(conn.id);
                Err(Failure {
                    unprocessed: unprocessed(&error),
                    why: format!("APNs connection failed: {error}"),
                })
            }
            Err(_) => {
                slot.discard(conn.id);
                Err(Failure {
                    why: format!(
                        "APNs did not answer within {:?}",
                        inner.settings.request_timeout
                    ),
                    unprocessed: false,
                })
            }
        }
    }

    /// The slot's live connection, connecting when there is none.
    async fn connection(&self, slot: &Slot) -> Result<Conn, String> {
        if let Some(conn) = slot.live() {
            return Ok(conn);
        }
        let _connecting = slot.connecting.lock().await;
        if let Some(conn) = slot.live() {
            return Ok(conn);
        }
        let inner = &self.inner;
        let sender =
            connection::connect(&inner.endpoint, &inner.tls, inner.settings.connect_timeout)
                .await?;
        let conn = Conn {
            id: inner.next_id.fetch_add(1, Ordering::Relaxed),
            sender,
        };
        *slot
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(conn.clone());
        Ok(conn)
    }
}
