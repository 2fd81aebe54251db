//! Authenticate: binding a certificate to an enrollment, and starting the enrollment afresh.
//!
//! Re-binding is proven, never assumed (docs/security.md). An enrollment that is enrolled (not
//! checked out) and bound to one certificate accepts an Authenticate with another only when the
//! new certificate proves it belongs to the same device:
//! - it was issued here through OTA enrollment for this UDID (its CN is the UDID, and the UDID
//!   came from attributes signed by the device's Apple certificate), or
//! - it renews a certificate of this enrollment (SCEP RenewalReq), or
//! - it comes from a CA the operator configured and names this UDID as its CN (the operator's CA
//!   vouches for the binding), or
//! - an administrator approved the re-enrollment (used once).
//!
//! A certificate issued here authenticates one enrollment for life: the first it authenticated
//! is recorded with it. Everything else is refused, audited and counted.

use super::audit::NewAuditEntry;
use super::renewal::{RenewedCertificate, RENEWED_CERTIFICATE};
use super::{DeviceFacts, EnrollmentStore};
use crate::error::Error;
use crate::store::ChannelKind;
use service_kit::db::{is_unique_violation, BeginWrite};
use service_kit::events::NewEvent;
use service_kit::{now_ms, with_db};

/// What a device presents at Authenticate.
#[derive(Debug, Clone)]
pub struct Authentication<'a> {
    /// Device-channel enrollment ID (UDID or EnrollmentID).
    pub id: &'a str,
    /// Device or User Enrollment device channel.
    pub channel: ChannelKind,
    /// SHA-256 of the identity certificate to bind.
    pub cert_sha256: &'a [u8],
    /// The certificate's subject CN.
    pub cert_common_name: &'a str,
    /// Push topic the device reports.
    pub topic: Option<&'a str>,
    /// Hardware and OS facts.
    pub facts: &'a DeviceFacts,
    /// The Authenticate message as the device sent it, for its event.
    pub message: &'a [u8],
}

/// What an Authenticate did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthenticateOutcome {
    /// No active enrollment existed for this ID (new, or back after CheckOut).
    New,
    /// An active enrollment with this certificate was started afresh (re-enrollment).
    Restarted,
    /// An active enrollment was re-bound to a new certificate, with this proof.
    Rebound(Proof),
}

/// Why a new certificate may replace an active enrollment's binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// Issued here through OTA enrollment for this UDID.
    OtaIdentity,
    /// Renews a certificate of this enrollment.
    Renewal,
    /// From an operator-configured CA, with the UDID as CN.
    OperatorCa,
    /// An administrator approved it.
    Approval,
}

impl Proof {
    /// For logs and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Proof::OtaIdentity => "ota_identity",
            Proof::Renewal => "renewal",
            Proof::OperatorCa => "operator_ca",
            Proof::Approval => "approval",
        }
    }
}

/// The result of an accepted Authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated {
    /// What happened to the enrollment.
    pub outcome: AuthenticateOutcome,
    /// Its generation from now on.
    pub generation: i64,
}

/// The enrollment as the Authenticate found it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Existing {
    status: String,
    cert_sha256: Option<Vec<u8>>,
}

/// What our CA recorded about the presented certificate.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Issued {
    flow: String,
    common_name: String,
    enrollment_id: Option<String>,
    /// The enrollment of the certificate this one renews, if any.
    renews_for: Option<String>,
}

/// The event of an accepted Authenticate: `enrollment.authenticated` for a new enrollment (or
/// one back after CheckOut), `enrollment.reenrolled` when an active one started afresh.
fn authenticate_event<'a>(
    a: &Authentication<'a>,
    outcome: AuthenticateOutcome,
    generation: i64,
) -> NewEvent<'a> {
    let (kind, proof) = match outcome {
        AuthenticateOutcome::New => ("enrollment.authenticated", None),
        AuthenticateOutcome::Restarted => ("enrollment.reenrolled", None),
        AuthenticateOutcome::Rebound(proof) => ("enrollment.reenrolled", Some(proof.as_str())),
    };
    NewEvent {
        kind,
        enrollment_id: a.id,
        raw: Some(a.message),
        attributes: Some(serde_json::json!({
            "udid": a.id,
            "generation": generation,
            "serial_number": a.facts.serial_number,
            "model": a.facts.model,
            "product_name": a.facts.product_name,
            "os_version": a.facts.os_version,
            "rebound_by": proof,
        })),
        ..NewEvent::default()
    }
}

