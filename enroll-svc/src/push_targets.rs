//! Keeping push-svc's push targets in step with enrollments: a TokenUpdate registers the
//! enrollment's Token, PushMagic and topic, a CheckOut removes them.
//!
//! Ordering (DESIGN.md §4: a fault must answer 503 and leave nothing half-applied): the check-in
//! handler first checks, read-only, that the device is enrolled and presents its bound
//! certificate; then it calls push-svc; only then does it write its own row. A push-svc fault
//! therefore changes nothing anywhere and the device gets 503. Both calls are idempotent, so a
//! device that repeats its TokenUpdate converges. If the local write fails after push-svc
//! accepted, the handler undoes the push-svc side on a best-effort basis ([`PushTargets::restore`],
//! [`PushTargets::remove`]); what cannot be undone is harmless: a registered token is the device's
//! real token, and a target missing for an enrolled device is registered again by its next
//! TokenUpdate.
//!
//! Why push-svc first for CheckOut: a device makes a single attempt at CheckOut (seed 004), so
//! checking out locally and then failing to remove the target could never be retried by the
//! device, and would leave push-svc waking a device that left.

use crate::error::Error;
use crate::store::EnrollmentRecord;
use mdm_proto::v1::{RegisterTargetRequest, RemoveTargetRequest};
use service_kit::upstream::Upstream;

/// A client of push-svc's target RPCs.
#[derive(Debug, Clone)]
pub struct PushTargets {
    push: Upstream,
}

impl PushTargets {
    /// Talks to push-svc's replicas.
    pub fn new(push: Upstream) -> PushTargets {
        PushTargets { push }
    }

    /// Registers (or replaces) an enrollment's push target.
    pub async fn register(
        &self,
        enrollment_id: &str,
        device_id: &str,
        token: &[u8],
        push_magic: &str,
        topic: &str,
    ) -> Result<(), Error> {
        mdm_proto::clients::push(self.push.channel())
            .register_target(RegisterTargetRequest {
                enrollment_id: enrollment_id.to_owned(),
                device_id: device_id.to_owned(),
                token: token.to_vec(),
                push_magic: push_magic.to_owned(),
                topic: topic.to_owned(),
            })
            .await
            .map_err(Error::PushService)?;
        Ok(())
    }

    /// Removes an enrollment's target; with `whole_device`, its user channels' targets too.
    pub async fn remove(&self, enrollment_id: &str, whole_device: bool) -> Result<(), Error> {
        mdm_proto::clients::push(self.push.channel())
            .remove_target(RemoveTargetRequest {
                enrollment_id: enrollment_id.to_owned(),
                whole_device,
            })
            .await
            .map_err(Error::PushService)?;
        Ok(())
    }

    /// Registers a stored enrollment's target again (undoing a removal whose check-in failed
    /// afterwards). Best effort: failures are logged.
    pub async fn restore(&self, record: &EnrollmentRecord) {
        let (Some(token), Some(magic), Some(topic)) =
            (&record.push_token, &record.push_magic, &record.topic)
        else {
            return;
        };
        if let Err(error) = self
            .register(&record.id, &record.device_id, token, magic, topic)
            .await
        {
            tracing::error!(enrollment = %record.id, %error,
                "push target removed but the CheckOut failed, and it could not be restored; the next TokenUpdate restores it");
        }
    }
}
