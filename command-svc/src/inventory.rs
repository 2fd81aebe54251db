//! The inventory dispatcher: sends what acknowledged results said about devices (the outbox
//! the report cycle writes in the same transaction as each result) to enroll-svc, which folds
//! it into the device's record. At least once: a row is deleted only after enroll-svc answered,
//! and enroll-svc keeps the newest report, so a repeat is harmless. Every replica may run one;
//! a row two replicas send is applied twice, to the same effect.

use crate::metrics::Metrics;
use crate::store::QueueStore;
use mdm_proto::v1::{InventoryReport, InventoryUpdate, UpdateInventoryRequest};
use prost::Message;
use service_kit::upstream::Upstream;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Rows sent per round.
const BATCH: usize = 100;
/// The most payload bytes sent in one request, well under the gRPC message limit.
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// How long a wake-up waits for more rows before sending: results arrive one per report, and
/// a batch costs enroll-svc one transaction whatever its size. Inventory lags by this much.
const GATHER: Duration = Duration::from_millis(50);
/// How often the outbox is looked at without being woken (other replicas' rows, restarts).
const POLL: Duration = Duration::from_secs(1);
/// The longest wait after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Sends the outbox; wake it with [`InventoryDispatcher::waker`] after writing to it.
#[derive(Debug, Clone)]
pub struct InventoryDispatcher {
    store: QueueStore,
    enroll: Upstream,
    metrics: Metrics,
    wake: Arc<Notify>,
}

impl InventoryDispatcher {
    /// A dispatcher from `store`'s outbox to `enroll`.
    pub fn new(store: QueueStore, enroll: Upstream, metrics: Metrics) -> InventoryDispatcher {
        InventoryDispatcher {
            store,
            enroll,
            metrics,
            wake: Arc::new(Notify::new()),
        }
    }

    /// What the report cycle notifies when it wrote to the outbox.
    pub fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Runs until the task is dropped.
    pub async fn run(self) {
        let mut backoff = Duration::ZERO;
        loop {
            let woken = self.wake.notified();
            let wait = if backoff.is_zero() { POLL } else { backoff };
            if tokio::time::timeout(wait, woken).await.is_ok() && backoff.is_zero() {
                tokio::time::sleep(GATHER).await;
            }
            backoff = match self.drain().await {
                Ok(()) => Duration::ZERO,
                Err(why) => {
                    self.metrics.inventory_failures.inc();
                    tracing::warn!(%why, "inventory outbox not sent; retrying");
                    (backoff * 2).clamp(Duration::from_millis(250), MAX_BACKOFF)
                }
            };
        }
    }

    /// Sends everything pending, batch by batch.
    async fn drain(&self) -> Result<(), String> {
        loop {
            let rows = self
                .store
                .pending_inventory(BATCH)
                .await
                .map_err(|e| e.to_string())?;
            if rows.is_empty() {
                self.metrics.inventory_backlog.set(0);
                return Ok(());
            }
            // One request and one transaction in enroll-svc for the whole batch (bounded in
            // bytes: app lists can be large). Rows that cannot be read are dropped rather than
            // block the rest.
            let mut sent = Vec::with_capacity(rows.len());
            let mut reports = Vec::with_capacity(rows.len());
            let mut bytes = 0;
            for row in &rows {
                sent.push(row.id);
                bytes += row.payload.len();
                match InventoryUpdate::decode(row.payload.as_slice()) {
                    Ok(update) => reports.push(InventoryReport {
                        enrollment_id: row.enrollment_id.clone(),
                        reported_at_ms: row.reported_at,
                        update: Some(update),
                    }),
                    Err(error) => {
                        tracing::error!(id = row.id, %error, "an unreadable inventory update was dropped");
                    }
                }
                if bytes >= MAX_REQUEST_BYTES {
                    break;
                }
            }
            if !reports.is_empty() {
                let request = UpdateInventoryRequest {
                    reports,
                    ..Default::default()
                };
                mdm_proto::clients::enrollment(self.enroll.channel())
                    .update_inventory(request)
                    .await
                    .map_err(|status| format!("enroll-svc: {}", status.message()))?;
            }
            self.forget(&sent).await?;
            if sent.len() == rows.len() && rows.len() < BATCH {
                // A short batch, all sent, was all there was: rows written since then woke the
                // dispatcher again, so neither another read nor a count is needed now.
                self.metrics.inventory_backlog.set(0);
                return Ok(());
            }
            if let Ok((waiting, _)) = self.store.inventory_backlog().await {
                self.metrics.inventory_backlog.set(waiting);
            }
        }
    }

    async fn forget(&self, ids: &[i64]) -> Result<(), String> {
        self.store
            .delivered_inventory(ids)
            .await
            .map_err(|e| e.to_string())?;
        self.metrics.inventory_sent.inc_by(ids.len() as u64);
        Ok(())
    }
}
