//! The command cycle (docs/architecture.md §6, Apple's "Dequeueing Commands") and enqueueing.
//!
//! A command stays at the head of a device's queue until the device answers it with a final
//! status; then it is dequeued with the report kept as its result. A repeated status changes
//! nothing. NotNow keeps the command queued but skipped for the rest of that connection; the
//! next Idle (the device starting over, usually after a push) gets it again.

use crate::error::Error;
use crate::metrics::{EnqueueLabels, Metrics, ReportLabels};
use crate::push::PushSide;
use crate::store::{EnqueueOutcome, NewCommand, NextCommand, QueueStore, Reported, Target};
use mdm_core::catalogue::{CommandSchema, Platform, Target as DeviceFacts};
use mdm_core::CommandStatus;
use mdm_proto::report::ReportFacts;
use mdm_proto::v1::enrollment_client::EnrollmentClient;
use mdm_proto::v1::{
    EnqueueRequest, EnqueueResponse, EnrollmentStatus, GetUnlockTokenRequest, ReportRequest,
    ResolveTargetsRequest, ResolvedTarget,
};
use mdm_proto::VerifiedIdentity;
use prost::Message;
use service_kit::now_ms;
use service_kit::upstream::Upstream;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Notify;
use tonic::transport::Channel;

/// Most targets one enqueue may name.
pub const MAX_TARGETS: usize = 100_000;

/// Largest Command dictionary accepted (InstallProfile carries a whole profile).
pub const MAX_COMMAND_BYTES: usize = 8 * 1024 * 1024;

/// The queue's operations, over its store and a client of enroll-svc.
#[derive(Debug, Clone)]
pub struct CommandQueue {
    store: QueueStore,
    enroll: Upstream,
    metrics: Metrics,
    push: Option<PushSide>,
    inventory: Option<Arc<Notify>>,
}

impl CommandQueue {
    /// A queue over `store`; `enroll` is asked which targets exist (and their generation) at
    /// enqueue, and for UnlockTokens when ClearPasscode is delivered.
    pub fn new(store: QueueStore, enroll: Upstream) -> CommandQueue {
        CommandQueue {
            store,
            enroll,
            metrics: Metrics::default(),
            push: None,
            inventory: None,
        }
    }

    /// Wakes the inventory dispatcher whenever a result wrote to the outbox.
    pub fn with_inventory(mut self, wake: Arc<Notify>) -> CommandQueue {
        self.inventory = Some(wake);
        self
    }

    /// Wakes targets after an enqueue and reports device activity through `push` (without it,
    /// nothing is pushed and enqueues report the push as not attempted).
    pub fn with_push(mut self, push: PushSide) -> CommandQueue {
        self.push = Some(push);
        self
    }

