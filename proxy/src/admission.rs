//! Admission: may this certificate speak for this enrollment? One question to enroll-svc
//! (`Enrollment.Admit`) answers everything the edge needs before it forwards a message: the
//! certificate is not revoked (nor an OTA identity), the identity policy that applies (the
//! configured one, or bound-certificate for a direct-profile certificate, whose CN is random),
//! and, for a command report, that the enrollment is active with this certificate and its
//! generation. The CN check of the policy is then made here ([`identity::verify`]).
//!
//! Positive answers are kept in one bounded cache ([`moka`]), keyed by certificate and
//! enrollment, for `services.admission_cache_ms`: a device sends several messages per session, and
//! asking for each would double the backend calls of the hot path. Refusals are never cached.
//!
//! A cached answer goes stale when the device Authenticates or checks out, or its certificate is
//! revoked, through any edge. enroll-svc streams those changes to every edge
//! (`Enrollment.WatchAdmissions`, followed by [`AdmissionWatch`]), with a heartbeat every 250 ms;
//! the cache is used only while the stream was heard within `services.admission_coherence_ms`, so
//! no change goes unenforced here for longer than that. A change seen by this edge itself evicts
//! at once.

use crate::backends::Backends;
use crate::config::{IdentityPolicy, Services};
use crate::error::ProxyError;
use crate::identity;
use crate::tls::ClientCertificate;
use async_trait::async_trait;
use mdm_core::EnrollmentRef;
use mdm_proto::v1::{self, admission_change, AdmitRequest, AuthMethod, DeviceIdentity};
use moka::sync::Cache;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use prometheus_client::metrics::gauge::Gauge;
use service_kit::upstream::{Upstream, UpstreamError, UpstreamOptions};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Admissions kept at most (a few hundred bytes each).
const MAX_ENTRIES: u64 = 200_000;
/// The wait before a lost watch stream is opened again.
const REWATCH_AFTER: Duration = Duration::from_millis(200);

/// Certificate SHA-256 and enrollment ID.
type Key = ([u8; 32], String);

/// A positive answer of enroll-svc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Admitted {
    policy: IdentityPolicy,
    /// Known when the command channel was asked about.
    generation: Option<u64>,
}

/// The edge's admissions: enroll-svc's answers, cached while they are known to be current.
pub struct Admissions {
    cache: Cache<Key, Admitted>,
    caching: bool,
    coherence: Duration,
    started: Instant,
    /// Milliseconds after `started` the watch stream was last heard; 0 = not heard.
    heard_at_ms: AtomicU64,
    /// Counts invalidations: an answer asked for before one is not cached after it.
    epoch: AtomicU64,
}

impl Admissions {
    /// Admissions kept for `services.admission_cache_ms` while the watch stream is heard
    /// within `services.admission_coherence_ms`.
    pub fn new(services: &Services) -> Admissions {
        let ttl = Duration::from_millis(services.admission_cache_ms);
        Admissions {
            cache: Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(ttl.max(Duration::from_millis(1)))
                .support_invalidation_closures()
                .build(),
            caching: !ttl.is_zero(),
            coherence: Duration::from_millis(services.admission_coherence_ms),
            started: Instant::now(),
            heard_at_ms: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
        }
    }

    /// The identity to forward for a message from `cert` (verified by `method`) naming
    /// `enrollment`, with the enrollment's generation when `command_channel`; or why not
    /// (revoked, CN mismatch, other certificate: 403; not managed: 401; enroll-svc down: 503).
    pub async fn admit(
        &self,
        backends: &Backends,
        method: AuthMethod,
        cert: &ClientCertificate,
        enrollment: &EnrollmentRef,
        configured: IdentityPolicy,
        command_channel: bool,
    ) -> Result<DeviceIdentity, ProxyError> {
        let key = (cert.sha256, enrollment.id.clone());
        let admitted = match self.cached(&key, command_channel) {
            Some(admitted) => admitted,
            None => {
                let epoch = self.epoch.load(Ordering::Acquire);
                let asked = identity::unchecked(configured, method, cert, enrollment)?;
                let answer = backends
                    .enroll_client()
                    .admit(AdmitRequest {
                        identity: Some(asked),
                        command_channel,
                        cert_der: cert.der.to_vec(),
                    })
                    .await
                    .map_err(|status| ProxyError::backend("enroll-svc", &status))?
                    .into_inner();
                let admitted = Admitted {
                    policy: match answer.policy() {
                        v1::IdentityPolicy::BoundCertificate => IdentityPolicy::BoundCertificate,
                        v1::IdentityPolicy::CnEqualsUdid => IdentityPolicy::CnEqualsUdid,
                        v1::IdentityPolicy::Unspecified => configured,
                    },
                    generation: command_channel.then_some(answer.generation),
                };
                self.remember(key, admitted, epoch);
                admitted
            }
        };
        let identity = identity::verify(admitted.policy, method, cert, enrollment)?;
        Ok(identity
            .at_generation(admitted.generation.unwrap_or(0))
            .into())
    }

