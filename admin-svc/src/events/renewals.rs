//! Identity renewals (docs/identities.md). enroll-svc announces each enrolled device whose
//! identity certificate nears expiry (`enrollment.identity_expiring`); ingest records a pending
//! renewal for it. Here each pending renewal gets its renewal profile from enroll-svc and is
//! queued as an InstallProfile, once (idempotency key: the certificate's serial), expiring with
//! the certificate. The device installs the profile, obtains a new certificate through its SCEP
//! payload, and its first request with it moves the binding (`enrollment.identity_renewed`).
//!
//! A renewal fails when enroll-svc or command-svc refuses it, when the device answers the
//! InstallProfile with an error (or it expires, or is cancelled), or when the certificate
//! expires first. Each failure becomes one `enrollment.identity_renewal_failed` event, made
//! here and stored like the services' events: its ID is derived from the certificate, so a
//! failure found twice is stored once, and storing it is what marks the renewal failed.

use super::ingest::subscriptions;
use super::queue::{self, Fault, Queued, Refused};
use super::Dispatcher;
use crate::store::{Received, RenewalRow};
use mdm_proto::v1::{Event, RenewalProfileRequest};

/// Renewals advanced per round.
const RENEWALS_PER_ROUND: i64 = 100;

/// Above blueprints: a device about to lose its identity has nothing more urgent.
const PRIORITY: i32 = 20;

/// Who queues the renewals, in the command's audit trail.
pub const REQUESTED_BY: &str = "identity-renewal";

/// Command events after which a renewal's InstallProfile will never be acknowledged.
const FAILED_COMMAND_EVENTS: [&str; 3] = ["command.error", "command.expired", "command.cancelled"];

/// Queues the pending renewals and fails the overdue ones.
pub async fn advance(dispatcher: &Dispatcher) {
    if !dispatcher.config.renew_identities {
        return;
    }
    let now = service_kit::now_ms();
    let due = match dispatcher
        .store
        .renewals_to_advance(now, RENEWALS_PER_ROUND)
        .await
    {
        Ok(due) => due,
        Err(error) => {
            tracing::warn!(%error, "identity renewals not read");
            return;
        }
    };
    let mut failed = Vec::new();
    for renewal in due {
        if renewal.not_after <= now {
            failed.push(failure(
                &renewal,
                "the identity expired before the device used its renewal",
                now,
            ));
            continue;
        }
        match queue_renewal(dispatcher, &renewal).await {
            Ok(Ok(command_uuid)) => {
                match dispatcher
                    .store
                    .renewal_queued(&renewal.serial, &command_uuid, now)
                    .await
                {
                    Ok(()) => {
                        dispatcher.metrics.count_renewals("queued", 1);
                        tracing::info!(enrollment = %renewal.enrollment_id, serial = %renewal.serial,
                            command = %command_uuid, "identity renewal queued");
                    }
                    // Queued again next round, under the same key: the same command.
                    Err(error) => {
                        tracing::warn!(%error, "identity renewal queued but not recorded")
                    }
                }
            }
            Ok(Err(Refused(why))) => failed.push(failure(&renewal, &why, now)),
            Err(fault) => {
                tracing::warn!(serial = %renewal.serial, %fault, "identity renewal not queued; retrying")
            }
        }
    }
    store_failures(dispatcher, failed, now).await;
}