    /// Counts reports and enqueues into `metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> CommandQueue {
        self.metrics = metrics;
        self
    }

    /// The store, for the read-only RPCs.
    pub fn store(&self) -> &QueueStore {
        &self.store
    }

    /// Handles a device's report; answers the next command, if any. Acts on what the edge read
    /// from the report ([`ReportFacts`]); the body is kept as the result, not parsed again.
    pub async fn report(
        &self,
        identity: &VerifiedIdentity,
        request: &ReportRequest,
    ) -> Result<Option<NextCommand>, Error> {
        let facts = match ReportFacts::from_request(request) {
            Ok(facts) => facts,
            Err(e) => {
                let error = Error::from(e);
                self.count_report("unparsed", Err(&error));
                return Err(error);
            }
        };
        let result = self
            .handle_report(identity, &facts, &request.body, &request.connection_id)
            .await;
        self.count_report(facts.status.as_str(), result.as_ref().map(|_| ()));
        result
    }

    fn count_report(&self, status: &'static str, outcome: Result<(), &Error>) {
        let outcome = match outcome {
            Ok(()) => "ok",
            Err(error) => error.code().as_str(),
        };
        self.metrics
            .reports
            .get_or_create(&ReportLabels { status, outcome })
            .inc();
    }

    async fn handle_report(
        &self,
        identity: &VerifiedIdentity,
        report: &ReportFacts,
        body: &[u8],
        connection_id: &str,
    ) -> Result<Option<NextCommand>, Error> {
        // The edge built the identity from this report's own IDs and validated it as a whole
        // (VerifiedIdentity): the enrollment is the identity's.
        let enrollment_id = identity.enrollment_id().as_str();
        if let Some(push) = &self.push {
            push.seen(enrollment_id);
        }
        // Idle answers no command (whatever CommandUUID it may carry).
        let idle = report.status == CommandStatus::Idle;
        // What the result says about the device goes to enroll-svc through the outbox.
        let inventory = report.inventory.as_ref().map(Message::encode_to_vec);
        let reported = report
            .command_uuid
            .as_deref()
            .filter(|_| !idle)
            .map(|command_uuid| Reported {
                command_uuid,
                status: report.status,
                body,
                inventory: inventory.as_deref(),
            });
        let generation = i64::try_from(identity.generation()).unwrap_or(i64::MAX);
        let cycle = self
            .store
            .cycle(
                enrollment_id,
                generation,
                reported,
                connection_id,
                idle,
                now_ms(),
            )
            .await?;
        if let (true, Some(_), Some(wake)) = (cycle.recorded, &inventory, &self.inventory) {
            wake.notify_one();
        }
        if let (Some(r), false) = (reported, cycle.recorded) {
            tracing::debug!(
                enrollment = enrollment_id,
                command_uuid = r.command_uuid,
                status = r.status.as_str(),
                "status for a command that is not queued (repeated or withdrawn): ignored"
            );
        }
        let Some(mut next) = cycle.next else {
            return Ok(None);
        };
        if next.request_type == "ClearPasscode" {
            next.payload = self
                .with_unlock_token(identity.device_id().as_str(), &next)
                .await?;
        }
        Ok(Some(next))
    }

    /// A client of enroll-svc, on its next replica.
    fn enroll_client(&self) -> EnrollmentClient<Channel> {
        mdm_proto::clients::enrollment(self.enroll.channel())
    }

    /// Adds the device's UnlockToken to a ClearPasscode command as it leaves: the token is a
    /// master passcode (Apple's MDM best practices) and is never stored outside enroll-svc.
    async fn with_unlock_token(
        &self,
        device_id: &str,
        next: &NextCommand,
    ) -> Result<Vec<u8>, Error> {
        let token = self
            .enroll_client()
            .get_unlock_token(GetUnlockTokenRequest {
                enrollment_id: device_id.to_string(),
            })
            .await
            .map_err(Error::Enroll)?
            .into_inner()
            .unlock_token;
        if token.is_empty() {
            tracing::warn!(device_id, command_uuid = %next.command_uuid,
                "ClearPasscode sent without an UnlockToken: the device never sent one");
            return Ok(next.payload.clone());
        }
        let full = mdm_core::parse_plist_value(&next.payload)?;
        let command = full
            .as_dictionary()
            .and_then(|d| d.get("Command"))
            .and_then(|c| c.as_dictionary())
            .ok_or_else(|| {
                Error::InvalidRequest("stored command has no Command dictionary".into())
            })?;
        let command = mdm_core::commands::with_unlock_token(command, &token);
        Ok(mdm_core::commands::render_command(
            &command,
            &next.command_uuid,
        ))
    }

    /// Validates and queues a command for its targets.
    pub async fn enqueue(&self, request: &EnqueueRequest) -> Result<EnqueueResponse, Error> {
        let ids = validated_targets(&request.enrollment_ids)?;
        if request.command_plist.len() > MAX_COMMAND_BYTES {
            return Err(Error::InvalidRequest(format!(
                "the command is over {MAX_COMMAND_BYTES} bytes"
            )));
        }
        let command = mdm_core::commands::parse_command_plist(&request.command_plist)?;
        let request_type = mdm_core::commands::request_type_of(&command)
            .ok_or_else(|| Error::InvalidRequest("the command has no RequestType".into()))?
            .to_string();
        let destructive = mdm_core::commands::is_destructive(&request_type);
        if destructive && request.reason.trim().is_empty() {
            return Err(Error::InvalidRequest(format!(
                "{request_type} needs a reason"
            )));
        }
        if request_type == "ClearPasscode" && ids.len() != 1 {
            return Err(Error::InvalidRequest(
                "ClearPasscode goes to exactly one device whose owner has it in hand".into(),
            ));
        }
        let now = now_ms();
        let expires_at = (request.expires_at_ms > 0).then_some(request.expires_at_ms);
        if expires_at.is_some_and(|at| at <= now) {
            return Err(Error::InvalidRequest(
                "the expiry time has already passed".into(),
            ));
        }
        let schema = mdm_core::catalogue::catalogue().get(&request_type);
        let (targets, unsupported) = self.resolve(ids, request.allow_unknown, schema).await?;
        if !unsupported.is_empty() && !request.allow_unsupported {
            return Err(Error::UnsupportedTargets(format!(
                "{} of the targets cannot run {request_type}: {} (nothing was queued; \
                 allow_unsupported queues it for them anyway)",
                unsupported.len(),
                sample(&unsupported)
            )));
        }
        let warnings = sample_list(&unsupported);
        let command_uuid = uuid::Uuid::now_v7().to_string().to_uppercase();
        let payload = mdm_core::commands::render_command(&command, &command_uuid);
        let idempotency_key = Some(request.idempotency_key.as_str()).filter(|k| !k.is_empty());
        let outcome = self
            .store
            .enqueue(
                &NewCommand {
                    command_uuid: &command_uuid,
                    request_type: &request_type,
                    payload: &payload,
                    priority: request.priority,
                    expires_at,
                    idempotency_key,
                    requested_by: &request.requested_by,
                    reason: &request.reason,
                    targets: &targets,
                    audit: destructive,
                },
                now,
            )
            .await?;
        let mut response = match outcome {
            EnqueueOutcome::Queued => {
                self.metrics
                    .enqueued
                    .get_or_create(&EnqueueLabels {
                        request_type: request_type.clone(),
                    })
                    .inc();
                if destructive {
                    tracing::info!(target: "audit", actor = %request.requested_by, %request_type, %command_uuid,
                        devices = targets.len(), reason = %request.reason, "destructive command queued");
                }
                EnqueueResponse {
                    command_uuid,
                    request_type,
                    duplicate: false,
                    targets: u32::try_from(targets.len()).unwrap_or(u32::MAX),
                    push: None,
                    warnings,
                }
            }
            EnqueueOutcome::Duplicate {
                command_uuid,
                request_type,
                targets,
            } => EnqueueResponse {
                command_uuid,
                request_type,
                duplicate: true,
                targets: u32::try_from(targets).unwrap_or(u32::MAX),
                push: None,
                warnings,
            },
        };
        // After the commit, so the woken device finds the command. A duplicate is pushed too:
        // its client probably missed the first answer, and a wake-up is harmless.
        response.push = Some(match (&self.push, request.no_push) {
            (Some(push), false) => {
                let ids: Vec<String> = targets.into_iter().map(|t| t.enrollment_id).collect();
                push.wake(&ids).await
            }
            _ => crate::push::not_attempted(),
        });
        Ok(response)
    }

    /// Each target with the generation enroll-svc says it is in. An unknown or checked-out
    /// target fails the enqueue, naming it, unless `allow_unknown`: then an unknown one is
    /// queued for its first enrollment (generation 0) and a checked-out one for the generation
    /// it left, which its next enrollment supersedes.
    ///
    /// Also returns the known targets `schema` says cannot run the command, as "ID: reason".
    async fn resolve(
        &self,
        ids: Vec<String>,
        allow_unknown: bool,
        schema: Option<&CommandSchema>,
    ) -> Result<(Vec<Target>, Vec<String>), Error> {
        let mut unsupported = Vec::new();
        let known: HashMap<String, (u64, EnrollmentStatus)> = self
            .enroll_client()
            .resolve_targets(ResolveTargetsRequest {
                enrollment_ids: ids.clone(),
            })
            .await
            .map_err(Error::Enroll)?
            .into_inner()
            .targets
            .into_iter()
            .map(|t| {
                if let Some(why) = schema.and_then(|s| s.unsupported_on(&device_facts(&t))) {
                    unsupported.push(format!(
                        "{}: {why}",
                        mdm_proto::bounded(&t.enrollment_id, 64)
                    ));
                }
                let status = t.status();
                (t.enrollment_id, (t.generation, status))
            })
            .collect();
        let mut unknown = Vec::new();
        let mut checked_out = Vec::new();
        let targets = ids
            .into_iter()
            .map(|enrollment_id| {
                let generation = match known.get(&enrollment_id) {
                    None => {
                        unknown.push(enrollment_id.clone());
                        0
                    }
                    Some(&(generation, status)) => {
                        if status == EnrollmentStatus::CheckedOut {
                            checked_out.push(enrollment_id.clone());
                        }
                        i64::try_from(generation).unwrap_or(i64::MAX)
                    }
                };
                Target {
                    enrollment_id,
                    generation,
                }
            })
            .collect();
        if allow_unknown || (unknown.is_empty() && checked_out.is_empty()) {
            return Ok((targets, unsupported));
        }
        Err(Error::UnknownTargets {
            unknown: sample(&unknown),
            checked_out: sample(&checked_out),
        })
    }
}

