//! The Push operation: many enrollment IDs in, one result per ID out.
//!
//! 1. The targets of all IDs are read in bulk; IDs without a target, inactive targets and
//!    targets whose topic has no certificate here are decided without APNs (the last recorded
//!    on the target, so that the device shows as unreachable rather than silently skipped).
//! 2. The rest are sent concurrently (up to `apns.max_in_flight`), each through the
//!    [`Coalescer`] so that concurrent pushes to one target become at most two.
//!    Each target is pushed with the certificate of its own topic.
//! 3. Outcomes are recorded in bulk, grouped by outcome and reason. A certificate-level
//!    refusal (403) is recorded on that certificate, not on each device.

use crate::coalesce::Coalescer;
use crate::current::CertificateCache;
use crate::error::Error;
use crate::metrics::{Metrics, OutcomeLabels};
use crate::outcome::{Outcome, PushResult};
use crate::store::{PushStore, ResultGroup, TargetRow, TargetStatus};
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Most IDs one Push may name (one command may target 100,000 enrollments).
pub const MAX_IDS: usize = 100_000;

/// What a Push did.
#[derive(Debug, Clone)]
pub struct PushReport {
    /// One result per requested ID, in request order.
    pub results: Vec<(String, PushResult)>,
    /// Set when APNs refused the certificate itself.
    pub certificate_error: Option<String>,
}

/// Sends pushes and records their outcomes.
#[derive(Debug)]
pub struct Pusher {
    store: PushStore,
    certificates: Arc<CertificateCache>,
    coalescer: Coalescer,
    metrics: Metrics,
    max_in_flight: usize,
}

impl Pusher {
    /// A pusher over the store and the current certificate.
    pub fn new(
        store: PushStore,
        certificates: Arc<CertificateCache>,
        metrics: Metrics,
        max_in_flight: usize,
    ) -> Pusher {
        Pusher {
            store,
            certificates,
            coalescer: Coalescer::default(),
            metrics,
            max_in_flight: max_in_flight.max(1),
        }
    }

    /// Pushes `ids` now; `why` (command, admin, sweep) goes to the log.
    pub async fn push(&self, ids: &[String], why: &str) -> Result<PushReport, Error> {
        self.push_at(ids, why, service_kit::now_ms()).await
    }

