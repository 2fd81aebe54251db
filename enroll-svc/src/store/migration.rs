//! Enrollments imported from another MDM server (NanoMDM's `/migration`): the device's own
//! Authenticate and TokenUpdate, as that server stored them, establish the enrollment and its
//! push details without a certificate. The device's first request then binds the certificate it
//! presents, once, if the edge verified it against the operator's CAs (not ours: a certificate
//! our CA issued belongs to its own enrollment flow) — never replacing a binding.

use super::audit::INSERT_AUDIT;
use super::{DeviceFacts, EnrollmentStore, TokenUpdateRecord};
use crate::error::Error;
use service_kit::db::{is_unique_violation, BeginWrite};
use service_kit::events::NewEvent;
use service_kit::{now_ms, with_db};

/// Imports an Authenticate: a new enrollment (or one back after CheckOut), authenticated, with
/// no certificate bound.
const IMPORT: &str = "INSERT INTO enrollments (id, device_id, channel, status, topic,
        serial_number, product_name, model, model_name, device_name, os_version, build_version,
        imei, meid, created_at, authenticated_at, last_seen_at, generation, migrated_at)
     VALUES ($1, $1, 'device', 'authenticated', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12, 1, $12)
     ON CONFLICT (id) DO UPDATE SET
        status = 'authenticated', cert_sha256 = NULL, topic = excluded.topic,
        serial_number = excluded.serial_number, product_name = excluded.product_name,
        model = excluded.model, model_name = excluded.model_name, device_name = excluded.device_name,
        os_version = excluded.os_version, build_version = excluded.build_version,
        imei = excluded.imei, meid = excluded.meid,
        push_token = NULL, push_magic = NULL, unlock_token = NULL, bootstrap_token = NULL,
        awaiting_configuration = FALSE, authenticated_at = excluded.authenticated_at,
        token_updated_at = NULL, checked_out_at = NULL, last_seen_at = excluded.last_seen_at,
        generation = enrollments.generation + 1, migrated_at = excluded.migrated_at
     WHERE enrollments.status = 'checked_out'
     RETURNING generation";

impl EnrollmentStore {
    /// Imports a device's Authenticate from another server. Refused (Conflict) when the
    /// enrollment is active here: a migration never replaces an enrollment or its binding.
    pub async fn import_authenticate(
        &self,
        id: &str,
        topic: &str,
        facts: &DeviceFacts,
        message: &[u8],
        by: &str,
    ) -> Result<i64, Error> {
        let now = now_ms();
        let imported: Result<Option<i64>, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let generation: Option<i64> = sqlx::query_scalar(IMPORT)
                .bind(id)
                .bind(topic)
                .bind(facts.serial_number.as_deref())
                .bind(facts.product_name.as_deref())
                .bind(facts.model.as_deref())
                .bind(facts.model_name.as_deref())
                .bind(facts.device_name.as_deref())
                .bind(facts.os_version.as_deref())
                .bind(facts.build_version.as_deref())
                .bind(facts.imei.as_deref())
                .bind(facts.meid.as_deref())
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(generation) = generation else {
                return Ok(None);
            };
            NewEvent {
                kind: "enrollment.migrated",
                enrollment_id: id,
                raw: Some(message),
                attributes: Some(serde_json::json!({
                    "udid": id, "message_type": "Authenticate", "generation": generation,
                    "migrated_by": by, "serial_number": facts.serial_number,
                })),
                ..NewEvent::default()
            }
            .write(&mut *tx, now)
            .await?;
            sqlx::query(INSERT_AUDIT)
                .bind(now)
                .bind(by)
                .bind("enrollment.migrated")
                .bind(id)
                .bind("imported from another server; the certificate binds at first use")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Some(generation))
        }.await);
        imported?.ok_or_else(|| {
            Error::Conflict(format!(
                "{id} is enrolled here already: a migration never replaces an enrollment"
            ))
        })
    }

    /// Imports the TokenUpdate of an enrollment imported and not bound yet: its push details
    /// (the UnlockToken sealed), and it is enrolled.
    pub async fn import_token_update(
        &self,
        t: &TokenUpdateRecord<'_>,
        by: &str,
    ) -> Result<(), Error> {
        let now = now_ms();
        let done: Result<bool, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let updated = sqlx::query(
                "UPDATE enrollments SET push_token = $2, push_magic = $3,
                    unlock_token = COALESCE($4, unlock_token), awaiting_configuration = $5,
                    topic = COALESCE($6, topic), status = 'enrolled', token_updated_at = $7
                 WHERE id = $1 AND status IN ('authenticated', 'enrolled')
                   AND migrated_at IS NOT NULL AND cert_sha256 IS NULL",
            )
            .bind(t.id)
            .bind(t.push_token)
            .bind(t.push_magic)
            .bind(t.sealed_unlock_token.as_deref())
            .bind(t.awaiting_configuration)
            .bind(t.topic)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                return Ok(false);
            }
            NewEvent {
                kind: "enrollment.migrated",
                enrollment_id: t.id,
                raw: Some(t.message),
                attributes: Some(serde_json::json!({
                    "udid": t.id, "message_type": "TokenUpdate", "topic": t.topic, "migrated_by": by,
                })),
                ..NewEvent::default()
            }
            .write(&mut *tx, now)
            .await?;
            tx.commit().await?;
            Ok(true)
        }.await);
        if done? {
            Ok(())
        } else {
            Err(Error::Conflict(format!(
                "{} has no imported enrollment waiting for its TokenUpdate: import its Authenticate first",
                t.id
            )))
        }
    }

    /// Binds `cert_sha256` to the imported, unbound device channel `device_id` at its first
    /// request; true when it did. A certificate our CA issued is never bound this way, nor one
    /// already bound to another enrollment.
    pub async fn bind_imported(&self, device_id: &str, cert_sha256: &[u8]) -> Result<bool, Error> {
        let now = now_ms();
        let bound: Result<bool, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let updated = sqlx::query(
                "UPDATE enrollments SET cert_sha256 = $2, last_seen_at = $3
                 WHERE id = $1 AND status = 'enrolled' AND migrated_at IS NOT NULL
                   AND cert_sha256 IS NULL
                   AND NOT EXISTS (SELECT 1 FROM issued_certificates WHERE sha256 = $2)",
            )
            .bind(device_id)
            .bind(cert_sha256)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                return Ok(false);
            }
            let detail = format!("first use of certificate {}", hex::encode(cert_sha256));
            sqlx::query(INSERT_AUDIT)
                .bind(now)
                .bind(format!("device:{device_id}"))
                .bind("enrollment.migration_bound")
                .bind(device_id)
                .bind(&detail)
                .execute(&mut *tx)
                .await?;
            NewEvent {
                kind: "enrollment.migration_bound",
                enrollment_id: device_id,
                attributes: Some(serde_json::json!({"udid": device_id, "cert_sha256": hex::encode(cert_sha256)})),
                ..NewEvent::default()
            }
            .write(&mut *tx, now)
            .await?;
            tx.commit().await?;
            Ok(true)
        }.await);
        match bound {
            Ok(bound) => Ok(bound),
            // The certificate serves another enrollment already.
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(Error::Database(e)),
        }
    }
}
