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
    /// Stores a certificate as its topic's current one; answers its version. A topic this
    /// server does not push yet is added only on the first upload or when `new_topic` asks for
    /// it; otherwise the upload is refused (a renewal whose topic changed would cut off every
    /// device of the old one).
    pub async fn insert_certificate(
        &self,
        c: &NewCertificate<'_>,
        new_topic: bool,
        now: i64,
    ) -> Result<i64, Error> {
        let result: Result<Result<i64, Vec<String>>, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let topics: Vec<String> =
                sqlx::query_scalar("SELECT topic FROM push_topics ORDER BY added_at, topic")
                    .fetch_all(&mut *tx)
                    .await?;
            if !topics.iter().any(|t| t == c.topic) {
                if !topics.is_empty() && !new_topic {
                    return Ok(Err(topics));
                }
                // The insert is the lock two first uploads race on.
                sqlx::query(
                    "INSERT INTO push_topics (topic, added_at, added_by) VALUES ($1, $2, $3)",
                )
                .bind(c.topic)
                .bind(now)
                .bind(c.uploaded_by)
                .execute(&mut *tx)
                .await?;
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
            // A short history per topic.
            sqlx::query(
                "DELETE FROM push_certificates WHERE topic = $1 AND version NOT IN
                   (SELECT version FROM push_certificates WHERE topic = $1
                    ORDER BY version DESC LIMIT $2)",
            )
            .bind(c.topic)
            .bind(KEPT_VERSIONS)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Ok(version))
        }.await);
        match result? {
            Ok(version) => Ok(version),
            Err(current) => Err(Error::TopicChange {
                current: current.join(", "),
                new: c.topic.to_owned(),
            }),
        }
    }

    /// Each topic's current certificate (its highest version), in the order the topics were
    /// added: the first is the server's first topic.
    pub async fn current_certificates(&self) -> Result<Vec<CertificateRow>, Error> {
        let sql = format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM push_certificates
             WHERE version IN (SELECT MAX(version) FROM push_certificates GROUP BY topic)
             ORDER BY (SELECT added_at FROM push_topics t WHERE t.topic = push_certificates.topic),
                      topic"
        );
        let rows = with_db!(&self.db, pool => sqlx::query_as::<_, CertificateRow>(&sql)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// The first topic's current certificate, if any.
    pub async fn current_certificate(&self) -> Result<Option<CertificateRow>, Error> {
        Ok(self.current_certificates().await?.into_iter().next())
    }

    /// Each topic's current version: one cheap indexed read, asked every few seconds from
    /// every replica to notice an upload.
    pub async fn certificate_versions(&self) -> Result<Vec<(String, i64)>, Error> {
        let versions = with_db!(&self.db, pool => sqlx::query_as::<_, (String, i64)>(
            "SELECT topic, MAX(version) FROM push_certificates GROUP BY topic ORDER BY topic",
        )
        .fetch_all(pool)
        .await)?;
        Ok(versions)
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

    /// Emits `push.certificate_expiring` once for each topic's current certificate that
    /// expires before `threshold` (Unix ms); true when it did now. The mark and the event commit
    /// together, so the event is neither lost nor repeated.
    pub async fn notify_expiring(&self, threshold: i64, now: i64) -> Result<bool, Error> {
        let notified: Result<bool, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let marked: Vec<(String, i64)> = sqlx::query_as(
                "UPDATE push_certificates SET expiry_notified_at = $2
                 WHERE version IN (SELECT MAX(version) FROM push_certificates GROUP BY topic)
                   AND not_after < $1 AND expiry_notified_at IS NULL
                 RETURNING topic, not_after",
            )
            .bind(threshold)
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
            if marked.is_empty() {
                return Ok(false);
            }
            for (topic, not_after) in marked {
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
            }
            tx.commit().await?;
            Ok(true)
        }.await);
        Ok(notified?)
    }
}
