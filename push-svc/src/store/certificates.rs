//! Uploaded push certificates and the one-topic guard.
//!
//! The topic is fixed by the first upload in `push_topic` (one row). An upload inserts that
//! row or finds it in the same transaction, so two replicas uploading certificates with
//! different topics at once cannot both win: on PostgreSQL the second insert waits for the
//! first to commit, on SQLite writers are serialized.

use super::rows::CertificateRow;
use super::PushStore;
use crate::error::Error;
use service_kit::db::BeginWrite;
use service_kit::events::NewEvent;
use service_kit::with_db;

/// Versions kept after an upload (the current one and a short history).
const KEPT_VERSIONS: i64 = 10;

/// A certificate to store, already checked.
#[derive(Debug, Clone)]
pub struct NewCertificate<'a> {
    /// Push topic.
    pub topic: &'a str,
    /// `production` or `sandbox`.
    pub environment: &'a str,
    /// PEM chain.
    pub chain_pem: &'a str,
    /// Sealed key PEM.
    pub sealed_key: &'a [u8],
    /// Hex SHA-256 of the leaf.
    pub sha256: &'a str,
    /// Leaf subject.
    pub subject: &'a str,
    /// Leaf issuer.
    pub issuer: &'a str,
    /// Leaf serial.
    pub serial: &'a str,
    /// Unix ms.
    pub not_before: i64,
    /// Unix ms.
    pub not_after: i64,
    /// Admin token name.
    pub uploaded_by: &'a str,
}

const CERTIFICATE_COLUMNS: &str = "version, topic, environment, chain_pem, sealed_key, sha256,
    subject, issuer, serial, not_before, not_after, uploaded_at, uploaded_by, last_error, last_error_at";

impl PushStore {
    /// Stores a new current certificate; answers its version. Refused when its topic is not
    /// the server's topic.
    pub async fn insert_certificate(&self, c: &NewCertificate<'_>, now: i64) -> Result<i64, Error> {
        let result: Result<Result<i64, String>, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            sqlx::query("INSERT INTO push_topic (id, topic) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
                .bind(c.topic)
                .execute(&mut *tx)
                .await?;
            let topic: String = sqlx::query_scalar("SELECT topic FROM push_topic WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            if topic != c.topic {
                return Ok(Err(topic));
            }
            let version: i64 = sqlx::query_scalar(
                "INSERT INTO push_certificates (topic, environment, chain_pem, sealed_key, sha256,
                    subject, issuer, serial, not_before, not_after, uploaded_at, uploaded_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING version",
            )
            .bind(c.topic)
            .bind(c.environment)
            .bind(c.chain_pem)
            .bind(c.sealed_key)
            .bind(c.sha256)
            .bind(c.subject)
            .bind(c.issuer)
            .bind(c.serial)
            .bind(c.not_before)
            .bind(c.not_after)
            .bind(now)
            .bind(c.uploaded_by)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM push_certificates WHERE version <= $1")
                .bind(version - KEPT_VERSIONS)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Ok(version))
        }.await);
        match result? {
            Ok(version) => Ok(version),
            Err(current) => Err(Error::TopicChange {
                current,
                new: c.topic.to_owned(),
            }),
        }
    }

    /// The current certificate (highest version), if any.
    pub async fn current_certificate(&self) -> Result<Option<CertificateRow>, Error> {
        let sql = format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM push_certificates ORDER BY version DESC LIMIT 1"
        );
        let row = with_db!(&self.db, pool => sqlx::query_as::<_, CertificateRow>(&sql)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// The current certificate's version: one indexed read, cheap enough to ask every few
    /// seconds from every replica.
    pub async fn current_certificate_version(&self) -> Result<Option<i64>, Error> {
        let version = with_db!(&self.db, pool => sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MAX(version) FROM push_certificates",
        )
        .fetch_one(pool)
        .await)?;
        Ok(version)
    }

    /// Records a certificate-level refusal from APNs on certificate `version`.
    pub async fn record_certificate_error(
        &self,
        version: i64,
        error: &str,
        at: i64,
    ) -> Result<(), Error> {
        with_db!(&self.db, pool => sqlx::query(
            "UPDATE push_certificates SET last_error = $2, last_error_at = $3 WHERE version = $1",
        )
        .bind(version)
        .bind(error)
        .bind(at)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Emits `push.certificate_expiring` once for the current certificate when it expires
    /// before `threshold` (Unix ms); true when it did now. The mark and the event commit
    /// together, so the event is neither lost nor repeated.
    pub async fn notify_expiring(&self, threshold: i64, now: i64) -> Result<bool, Error> {
        let notified: Result<bool, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let marked: Option<(String, i64)> = sqlx::query_as(
                "UPDATE push_certificates SET expiry_notified_at = $2
                 WHERE version = (SELECT MAX(version) FROM push_certificates)
                   AND not_after < $1 AND expiry_notified_at IS NULL
                 RETURNING topic, not_after",
            )
            .bind(threshold)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((topic, not_after)) = marked else {
                return Ok(false);
            };
            NewEvent {
                kind: "push.certificate_expiring",
                attributes: Some(serde_json::json!({
                    "topic": topic,
                    "not_after_ms": not_after,
                    "days_left": (not_after - now).max(0) / 86_400_000,
                })),
                ..NewEvent::default()
            }
            .write(&mut *tx, now)
            .await?;
            tx.commit().await?;
            Ok(true)
        }.await);
        Ok(notified?)
    }
}