    /// Pushes `ids`, recording `now` as the push time (the sweep passes its own clock).
    pub async fn push_at(&self, ids: &[String], why: &str, now: i64) -> Result<PushReport, Error> {
        if ids.len() > MAX_IDS {
            return Err(Error::InvalidRequest(format!(
                "at most {MAX_IDS} enrollments per push"
            )));
        }
        if ids.iter().any(|id| id.is_empty()) {
            return Err(Error::InvalidRequest("an enrollment ID is empty".into()));
        }
        let mut seen = HashSet::with_capacity(ids.len());
        let unique: Vec<String> = ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .cloned()
            .collect();
        let started = std::time::Instant::now();
        let certificates = self.certificates.current().await?;
        let mut targets: HashMap<String, TargetRow> = self
            .store
            .targets(&unique)
            .await?
            .into_iter()
            .map(|t| (t.enrollment_id.clone(), t))
            .collect();

        let mut decided: HashMap<String, PushResult> = HashMap::with_capacity(unique.len());
        let mut to_record: Vec<(String, PushResult)> = Vec::new();
        let mut to_send = Vec::new();
        for id in unique {
            let target = targets.remove(&id);
            let certificate = target
                .as_ref()
                .and_then(|t| certificates.get(&t.topic))
                .cloned();
            let result = match (target, certificate) {
                (None, _) => PushResult::local(
                    Outcome::NoTarget,
                    "no push target: the enrollment never sent a TokenUpdate, or checked out",
                ),
                (Some(t), _) if t.status == TargetStatus::Inactive => PushResult::local(
                    Outcome::Inactive,
                    format!("inactive ({})", t.flag.as_deref().unwrap_or("flagged")),
                ),
                (Some(_), None) if certificates.is_empty() => {
                    PushResult::local(Outcome::NoCertificate, "no push certificate is installed")
                }
                (Some(t), None) => {
                    let result = PushResult::local(
                        Outcome::TopicMismatch,
                        format!(
                            "no push certificate for the device's topic {:?}: upload one for it",
                            t.topic
                        ),
                    );
                    to_record.push((id.clone(), result.clone()));
                    result
                }
                (Some(t), Some(certificate)) => {
                    to_send.push((t, certificate));
                    continue;
                }
            };
            decided.insert(id, result);
        }

        let looked_up = started.elapsed();
        let coalescer = &self.coalescer;
        let sent: Vec<(String, crate::coalesce::Served, i64)> = futures::stream::iter(to_send)
            .map(|(target, certificate)| async move {
                let served = coalescer
                    .push(&target.enrollment_id, || async {
                        PushResult::from_reply(
                            certificate
                                .client
                                .send(&target.token, &target.push_magic)
                                .await,
                        )
                    })
                    .await;
                (target.enrollment_id, served, certificate.row.version)
            })
            .buffer_unordered(self.max_in_flight)
            .collect()
            .await;
        let mut refused_certificates: HashMap<i64, PushResult> = HashMap::new();
        for (id, served, version) in sent {
            if served.sent_here {
                if served.result.outcome == Outcome::CertificateRejected {
                    refused_certificates
                        .entry(version)
                        .or_insert_with(|| served.result.clone());
                }
                to_record.push((id.clone(), served.result.clone()));
            }
            decided.insert(id, served.result);
        }

        let sent = started.elapsed();
        let certificate_error = self
            .record(&to_record, &decided, &refused_certificates, now)
            .await;
        let mut counts: HashMap<Outcome, u32> = HashMap::new();
        for result in decided.values() {
            *counts.entry(result.outcome).or_default() += 1;
        }
        tracing::info!(
            why,
            requested = ids.len(),
            ?counts,
            lookup_ms = looked_up.as_millis(),
            send_ms = (sent - looked_up).as_millis(),
            record_ms = (started.elapsed() - sent).as_millis(),
            "push"
        );
        let results = ids
            .iter()
            .map(|id| {
                let result = decided
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| PushResult::local(Outcome::Failed, "not processed"));
                (id.clone(), result)
            })
            .collect();
        Ok(PushReport {
            results,
            certificate_error,
        })
    }

    /// Records outcomes and counts them, and each certificate APNs refused (by version) on
    /// that certificate; answers the first certificate error, if any. A failure to record is
    /// logged, not returned: the pushes have been sent, and a caller retrying the whole Push
    /// would only send them again.
    async fn record(
        &self,
        sent: &[(String, PushResult)],
        decided: &HashMap<String, PushResult>,
        refused_certificates: &HashMap<i64, PushResult>,
        now: i64,
    ) -> Option<String> {
        let mut groups: HashMap<(Outcome, &str), Vec<String>> = HashMap::new();
        for (id, result) in sent {
            groups
                .entry((result.outcome, result.reason.as_str()))
                .or_default()
                .push(id.clone());
        }
        let groups: Vec<ResultGroup> = groups
            .into_iter()
            .map(|((outcome, reason), enrollment_ids)| ResultGroup {
                outcome,
                reason: reason.to_owned(),
                enrollment_ids,
            })
            .collect();
        if let Err(error) = self.store.record_results(&groups, now).await {
            tracing::error!(%error, "push outcomes could not be recorded");
        }
        let mut certificate_error = None;
        for (version, result) in refused_certificates {
            let error = format!(
                "APNs refused the push certificate: {} {}",
                result.status, result.reason
            );
            tracing::error!(version, %error, "push certificate refused by APNs");
            if let Err(e) = self
                .store
                .record_certificate_error(*version, &error, now)
                .await
            {
                tracing::error!(error = %e, "the certificate error could not be recorded");
            }
            certificate_error.get_or_insert(error);
        }
        let recorded: HashSet<&str> = sent.iter().map(|(id, _)| id.as_str()).collect();
        for (id, result) in decided {
            // Coalesced requests share a push: count the push once.
            let local = !result.outcome.was_attempted();
            if local || recorded.contains(id.as_str()) {
                self.metrics
                    .results
                    .get_or_create(&OutcomeLabels {
                        outcome: result.outcome.as_str(),
                    })
                    .inc();
            }
        }
        certificate_error
    }
}