/// Why an Authenticate is refused; becomes an audit entry and a 403.
struct Refusal(String);

impl EnrollmentStore {
    /// Binds the certificate to the device channel and (re)starts its enrollment: push details,
    /// secrets and user channels of an earlier enrollment are cleared and the generation grows.
    /// A certificate that cannot prove it belongs to the device is refused and audited.
    pub async fn authenticate(&self, a: &Authentication<'_>) -> Result<Authenticated, Error> {
        let now = now_ms();
        let result: Result<Result<Authenticated, Refusal>, sqlx::Error> = with_db!(&self.db, pool => async {
                let mut tx = pool.begin_write().await?;
                let existing: Option<Existing> =
                    sqlx::query_as("SELECT status, cert_sha256 FROM enrollments WHERE id = $1")
                        .bind(a.id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let issued: Option<Issued> = sqlx::query_as(
                    "SELECT c.flow, c.common_name, c.enrollment_id,
                        COALESCE(c.renewal_for, r.enrollment_id) AS renews_for
                     FROM issued_certificates c
                     LEFT JOIN issued_certificates r ON r.serial = c.renewed_from
                     WHERE c.sha256 = $1",
                )
                .bind(a.cert_sha256)
                .fetch_optional(&mut *tx)
                .await?;
                let approved: bool = sqlx::query_scalar(
                    "SELECT COUNT(*) > 0 FROM reenrollment_approvals
                     WHERE enrollment_id = $1 AND expires_at > $2",
                )
                .bind(a.id)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                let outcome = match decide(a, existing.as_ref(), issued.as_ref(), approved) {
                    Ok(outcome) => outcome,
                    Err(refusal) => return Ok(Err(refusal)),
                };
                let rebinding = matches!(outcome, AuthenticateOutcome::Rebound(_));
                // The guard repeats the decision in the write itself, so that a concurrent
                // Authenticate that bound another certificate meanwhile cannot be overwritten.
                let generation: Option<i64> = sqlx::query_scalar(UPSERT)
                    .bind(a.id)
                    .bind(a.channel.as_str())
                    .bind(a.cert_sha256)
                    .bind(a.topic)
                    .bind(a.facts.serial_number.as_deref())
                    .bind(a.facts.product_name.as_deref())
                    .bind(a.facts.model.as_deref())
                    .bind(a.facts.model_name.as_deref())
                    .bind(a.facts.device_name.as_deref())
                    .bind(a.facts.os_version.as_deref())
                    .bind(a.facts.build_version.as_deref())
                    .bind(a.facts.imei.as_deref())
                    .bind(a.facts.meid.as_deref())
                    .bind(now)
                    .bind(rebinding)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(generation) = generation else {
                    return Ok(Err(Refusal(
                        "another certificate was bound to this enrollment meanwhile".into(),
                    )));
                };
                if outcome == AuthenticateOutcome::Rebound(Proof::Approval) {
                    sqlx::query("DELETE FROM reenrollment_approvals WHERE enrollment_id = $1")
                        .bind(a.id)
                        .execute(&mut *tx)
                        .await?;
                }
                // A certificate issued here belongs to the first enrollment it authenticates.
                sqlx::query(
                    "UPDATE issued_certificates SET enrollment_id = $2
                     WHERE sha256 = $1 AND enrollment_id IS NULL",
                )
                .bind(a.cert_sha256)
                .bind(a.id)
                .execute(&mut *tx)
                .await?;
                // User channels have no Authenticate of their own: they return with their
                // TokenUpdate.
                sqlx::query(
                    "UPDATE enrollments SET status = 'checked_out', checked_out_at = $2
                     WHERE device_id = $1 AND id <> $1 AND status <> 'checked_out'",
                )
                .bind(a.id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                authenticate_event(a, outcome, generation).write(&mut *tx, now).await?;
                if outcome == AuthenticateOutcome::Rebound(Proof::Renewal) {
                    // A device may Authenticate again after installing its renewal profile:
                    // that completes the renewal as its first request would have.
                    let renewal: Option<RenewedCertificate> = sqlx::query_as(RENEWED_CERTIFICATE)
                        .bind(a.cert_sha256)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if let Some(renewal) = renewal {
                        renewal.event(a.id).write(&mut *tx, now).await?;
                    }
                }
                tx.commit().await?;
                Ok(Ok(Authenticated { outcome, generation }))
            }.await);
        match result {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(Refusal(why))) => Err(self.refuse_binding(a, why).await),
            Err(e) if is_unique_violation(&e) => Err(self
                .refuse_binding(a, "the certificate is bound to another enrollment".into())
                .await),
            Err(e) => Err(Error::Database(e)),
        }
    }

    /// Records a refused binding in the audit log and builds the refusal.
    async fn refuse_binding(&self, a: &Authentication<'_>, why: String) -> Error {
        tracing::warn!(target: "audit", enrollment = %a.id, cert_sha256 = %hex::encode(a.cert_sha256),
            %why, "Authenticate refused: the certificate does not prove it belongs to this device");
        let detail = format!("certificate {} refused: {why}", hex::encode(a.cert_sha256));
        let entry = NewAuditEntry {
            actor: &format!("device:{}", a.id),
            action: "enrollment.rebind_refused",
            enrollment_id: a.id,
            detail: &detail,
        };
        if let Err(error) = self.audit(&entry).await {
            // The refusal stands; only its record is missing.
            tracing::error!(%error, enrollment = %a.id, "could not write the audit entry of a refused binding");
        }
        Error::RebindRefused(why)
    }
}

/// The decision, from what the store holds: accept (and how) or refuse (and why).
fn decide(
    a: &Authentication<'_>,
    existing: Option<&Existing>,
    issued: Option<&Issued>,
    approved: bool,
) -> Result<AuthenticateOutcome, Refusal> {
    if let Some(bound_to) = issued.and_then(|i| i.enrollment_id.as_deref()) {
        if bound_to != a.id {
            return Err(Refusal(format!(
                "the certificate belongs to enrollment {}",
                mdm_proto::bounded(bound_to, 64)
            )));
        }
    }
    let Some(existing) = existing.filter(|e| e.status != "checked_out") else {
        return Ok(AuthenticateOutcome::New);
    };
    match existing.cert_sha256.as_deref() {
        None => return Ok(AuthenticateOutcome::New),
        Some(bound) if bound == a.cert_sha256 => return Ok(AuthenticateOutcome::Restarted),
        Some(_) => {}
    }
    let proof = match issued {
        Some(i) if i.flow == "enrollment" && i.common_name == a.id => Some(Proof::OtaIdentity),
        Some(i) if i.renews_for.as_deref() == Some(a.id) => Some(Proof::Renewal),
        // A certificate of ours that proves nothing (the direct profile's random CN).
        Some(_) => None,
        None if a.cert_common_name == a.id => Some(Proof::OperatorCa),
        None => None,
    };
    match proof.or(approved.then_some(Proof::Approval)) {
        Some(proof) => Ok(AuthenticateOutcome::Rebound(proof)),
        None => Err(Refusal(
            "the enrollment is active with another certificate, and this one does not prove it is the same device (OTA identity for this UDID, renewal, or an administrator's approval)".into(),
        )),
    }
}

/// Creates or restarts the enrollment, unless the guard fails: the row is checked out, unbound,
/// bound to this certificate, or a proven re-binding (`$15`). Answers the new generation, or no
/// row when the guard failed.
const UPSERT: &str = "INSERT INTO enrollments (id, device_id, channel, status, cert_sha256, topic,
        serial_number, product_name, model, model_name, device_name, os_version, build_version,
        imei, meid, created_at, authenticated_at, last_seen_at, generation)
     VALUES ($1, $1, $2, 'authenticated', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $14, 1)
     ON CONFLICT (id) DO UPDATE SET
        channel = excluded.channel, status = 'authenticated', cert_sha256 = excluded.cert_sha256,
        topic = excluded.topic, serial_number = excluded.serial_number,
        product_name = excluded.product_name, model = excluded.model,
        model_name = excluded.model_name, device_name = excluded.device_name,
        os_version = excluded.os_version, build_version = excluded.build_version,
        imei = excluded.imei, meid = excluded.meid,
        push_token = NULL, push_magic = NULL, unlock_token = NULL, bootstrap_token = NULL,
        awaiting_configuration = FALSE, authenticated_at = excluded.authenticated_at,
        token_updated_at = NULL, checked_out_at = NULL, last_seen_at = excluded.last_seen_at,
        generation = enrollments.generation + 1
     WHERE enrollments.status = 'checked_out' OR enrollments.cert_sha256 IS NULL
        OR enrollments.cert_sha256 = excluded.cert_sha256 OR $15
     RETURNING generation";

