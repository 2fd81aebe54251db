//! A renewed identity takes over at its first use: the certificate a renewal issued (through a
//! renewal profile's challenge, or SCEP RenewalReq) carries the enrollment it was issued for;
//! the first request that presents it moves that enrollment's binding to it, and the certificate
//! it replaced is refused from then on. Until then the old one keeps working, so a device that
//! obtained a renewal but did not install it is not lost.

use super::audit::INSERT_AUDIT;
use super::EnrollmentStore;
use crate::error::Error;
use service_kit::db::{is_unique_violation, BeginWrite};
use service_kit::events::NewEvent;
use service_kit::{now_ms, with_db};

/// The renewal `$2` issued for the active device channel `$1`, unused, not revoked, and
/// replacing exactly the certificate bound now, ours or not (a renewal made before the device
/// re-enrolled replaces nothing).
const PENDING_RENEWAL: &str = "
    SELECT c.serial, c.not_after, COALESCE(c.renewed_from, '') AS old_serial
    FROM issued_certificates c
    JOIN enrollments e ON e.id = c.renewal_for
    WHERE c.sha256 = $2 AND c.renewal_for = $1 AND c.enrollment_id IS NULL
      AND c.revoked_at IS NULL AND e.cert_sha256 = c.renews_sha256 AND e.id = e.device_id
      AND e.status IN ('authenticated', 'enrolled')";

/// A renewal that took a binding over: the new certificate and the one it replaced.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct RenewedCertificate {
    serial: String,
    not_after: i64,
    old_serial: String,
}

/// The renewal `$1` (by fingerprint), as [`RenewedCertificate`].
pub(super) const RENEWED_CERTIFICATE: &str =
    "SELECT serial, not_after, COALESCE(renewed_from, '') AS old_serial
     FROM issued_certificates WHERE sha256 = $1";

impl RenewedCertificate {
    /// Its `enrollment.identity_renewed` event.
    pub(super) fn event<'a>(&self, device_id: &'a str) -> NewEvent<'a> {
        NewEvent {
            kind: "enrollment.identity_renewed",
            enrollment_id: device_id,
            attributes: Some(serde_json::json!({
                "udid": device_id,
                "serial": self.serial,
                "not_after_ms": self.not_after,
                "renewed_serial": self.old_serial,
            })),
            ..NewEvent::default()
        }
    }
}

impl EnrollmentStore {
    /// Moves the binding of `device_id` to `cert_sha256` when that is a renewal issued for it
    /// and not used yet; true when it did. The move, its audit entry and its
    /// `enrollment.identity_renewed` event commit together.
    pub async fn adopt_renewal(&self, device_id: &str, cert_sha256: &[u8]) -> Result<bool, Error> {
        let now = now_ms();
        let adopted: Result<Option<RenewedCertificate>, sqlx::Error> = with_db!(&self.db, pool => async {
            // Any certificate that is not the bound one comes here (a refused one too): look
            // without taking the write lock, then again inside the write, which decides.
            let candidate = sqlx::query_as::<_, RenewedCertificate>(PENDING_RENEWAL)
                .bind(device_id)
                .bind(cert_sha256)
                .fetch_optional(pool)
                .await?;
            if candidate.is_none() {
                return Ok(None);
            }
            let mut tx = pool.begin_write().await?;
            let Some(pending) = sqlx::query_as::<_, RenewedCertificate>(PENDING_RENEWAL)
                .bind(device_id)
                .bind(cert_sha256)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Ok(None);
            };
            sqlx::query("UPDATE enrollments SET cert_sha256 = $2, last_seen_at = $3 WHERE id = $1")
                .bind(device_id)
                .bind(cert_sha256)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            // Like every certificate of ours, it serves this enrollment for life.
            sqlx::query("UPDATE issued_certificates SET enrollment_id = $2 WHERE sha256 = $1")
                .bind(cert_sha256)
                .bind(device_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(INSERT_AUDIT)
                .bind(now)
                .bind(format!("device:{device_id}"))
                .bind("enrollment.identity_renewed")
                .bind(device_id)
                .bind(format!("certificate {} replaces {}", pending.serial, pending.old_serial))
                .execute(&mut *tx)
                .await?;
            pending.event(device_id).write(&mut *tx, now).await?;
            tx.commit().await?;
            Ok(Some(pending))
        }.await);
        match adopted {
            Ok(Some(pending)) => {
                tracing::info!(target: "audit", enrollment = %device_id, serial = %pending.serial,
                    replaced = %pending.old_serial, "identity renewed: the binding moved to the new certificate");
                Ok(true)
            }
            Ok(None) => Ok(false),
            // The certificate serves another enrollment already.
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(Error::Database(e)),
        }
    }
}
