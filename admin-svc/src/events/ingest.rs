//! Ingest: the services' oldest events into admin-svc's database, then acknowledged.

use super::filter::Subscription;
use super::metrics::SourceLabels;
use super::Dispatcher;
use crate::store::Received;
use mdm_api::webhooks::WebhookFormat;
use mdm_proto::v1::{AckEventsRequest, PullEventsRequest};
use std::time::Duration;

/// The services that emit events.
const SOURCES: [&str; 3] = ["enroll-svc", "command-svc", "push-svc"];

/// Pulls, stores and acknowledges while this replica holds the lease, then advances blueprint
/// runs and identity renewals; waits `poll_ms` after each round unless a service had a full batch waiting.
pub async fn run(dispatcher: Dispatcher) {
    let poll = Duration::from_millis(dispatcher.config.poll_ms);
    let mut last_purge = 0;
    loop {
        if !dispatcher.lease.held() {
            tokio::time::sleep(poll).await;
            continue;
        }
        let (stored, more) = match round(&dispatcher).await {
            Ok(done) => done,
            Err(error) => {
                tracing::warn!(%error, "events not stored; pulling again");
                (0, false)
            }
        };
        if stored > 0 {
            dispatcher.stored.notify_one();
        }
        super::blueprints::advance(&dispatcher).await;
        super::renewals::advance(&dispatcher).await;
        let now = service_kit::now_ms();
        if now - last_purge > 3_600_000 {
            last_purge = now;
            purge(&dispatcher, now).await;
        }
        // Pulled again at once only while a service has more than a batch waiting: events are
        // stored in batches of a poll's worth, not in a transaction per handful.
        if !more {
            tokio::time::sleep(poll).await;
        }
    }
}

/// One round: every service's oldest events, stored in one transaction in the order they
/// occurred, then acknowledged. The number stored, and whether a service had more.
async fn round(dispatcher: &Dispatcher) -> Result<(usize, bool), sqlx::Error> {
    let mut received = Vec::new();
    let mut more = false;
    let mut positions: Vec<(&'static str, Vec<i64>)> = Vec::new();
    for source in SOURCES {
        let pulled = dispatcher
            .backends
            .events(source)
            .pull_events(PullEventsRequest {
                limit: dispatcher.config.batch,
            })
            .await;
        let events = match pulled {
            Ok(answer) => answer.into_inner().events,
            Err(status) => {
                tracing::debug!(source, %status, "no events pulled");
                continue;
            }
        };
        if events.is_empty() {
            continue;
        }
        more |= events.len() >= dispatcher.config.batch as usize;
        positions.push((source, events.iter().map(|e| e.position).collect()));
        received.extend(events.into_iter().map(|event| Received { source, event }));
    }
    if received.is_empty() {
        dispatcher.metrics.ingest_lag_seconds.set(0.0);
        return Ok((0, false));
    }
    // The services' clocks order events across services; each service's own order is kept.
    received.sort_by_key(|r| r.event.occurred_at_ms);
    let now = service_kit::now_ms();
    let oldest = received.first().map_or(now, |r| r.event.occurred_at_ms);
    dispatcher
        .metrics
        .ingest_lag_seconds
        .set((now - oldest).max(0) as f64 / 1000.0);
    // A renewal's InstallProfile that failed fails the renewal: in the same transaction.
    let renewal_failures = super::renewals::failures_among(dispatcher, &received).await?;
    received.extend(renewal_failures);
    let subscriptions = subscriptions(dispatcher).await?;
    let blueprints = dispatcher.store.enabled_blueprints().await?;
    let done = dispatcher
        .store
        .ingest(
            &received,
            &subscriptions,
            &blueprints,
            dispatcher.config.renew_identities,
            now,
        )
        .await?;
    let metrics = &dispatcher.metrics;
    metrics.count_renewals("renewed", done.renewals.renewed);
    metrics.count_renewals("failed", done.renewals.failed);
    for source in SOURCES {
        let n = received.iter().filter(|r| r.source == source).count();
        if n > 0 {
            dispatcher
                .metrics
                .received
                .get_or_create(&SourceLabels { source })
                .inc_by(n as u64);
        }
    }
    if done.repeated > 0 {
        tracing::info!(
            repeated = done.repeated,
            "events pulled again after a lost acknowledgement"
        );
    }
    for (source, positions) in positions {
        for chunk in positions.chunks(1000) {
            let acked = dispatcher
                .backends
                .events(source)
                .ack_events(AckEventsRequest {
                    positions: chunk.to_vec(),
                })
                .await;
            if let Err(status) = acked {
                // Stored already: they come again and are recognised by their IDs.
                tracing::warn!(source, %status, "events stored but not acknowledged");
            }
        }
    }
    Ok((done.stored, more))
}

/// Every webhook, as ingest fans events out to them: a paused one holds its deliveries until
/// it is resumed (or they outlive the retention period).
pub(super) async fn subscriptions(
    dispatcher: &Dispatcher,
) -> Result<Vec<Subscription>, sqlx::Error> {
    Ok(dispatcher
        .store
        .webhooks()
        .await?
        .into_iter()
        .filter_map(|w| {
            Some(Subscription {
                format: WebhookFormat::from_name(&w.format)?,
                patterns: w.event_types.split(',').map(str::to_owned).collect(),
                webhook_id: w.id,
            })
        })
        .collect())
}

async fn purge(dispatcher: &Dispatcher, now: i64) {
    let keep_ms =
        i64::try_from(dispatcher.config.retention_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    match dispatcher
        .store
        .purge_events(now.saturating_sub(keep_ms), now)
        .await
    {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "events past retention deleted"),
        Err(error) => tracing::warn!(%error, "events not purged"),
    }
}
