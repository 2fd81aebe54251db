//! The CA row, the registry of issued certificates, revocation, and renewal.

use super::{Flow, PkiStore};
use crate::error::Error;
use service_kit::db::BeginWrite;
use service_kit::with_db;

/// A certificate to record as issued.
#[derive(Debug, Clone)]
pub struct IssuedRecord {
    /// Lowercase hex serial.
    pub serial: String,
    /// SHA-256 of the DER.
    pub sha256: Vec<u8>,
    /// Subject CN.
    pub common_name: String,
    /// How it was issued.
    pub flow: Flow,
    /// The OTA enrollment it belongs to.
    pub ota_session_id: Option<String>,
    /// The enrollment token behind it.
    pub enrollment_token_id: Option<String>,
    /// The serial it renews.
    pub renewed_from: Option<String>,
    /// The enrollment whose binding it replaces at its first use (a renewal).
    pub renewal_for: Option<String>,
    /// SHA-256 of the certificate it replaces (a renewal).
    pub renews_sha256: Option<Vec<u8>>,
    /// Unix ms.
    pub issued_at: i64,
    /// Unix ms of notAfter.
    pub not_after: i64,
    /// The certificate's DER.
    pub der: Vec<u8>,
}

/// What [`PkiStore::admission`] read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// The certificate, if this CA issued it.
    pub issued: Option<IssuedFacts>,
    /// The device channel's generation, if it is active and bound to the certificate.
    pub bound_generation: Option<i64>,
}

/// What admission needs of an issued certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedFacts {
    /// Lowercase hex serial.
    pub serial: String,
    /// How it was issued.
    pub flow: Flow,
    /// Whether it was revoked.
    pub revoked: bool,
}

type AdmissionRow = (Option<String>, Option<String>, Option<i64>, Option<i64>);

/// An issued certificate as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IssuedCertificate {
    /// Lowercase hex serial.
    pub serial: String,
    /// SHA-256 of the DER.
    pub sha256: Vec<u8>,
    /// Subject CN.
    pub common_name: String,
    /// How it was issued.
    #[sqlx(try_from = "String")]
    pub flow: Flow,
    /// The OTA enrollment it belongs to.
    pub ota_session_id: Option<String>,
    /// The enrollment token behind it.
    pub enrollment_token_id: Option<String>,
    /// The serial it renews.
    pub renewed_from: Option<String>,
    /// Unix ms.
    pub issued_at: i64,
    /// Unix ms of notAfter.
    pub not_after: i64,
    /// Unix ms of the revocation.
    pub revoked_at: Option<i64>,
    /// Why it was revoked.
    pub revocation_reason: Option<String>,
    /// Who revoked it.
    pub revoked_by: Option<String>,
    /// The enrollment it first authenticated (it can never authenticate another).
    pub enrollment_id: Option<String>,
    /// The enrollment whose binding it replaces at its first use (a renewal).
    pub renewal_for: Option<String>,
    /// The certificate's DER (kept since migration 0009; older rows have none).
    pub der: Option<Vec<u8>>,
    /// SHA-256 of the certificate it replaces (a renewal).
    pub renews_sha256: Option<Vec<u8>>,
}

/// The certificate an enrollment is bound to, as this server knows it.
#[derive(Debug, Clone)]
pub enum BoundCertificate {
    /// Issued by this CA.
    Issued(Box<IssuedCertificate>),
    /// From another CA, kept when the edge forwarded it.
    Foreign(super::ForeignCertificate),
    /// From another CA, never forwarded (bound before certificates were kept).
    Unknown,
}

const INSERT_ISSUED: &str =
    "INSERT INTO issued_certificates (serial, sha256, common_name, flow, ota_session_id,
        enrollment_token_id, renewed_from, renewal_for, renews_sha256, issued_at, not_after, der)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

impl PkiStore {
    /// The stored CA: certificate DER and sealed key.
    pub async fn load_ca(&self) -> Result<Option<(Vec<u8>, Vec<u8>)>, Error> {
        Ok(
            with_db!(&self.db, pool => sqlx::query_as::<_, (Vec<u8>, Vec<u8>)>(
            "SELECT cert_der, sealed_key FROM device_ca WHERE id = 1",
        )
        .fetch_optional(pool)
        .await)?,
        )
    }

    /// Stores a newly generated CA unless another replica stored one first; answers whether
    /// this one was stored (if not, load the winner).
    pub async fn insert_ca(
        &self,
        cert_der: &[u8],
        sealed_key: &[u8],
        now: i64,
    ) -> Result<bool, Error> {
        let done = with_db!(&self.db, pool => sqlx::query(
            "INSERT INTO device_ca (id, cert_der, sealed_key, created_at) VALUES (1, $1, $2, $3)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(cert_der)
        .bind(sealed_key)
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(done == 1)
    }

    /// Records an issued certificate and, in the same transaction, consumes the challenge it
    /// was issued for. `false` (nothing recorded) when the challenge was used meanwhile.
    pub async fn record_with_challenge(
        &self,
        challenge_sha256: &[u8],
        record: &IssuedRecord,
        now: i64,
    ) -> Result<bool, Error> {
        let result: Result<bool, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let consumed = sqlx::query(
                "UPDATE scep_challenges SET used_at = $2
                 WHERE challenge_sha256 = $1 AND used_at IS NULL AND expires_at > $2",
            )
            .bind(challenge_sha256)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if consumed.rows_affected() == 0 {
                return Ok(false);
            }
            insert(record).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(true)
        }.await);
        Ok(result?)
    }

