//! The certificate every replica pushes with: the newest row of `push_certificates`.
//!
//! A certificate uploaded through one replica must be used by all of them without a restart,
//! and replicas keep nothing another would need (docs/architecture.md §2). So each replica re-reads the
//! current version from the database at most every `certificate.refresh_ms` (one cheap
//! `MAX(version)` read, only when pushes are being sent) and builds a new APNs client when it
//! changed. If the database cannot be asked, the certificate in hand keeps being used.

use crate::apns::{ApnsClient, ApnsSettings};
use crate::certificate::PushCertificate;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::store::{CertificateRow, PushStore};
use service_kit::secrets::SecretBox;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The sealing context of a certificate's key: a sealed key only opens for its certificate.
pub fn key_context(sha256: &str) -> String {
    format!("push-certificate-key:{sha256}")
}

/// A loaded certificate with its APNs client.
#[derive(Debug)]
pub struct ActiveCertificate {
    /// The row it was loaded from (its sealed key stays sealed).
    pub row: CertificateRow,
    /// Its connections to APNs.
    pub client: ApnsClient,
}

#[derive(Default)]
struct Cached {
    checked_at: Option<Instant>,
    current: Option<Arc<ActiveCertificate>>,
}

/// The current certificate, refreshed from the database.
pub struct CertificateCache {
    store: PushStore,
    secrets: SecretBox,
    settings: ApnsSettings,
    ttl: Duration,
    metrics: Metrics,
    cached: Mutex<Cached>,
    refreshing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for CertificateCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateCache")
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl CertificateCache {
    /// A cache that checks the database at most every `ttl`.
    pub fn new(
        store: PushStore,
        secrets: SecretBox,
        settings: ApnsSettings,
        ttl: Duration,
        metrics: Metrics,
    ) -> CertificateCache {
        CertificateCache {
            store,
            secrets,
            settings,
            ttl,
            metrics,
            cached: Mutex::new(Cached::default()),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    fn cached(&self) -> std::sync::MutexGuard<'_, Cached> {
        self.cached
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes the next call re-read the database (after an upload on this replica).
    pub fn invalidate(&self) {
        self.cached().checked_at = None;
    }

    /// The current certificate, or `None` before the first upload.
    pub async fn current(&self) -> Result<Option<Arc<ActiveCertificate>>, Error> {
        if let Some(fresh) = self.fresh() {
            return Ok(fresh);
        }
        // One task refreshes; the others wait and then take its result.
        let _refreshing = self.refreshing.lock().await;
        if let Some(fresh) = self.fresh() {
            return Ok(fresh);
        }
        let held = self.cached().current.clone();
        let version = match self.store.current_certificate_version().await {
            Ok(version) => version,
            Err(error) if held.is_some() => {
                tracing::warn!(%error, "cannot check for a new push certificate; keeping the current one");
                return Ok(held);
            }
            Err(error) => return Err(error),
        };
        let current = match (version, &held) {
            (Some(version), Some(held)) if held.row.version == version => Some(Arc::clone(held)),
            (None, _) => None,
            (Some(_), _) => match self.store.current_certificate().await? {
                Some(row) => Some(Arc::new(self.load(row)?)),
                None => None,
            },
        };
        let mut cached = self.cached();
        cached.checked_at = Some(Instant::now());
        cached.current = current.clone();
        Ok(current)
    }

    fn fresh(&self) -> Option<Option<Arc<ActiveCertificate>>> {
        let cached = self.cached();
        let fresh = cached.checked_at.is_some_and(|at| at.elapsed() < self.ttl);
        fresh.then(|| cached.current.clone())
    }

    /// Opens a stored certificate's key and builds its client.
    fn load(&self, row: CertificateRow) -> Result<ActiveCertificate, Error> {
        let key_pem = self
            .secrets
            .open(&row.sealed_key, &key_context(&row.sha256))?;
        let certificate = PushCertificate::from_stored(&row.chain_pem, &key_pem)?;
        let client = ApnsClient::new(
            certificate.certified_key()?,
            &row.topic,
            self.settings.base_url(&row.environment),
            &self.settings,
        )?;
        self.metrics
            .certificate(&row.topic, row.not_after, service_kit::now_ms());
        tracing::info!(topic = %row.topic, version = row.version, not_after_ms = row.not_after,
            environment = %row.environment, "push certificate loaded");
        Ok(ActiveCertificate { row, client })
    }
}
