//! The sender: due deliveries posted to their endpoints, at most `concurrency` at once, each a
//! different (endpoint, enrollment), so no enrollment's events overtake one another.

use super::body;
use super::metrics::AttemptLabels;
use super::{secret_context, signature, Dispatcher};
use crate::store::{Attempt, DueDelivery};
use futures::StreamExt;
use mdm_api::webhooks::WebhookFormat;
use std::collections::HashMap;
use std::time::Duration;

/// How often the pending and dead gauges are refreshed.
const GAUGES_EVERY_MS: i64 = 5_000;

/// The sender's loop and its HTTP client.
#[derive(Debug)]
pub struct Sender {
    dispatcher: Dispatcher,
    http: reqwest::Client,
}

impl Sender {
    /// A sender over `dispatcher`'s store. Redirects are not followed: an endpoint is the URL
    /// an administrator registered, never one a receiver points elsewhere.
    pub fn new(dispatcher: Dispatcher) -> Sender {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(dispatcher.config.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mdm-server-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Sender { dispatcher, http }
    }

    /// Sends rounds while this replica holds the lease; sleeps until ingest stores deliveries
    /// (or `poll_ms`) when nothing is due.
    pub async fn run(self) {
        let poll = Duration::from_millis(self.dispatcher.config.poll_ms);
        let mut gauges_at = 0;
        loop {
            let now = service_kit::now_ms();
            if now - gauges_at > GAUGES_EVERY_MS {
                gauges_at = now;
                self.refresh_gauges(now).await;
            }
            if !self.dispatcher.lease.held() {
                tokio::time::sleep(poll).await;
                continue;
            }
            let sent = match self.round().await {
                Ok(sent) => sent,
                Err(error) => {
                    tracing::warn!(%error, "webhook deliveries not read or recorded");
                    0
                }
            };
            if sent == 0 {
                let _ = tokio::time::timeout(poll, self.dispatcher.stored.notified()).await;
            }
        }
    }

    /// One round: the due deliveries, sent at once, their outcomes recorded. How many.
    async fn round(&self) -> Result<usize, sqlx::Error> {
        let config = &self.dispatcher.config;
        let store = &self.dispatcher.store;
        let now = service_kit::now_ms();
        let due = store
            .due_deliveries(now, i64::from(config.concurrency))
            .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let outcomes: Vec<(DueDelivery, Attempt)> = futures::stream::iter(due)
            .map(|delivery| async move {
                let attempt = self.attempt(&delivery).await;
                (delivery, attempt)
            })
            .buffer_unordered(config.concurrency as usize)
            .collect()
            .await;
        // Per endpoint: did anything get through this round?
        let mut endpoints: HashMap<String, (bool, i64)> = HashMap::new();
        let sent = outcomes.len();
        let now = service_kit::now_ms();
        for (delivery, attempt) in &outcomes {
            let outcome = match attempt {
                Attempt::Delivered { .. } => "delivered",
                Attempt::Failed { dead: true, .. } => "dead",
                Attempt::Failed { .. } => "failed",
            };
            self.dispatcher
                .metrics
                .attempts
                .get_or_create(&AttemptLabels { outcome })
                .inc();
            let entry = endpoints
                .entry(delivery.webhook.id.clone())
                .or_insert((false, delivery.webhook.consecutive_failures));
            entry.0 |= matches!(attempt, Attempt::Delivered { .. });
            store
                .record_attempt(delivery.id, &delivery.webhook.id, attempt, now)
                .await?;
        }
        for (webhook_id, (any_delivered, failures)) in endpoints {
            let all_failed = !any_delivered;
            if all_failed {
                let retry_at = now + config.backoff_ms(failures);
                store.pause_endpoint(&webhook_id, retry_at).await?;
            }
        }
        Ok(sent)
    }

    /// Posts one delivery; what became of it.
    async fn attempt(&self, delivery: &DueDelivery) -> Attempt {
        let config = &self.dispatcher.config;
        let failed = |status: Option<u16>, error: String| {
            let attempts = delivery.attempts + 1;
            Attempt::Failed {
                status,
                error,
                retry_at: service_kit::now_ms() + config.backoff_ms(attempts - 1),
                dead: attempts >= i64::from(config.max_attempts),
            }
        };
        let webhook = &delivery.webhook;
        let Some(format) = WebhookFormat::from_name(&webhook.format) else {
            return failed(None, format!("unknown body format {:?}", webhook.format));
        };
        let Some(body) = body::render(format, &delivery.event) else {
            return failed(None, "the body format has no body for this event".into());
        };
        let secret = match &self.dispatcher.secrets {
            Some(secrets) => secrets.open(&webhook.sealed_secret, &secret_context(&webhook.id)),
            None => {
                return failed(
                    None,
                    "admin-svc has no secret_key: the webhook's secret cannot be opened".into(),
                )
            }
        };
        let secret = match secret {
            Ok(secret) => secret,
            Err(error) => return failed(None, error.to_string()),
        };
        let unix_secs = service_kit::now_ms() / 1000;
        let signed = signature::sign(&secret, unix_secs, &body);
        let answer = self
            .http
            .post(&webhook.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(signature::HEADER, signed)
            .header("mdm-event-id", &delivery.event.id)
            .header("mdm-event-type", &delivery.event.kind)
            .header("mdm-delivery-attempt", (delivery.attempts + 1).to_string())
            .body(body)
            .send()
            .await;
        match answer {
            Ok(response) if response.status().is_success() => Attempt::Delivered {
                status: response.status().as_u16(),
            },
            Ok(response) => failed(
                Some(response.status().as_u16()),
                format!("the receiver answered {}", response.status()),
            ),
            Err(error) => failed(None, describe(&error)),
        }
    }

    async fn refresh_gauges(&self, now: i64) {
        if let Ok(counts) = self.dispatcher.store.all_delivery_counts().await {
            let metrics = &self.dispatcher.metrics;
            metrics.pending.set(counts.pending);
            metrics.dead.set(counts.dead);
            let age = counts
                .oldest_pending_at
                .map_or(0.0, |at| (now - at).max(0) as f64 / 1000.0);
            metrics.oldest_pending_seconds.set(age);
        }
    }
}

/// A transport error in a few words, with its cause (never a body: a receiver's answer is
/// not reflected anywhere).
fn describe(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    if cause.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {cause}")
    }
}