#[cfg(test)]
mod tests {
    use super::*;

    const UDID: &str = "UDID-1";

    fn auth<'a>(cert: &'a [u8], cn: &'a str, facts: &'a DeviceFacts) -> Authentication<'a> {
        Authentication {
            id: UDID,
            channel: ChannelKind::Device,
            cert_sha256: cert,
            cert_common_name: cn,
            topic: None,
            facts,
            message: b"",
        }
    }

    fn active(cert: &[u8]) -> Existing {
        Existing {
            status: "enrolled".into(),
            cert_sha256: Some(cert.to_vec()),
        }
    }

    fn issued(flow: &str, cn: &str, enrollment: Option<&str>, renews: Option<&str>) -> Issued {
        Issued {
            flow: flow.into(),
            common_name: cn.into(),
            enrollment_id: enrollment.map(Into::into),
            renews_for: renews.map(Into::into),
        }
    }

    #[test]
    fn new_and_returning_enrollments_bind_any_certificate() {
        let facts = DeviceFacts::default();
        let a = auth(b"new", "random", &facts);
        assert_eq!(
            decide(&a, None, None, false).ok(),
            Some(AuthenticateOutcome::New)
        );
        let gone = Existing {
            status: "checked_out".into(),
            cert_sha256: Some(b"old".to_vec()),
        };
        assert_eq!(
            decide(&a, Some(&gone), None, false).ok(),
            Some(AuthenticateOutcome::New)
        );
        assert_eq!(
            decide(&a, Some(&active(b"new")), None, false).ok(),
            Some(AuthenticateOutcome::Restarted)
        );
    }

    #[test]
    fn a_direct_profile_certificate_cannot_take_over_an_active_enrollment() {
        let facts = DeviceFacts::default();
        let a = auth(b"attacker", "5F0C-random", &facts);
        let direct = issued("direct", "5F0C-random", None, None);
        assert!(decide(&a, Some(&active(b"victim")), Some(&direct), false).is_err());
        // An administrator's approval is the one way for it.
        assert_eq!(
            decide(&a, Some(&active(b"victim")), Some(&direct), true).ok(),
            Some(AuthenticateOutcome::Rebound(Proof::Approval))
        );
    }

    #[test]
    fn proofs_of_the_same_device_rebind() {
        let facts = DeviceFacts::default();
        let ota = auth(b"new", UDID, &facts);
        let ota_issued = issued("enrollment", UDID, None, None);
        assert_eq!(
            decide(&ota, Some(&active(b"old")), Some(&ota_issued), false).ok(),
            Some(AuthenticateOutcome::Rebound(Proof::OtaIdentity))
        );
        let renewal = issued("direct", "random", None, Some(UDID));
        let renewed = auth(b"new", "random", &facts);
        assert_eq!(
            decide(&renewed, Some(&active(b"old")), Some(&renewal), false).ok(),
            Some(AuthenticateOutcome::Rebound(Proof::Renewal))
        );
        assert_eq!(
            decide(&ota, Some(&active(b"old")), None, false).ok(),
            Some(AuthenticateOutcome::Rebound(Proof::OperatorCa))
        );
        // An OTA identity for another UDID proves nothing here.
        let other = issued("enrollment", "UDID-2", None, None);
        assert!(decide(&renewed, Some(&active(b"old")), Some(&other), false).is_err());
    }

    #[test]
    fn a_certificate_of_ours_serves_its_first_enrollment_only() {
        let facts = DeviceFacts::default();
        let a = auth(b"cert", "random", &facts);
        let used = issued("direct", "random", Some("UDID-OTHER"), None);
        assert!(decide(&a, None, Some(&used), false).is_err());
        assert!(
            decide(&a, None, Some(&used), true).is_err(),
            "not even approved"
        );
        let mine = issued("direct", "random", Some(UDID), None);
        assert_eq!(
            decide(&a, None, Some(&mine), false).ok(),
            Some(AuthenticateOutcome::New)
        );
    }
}