    /// Records a certificate issued by SCEP RenewalReq. The binding stays with the certificate
    /// it renews until the device first uses the new one (`EnrollmentStore::authorize_device`):
    /// a device that obtained a renewal but never installed it keeps working with the old.
    pub async fn record_renewal(&self, record: &IssuedRecord) -> Result<(), Error> {
        let result: Result<(), sqlx::Error> = with_db!(&self.db, pool => async {
            insert(record).execute(pool).await.map(drop)
        }.await);
        Ok(result?)
    }

    /// An issued certificate by fingerprint.
    pub async fn certificate_by_sha256(
        &self,
        sha256: &[u8],
    ) -> Result<Option<IssuedCertificate>, Error> {
        Ok(
            with_db!(&self.db, pool => sqlx::query_as::<_, IssuedCertificate>(
            "SELECT * FROM issued_certificates WHERE sha256 = $1",
        )
        .bind(sha256)
        .fetch_optional(pool)
        .await)?,
        )
    }

    /// What admitting a certificate to a device channel needs, in one statement: the
    /// certificate as issued here (`None`: another CA's) and, when `device_id` is given, the
    /// generation of that device channel if it is active and bound to this certificate.
    pub async fn admission(
        &self,
        sha256: &[u8],
        device_id: Option<&str>,
    ) -> Result<Admission, Error> {
        let row: AdmissionRow = with_db!(&self.db, pool => sqlx::query_as(
            "SELECT ic.serial, ic.flow, ic.revoked_at, e.generation
             FROM (SELECT 1) AS one
             LEFT JOIN issued_certificates ic ON ic.sha256 = $1
             LEFT JOIN enrollments e ON e.id = $2 AND e.status IN ('authenticated', 'enrolled')
                AND e.cert_sha256 = $1",
        )
        .bind(sha256)
        .bind(device_id)
        .fetch_one(pool)
        .await)?;
        let (serial, flow, revoked_at, bound_generation) = row;
        let issued = match (serial, flow) {
            (Some(serial), Some(flow)) => Some(IssuedFacts {
                serial,
                flow: Flow::try_from(flow).map_err(|e| sqlx::Error::Decode(e.into()))?,
                revoked: revoked_at.is_some(),
            }),
            _ => None,
        };
        Ok(Admission {
            issued,
            bound_generation,
        })
    }

    /// The certificate bound to the enrolled device channel `enrollment_id`; `None` when the
    /// channel is not enrolled or has no certificate.
    pub async fn bound_certificate(
        &self,
        enrollment_id: &str,
    ) -> Result<Option<BoundCertificate>, Error> {
        let bound: Option<Vec<u8>> = with_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT cert_sha256 FROM enrollments
             WHERE id = $1 AND device_id = id AND status = 'enrolled' AND cert_sha256 IS NOT NULL",
        )
        .bind(enrollment_id)
        .fetch_optional(pool)
        .await)?;
        let Some(sha256) = bound else {
            return Ok(None);
        };
        if let Some(issued) = self.certificate_by_sha256(&sha256).await? {
            return Ok(Some(BoundCertificate::Issued(Box::new(issued))));
        }
        Ok(Some(match self.foreign_certificate(&sha256).await? {
            Some(foreign) => BoundCertificate::Foreign(foreign),
            None => BoundCertificate::Unknown,
        }))
    }

    /// An issued certificate by serial (lowercase hex).
    pub async fn certificate_by_serial(
        &self,
        serial: &str,
    ) -> Result<Option<IssuedCertificate>, Error> {
        Ok(
            with_db!(&self.db, pool => sqlx::query_as::<_, IssuedCertificate>(
            "SELECT * FROM issued_certificates WHERE serial = $1",
        )
        .bind(serial)
        .fetch_optional(pool)
        .await)?,
        )
    }

    /// Revokes a certificate (a repeated revocation keeps the first one's time, reason and
    /// author). `None` when no such certificate was issued.
    pub async fn revoke(
        &self,
        serial: &str,
        reason: &str,
        revoked_by: &str,
        now: i64,
    ) -> Result<Option<IssuedCertificate>, Error> {
        // The revocation commits with its audit entry; a repeated one changes and audits nothing.
        let revoked: Result<(), sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE issued_certificates SET revoked_at = $2, revocation_reason = $3, revoked_by = $4
                 WHERE serial = $1 AND revoked_at IS NULL",
            )
            .bind(serial)
            .bind(now)
            .bind(reason)
            .bind(revoked_by)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() > 0 {
                sqlx::query(
                    "INSERT INTO audit_log (at, actor, action, enrollment_id, detail)
                     SELECT $1, $2, 'certificate.revoked', COALESCE(enrollment_id, ''), $3
                     FROM issued_certificates WHERE serial = $4",
                )
                .bind(now)
                .bind(revoked_by)
                .bind(format!("serial {serial}: {reason}"))
                .bind(serial)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO event_outbox (type, occurred_at, enrollment_id, attributes)
                     SELECT 'enrollment.certificate_revoked', $1, COALESCE(enrollment_id, ''), $2
                     FROM issued_certificates WHERE serial = $3",
                )
                .bind(now)
                .bind(serde_json::json!({"serial": serial, "reason": reason, "revoked_by": revoked_by}).to_string())
                .bind(serial)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        }.await);
        revoked?;
        self.certificate_by_serial(serial).await
    }
}

fn insert<'q, DB: sqlx::Database>(
    record: &'q IssuedRecord,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<Vec<u8>>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(INSERT_ISSUED)
        .bind(record.serial.clone())
        .bind(record.sha256.clone())
        .bind(record.common_name.clone())
        .bind(record.flow.as_str())
        .bind(record.ota_session_id.clone())
        .bind(record.enrollment_token_id.clone())
        .bind(record.renewed_from.clone())
        .bind(record.renewal_for.clone())
        .bind(record.renews_sha256.clone())
        .bind(record.issued_at)
        .bind(record.not_after)
        .bind(record.der.clone())
}