/// What a resolved target's enrollment says of the device, for Apple's schema.
fn device_facts(target: &ResolvedTarget) -> DeviceFacts<'_> {
    DeviceFacts {
        platform: Platform::of_product(&target.product_name),
        os_version: Some(target.os_version.as_str()).filter(|v| !v.is_empty()),
        supervised: target.supervised,
        user_channel: target.user_channel,
    }
}

/// At most this many of a list go into a message.
const SHOWN: usize = 5;

/// At most a few of `items`, for an error message: "A, B, C and 97 more".
fn sample(items: &[String]) -> String {
    let mut text = items
        .iter()
        .take(SHOWN)
        .map(|item| mdm_proto::bounded(item, 200).into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        text.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    text
}

/// At most a few of `items` and, when there were more, how many.
fn sample_list(items: &[String]) -> Vec<String> {
    let mut list: Vec<String> = items.iter().take(SHOWN).cloned().collect();
    if items.len() > SHOWN {
        list.push(format!("and {} more", items.len() - SHOWN));
    }
    list
}

/// Non-empty, bounded, deduplicated (first occurrence kept) enrollment IDs.
fn validated_targets(ids: &[String]) -> Result<Vec<String>, Error> {
    if ids.is_empty() {
        return Err(Error::InvalidRequest("name at least one enrollment".into()));
    }
    if ids.len() > MAX_TARGETS {
        return Err(Error::InvalidRequest(format!(
            "at most {MAX_TARGETS} enrollments per command"
        )));
    }
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    let mut targets = Vec::with_capacity(ids.len());
    for id in ids {
        if id.is_empty() || id.len() > mdm_core::MAX_ID_LEN || id.chars().any(char::is_control) {
            return Err(Error::InvalidRequest(format!("bad enrollment ID {id:?}")));
        }
        if seen.insert(id.as_str()) {
            targets.push(id.clone());
        }
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::validated_targets;

    #[test]
    fn targets_are_checked_and_deduplicated() {
        let ids: Vec<String> = ["A", "B", "A"].iter().map(|s| s.to_string()).collect();
        assert_eq!(validated_targets(&ids).expect("valid"), vec!["A", "B"]);
        assert!(validated_targets(&[]).is_err());
        assert!(validated_targets(&[String::new()]).is_err());
        assert!(validated_targets(&["a\nb".to_string()]).is_err());
    }
}
