//! The certificates every replica pushes with: each topic's newest row of `push_certificates`.
//!
//! A certificate uploaded through one replica must be used by all of them without a restart,
//! and replicas keep nothing another would need (docs/architecture.md §2). So each replica re-reads the
//! current versions from the database at most every `certificate.refresh_ms` (one cheap
//! `MAX(version)` per topic, only when pushes are being sent) and builds a new APNs client for a
//! topic whose version changed. If the database cannot be asked, the certificates in hand keep
//! being used.

use crate::apns::{ApnsClient, ApnsSettings};
use crate::certificate::PushCertificate;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::store::{CertificateRow, PushStore};
use service_kit::secrets::SecretBox;
use std::collections::HashMap;
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

/// Each topic's certificate, by topic.
pub type ByTopic = Arc<HashMap<String, Arc<ActiveCertificate>>>;

#[derive(Default)]
struct Cached {
    checked_at: Option<Instant>,
    current: ByTopic,
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

    /// Each topic's current certificate (empty before the first upload).
    pub async fn current(&self) -> Result<ByTopic, Error> {
        if let Some(fresh) = self.fresh() {
            return Ok(fresh);
        }
        // One task refreshes; the others wait and then take its result.
        let _refreshing = self.refreshing.lock().await;
        if let Some(fresh) = self.fresh() {
            return Ok(fresh);
        }
        let held = self.cached().current.clone();
        let versions = match self.store.certificate_versions().await {
            Ok(versions) => versions,
            Err(error) if !held.is_empty() => {
                tracing::warn!(%error, "cannot check for new push certificates; keeping the current ones");
                return Ok(held);
            }
            Err(error) => return Err(error),
        };
        let unchanged = versions.len() == held.len()
            && versions
                .iter()
                .all(|(topic, version)| held.get(topic).is_some_and(|c| c.row.version == *version));
        let current = if unchanged {
            held
        } else {
            let mut loaded = HashMap::with_capacity(versions.len());
            for row in self.store.current_certificates().await? {
                let certificate = match held.get(&row.topic) {
                    Some(kept) if kept.row.version == row.version => Arc::clone(kept),
                    _ => Arc::new(self.load(row)?),
                };
                loaded.insert(certificate.row.topic.clone(), certificate);
            }
            Arc::new(loaded)
        };
        let mut cached = self.cached();
        cached.checked_at = Some(Instant::now());
        cached.current = Arc::clone(&current);
        Ok(current)
    }

    fn fresh(&self) -> Option<ByTopic> {
        let cached = self.cached();
        let fresh = cached.checked_at.is_some_and(|at| at.elapsed() < self.ttl);
        fresh.then(|| Arc::clone(&cached.current))
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