    /// Forgets the admissions of a device channel and its user channels (it Authenticated or
    /// checked out).
    pub fn forget_device(&self, device_id: &str) {
        self.invalidated();
        let device_id = device_id.to_owned();
        let user_prefix = format!("{device_id}:");
        // Fails only without `support_invalidation_closures`, which `new` sets; forget all then.
        if self
            .cache
            .invalidate_entries_if(move |(_, id), _| {
                *id == device_id || id.starts_with(&user_prefix)
            })
            .is_err()
        {
            self.cache.invalidate_all();
        }
    }

    /// Forgets the admissions of a certificate (revoked).
    pub fn forget_certificate(&self, sha256: [u8; 32]) {
        self.invalidated();
        if self
            .cache
            .invalidate_entries_if(move |(cert, _), _| *cert == sha256)
            .is_err()
        {
            self.cache.invalidate_all();
        }
    }

    /// Forgets everything (changes may have been missed).
    pub fn forget_all(&self) {
        self.invalidated();
        self.cache.invalidate_all();
    }

    /// The watch stream said something: the cache is current until `coherence` from now.
    fn heard(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.heard_at_ms.store(now.max(1), Ordering::Release);
    }

    /// The watch stream was lost: nothing cached is known to be current.
    fn lost(&self) {
        self.heard_at_ms.store(0, Ordering::Release);
        self.forget_all();
    }

    fn coherent(&self) -> bool {
        let heard = self.heard_at_ms.load(Ordering::Acquire);
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let bound = u64::try_from(self.coherence.as_millis()).unwrap_or(u64::MAX);
        heard != 0 && now.saturating_sub(heard) < bound
    }

    fn invalidated(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    fn cached(&self, key: &Key, command_channel: bool) -> Option<Admitted> {
        if !self.caching || !self.coherent() {
            return None;
        }
        self.cache
            .get(key)
            .filter(|admitted| !command_channel || admitted.generation.is_some())
    }

    /// Caches `admitted`, asked for at `epoch`, unless something was invalidated since: the
    /// answer may predate that change.
    fn remember(&self, key: Key, admitted: Admitted, epoch: u64) {
        if self.caching && self.epoch.load(Ordering::Acquire) == epoch {
            self.cache.insert(key, admitted);
        }
    }

    /// Applies one message of the watch stream.
    fn apply(&self, change: Option<admission_change::Change>) {
        match change {
            Some(admission_change::Change::Heartbeat(_)) => {}
            Some(admission_change::Change::DeviceId(id)) => self.forget_device(&id),
            Some(admission_change::Change::CertSha256(sha256)) => {
                match <[u8; 32]>::try_from(sha256.as_slice()) {
                    Ok(sha256) => self.forget_certificate(sha256),
                    Err(_) => self.forget_all(),
                }
            }
            Some(admission_change::Change::Reset(_)) | None => self.forget_all(),
        }
        self.heard();
    }
}

/// Follows enroll-svc's stream of admission changes for as long as the edge runs (a pingora
/// background service), reopening it when it ends.
pub struct AdmissionWatch {
    admissions: Arc<Admissions>,
    enroll: Upstream,
    /// `mdm_proxy_admission_stream_up`.
    up: Gauge,
}

impl AdmissionWatch {
    /// A watch feeding `admissions` from the configured enroll-svc replicas, saying in `up`
    /// whether it is heard.
    ///
    /// It has connections of its own rather than the device path's ([`Backends`]): a channel's
    /// connection task runs on the runtime that first used it, and this one runs on the
    /// background service's single thread, which device requests must not depend on.
    pub fn new(
        admissions: Arc<Admissions>,
        services: &Services,
        up: Gauge,
    ) -> Result<Self, UpstreamError> {
        let options = UpstreamOptions {
            // A stream has no deadline; silence is detected by the missing heartbeats.
            timeout: None,
            ..UpstreamOptions::default()
        };
        Ok(AdmissionWatch {
            admissions,
            enroll: Upstream::new("enroll-svc", &services.enroll_url, options)?,
            up,
        })
    }

    /// Follows one stream until it ends, fails or falls silent for the coherence bound.
    async fn follow(&self) {
        let opened = mdm_proto::clients::enrollment(self.enroll.channel())
            .watch_admissions(v1::WatchAdmissionsRequest {})
            .await;
        let mut stream = match opened {
            Ok(stream) => stream.into_inner(),
            Err(status) => {
                tracing::debug!(%status, "admission changes: cannot watch; every request asks");
                return;
            }
        };
        loop {
            match tokio::time::timeout(self.admissions.coherence, stream.message()).await {
                Ok(Ok(Some(message))) => {
                    self.admissions.apply(message.change);
                    self.up.set(1);
                }
                Ok(Ok(None)) => return,
                Ok(Err(status)) => {
                    tracing::warn!(%status, "admission changes: stream failed; every request asks until it is back");
                    return;
                }
                Err(_) => {
                    tracing::warn!(
                        "admission changes: stream silent; every request asks until it is back"
                    );
                    return;
                }
            }
        }
    }
}

#[async_trait]
impl BackgroundService for AdmissionWatch {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                () = self.follow() => {}
            }
            self.admissions.lost();
            self.up.set(0);
            tokio::select! {
                _ = shutdown.changed() => return,
                () = tokio::time::sleep(REWATCH_AFTER) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests;