/// The renewal profile of `renewal`'s device, queued as an InstallProfile.
async fn queue_renewal(
    dispatcher: &Dispatcher,
    renewal: &RenewalRow,
) -> Result<Result<String, Refused>, Fault> {
    let answer = dispatcher
        .backends
        .provisioning()
        .renewal_profile(RenewalProfileRequest {
            enrollment_id: renewal.enrollment_id.clone(),
        })
        .await;
    let profile = match answer {
        Ok(answer) => answer.into_inner(),
        Err(status) => return queue::refusal("enroll-svc", &status).map(Err),
    };
    if profile.serial != renewal.serial {
        // The device re-enrolled (or renewed otherwise) since: this certificate is not in use.
        return Ok(Err(Refused(format!(
            "the device's identity is {} now, not {}",
            profile.serial, renewal.serial
        ))));
    }
    let mut command = plist::Dictionary::new();
    command.insert("RequestType".into(), "InstallProfile".into());
    command.insert("Payload".into(), plist::Value::Data(profile.profile));
    queue::enqueue(
        dispatcher,
        Queued {
            enrollment_id: &renewal.enrollment_id,
            command,
            idempotency_key: format!("identity-renewal:{}", renewal.serial),
            requested_by: REQUESTED_BY,
            reason: format!("renews identity certificate {}", renewal.serial),
            priority: PRIORITY,
            expires_at_ms: renewal.not_after,
            push: true,
        },
    )
    .await
}

/// The failures among `received`: a renewal's InstallProfile that will never be acknowledged.
pub async fn failures_among(
    dispatcher: &Dispatcher,
    received: &[Received],
) -> Result<Vec<Received>, sqlx::Error> {
    if !dispatcher.config.renew_identities {
        return Ok(Vec::new());
    }
    let failed: Vec<&Event> = received
        .iter()
        .map(|r| &r.event)
        .filter(|e| {
            FAILED_COMMAND_EVENTS.contains(&e.r#type.as_str()) && !e.command_uuid.is_empty()
        })
        .collect();
    let commands: Vec<&str> = failed.iter().map(|e| e.command_uuid.as_str()).collect();
    if commands.is_empty() {
        return Ok(Vec::new());
    }
    let renewals = dispatcher.store.renewals_by_command(&commands).await?;
    let now = service_kit::now_ms();
    Ok(renewals
        .iter()
        .filter_map(|renewal| {
            let event = failed
                .iter()
                .find(|e| Some(&e.command_uuid) == renewal.command_uuid.as_ref())?;
            let why = match event.r#type.as_str() {
                "command.error" => "the device could not install the renewal profile",
                "command.expired" => "the renewal profile was not delivered before it expired",
                _ => "the renewal profile was cancelled",
            };
            Some(failure(renewal, why, now))
        })
        .collect())
}

/// The `enrollment.identity_renewal_failed` event of `renewal`.
fn failure(renewal: &RenewalRow, reason: &str, now: i64) -> Received {
    let attributes = serde_json::json!({
        "serial": renewal.serial,
        "not_after_ms": renewal.not_after,
        "command_uuid": renewal.command_uuid,
        "reason": reason,
    });
    Received {
        source: "admin-svc",
        event: Event {
            // One failure per certificate, however often it is found.
            id: format!("identity-renewal-failed:{}", renewal.serial),
            r#type: "enrollment.identity_renewal_failed".into(),
            occurred_at_ms: now,
            enrollment_id: renewal.enrollment_id.clone(),
            command_uuid: renewal.command_uuid.clone().unwrap_or_default(),
            attributes_json: attributes.to_string(),
            ..Event::default()
        },
    }
}

/// Stores failures found outside a pull, with their deliveries, as ingest stores events.
async fn store_failures(dispatcher: &Dispatcher, failed: Vec<Received>, now: i64) {
    if failed.is_empty() {
        return;
    }
    let stored = async {
        let subscriptions = subscriptions(dispatcher).await?;
        dispatcher
            .store
            .ingest(&failed, &subscriptions, &[], true, now)
            .await
    }
    .await;
    match stored {
        Ok(done) => {
            dispatcher
                .metrics
                .count_renewals("failed", done.renewals.failed);
            if done.stored > 0 {
                dispatcher.stored.notify_one();
            }
            for event in &failed {
                tracing::warn!(enrollment = %event.event.enrollment_id, detail = %event.event.attributes_json,
                    "identity renewal failed");
            }
        }
        Err(error) => {
            tracing::warn!(%error, "identity renewal failures not stored; found again next round")
        }
    }
}
