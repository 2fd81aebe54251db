//! Certificates devices present that this CA did not issue (an operator's CA, the CA of a
//! server devices were migrated from), kept as the edge forwards them at admission: their
//! expiry is announced like ours, and a renewal profile can be encrypted to them.

use super::PkiStore;
use crate::error::Error;
use service_kit::with_db;

/// A certificate from another CA, as kept.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ForeignCertificate {
    /// SHA-256 of the DER.
    pub sha256: Vec<u8>,
    /// Lowercase hex without leading zeros.
    pub serial: String,
    /// The certificate.
    pub der: Vec<u8>,
    /// Unix ms of notAfter.
    pub not_after: i64,
}

impl PkiStore {
    /// Keeps `cert` (once; it never changes).
    pub async fn remember_foreign(&self, cert: &ForeignCertificate, now: i64) -> Result<(), Error> {
        with_db!(&self.db, pool => sqlx::query(
            "INSERT INTO foreign_certificates (sha256, serial, der, not_after, seen_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&cert.sha256)
        .bind(&cert.serial)
        .bind(&cert.der)
        .bind(cert.not_after)
        .bind(now)
        .execute(pool)
        .await
        .map(drop))?;
        Ok(())
    }

    /// A kept certificate by fingerprint.
    pub async fn foreign_certificate(
        &self,
        sha256: &[u8],
    ) -> Result<Option<ForeignCertificate>, Error> {
        Ok(
            with_db!(&self.db, pool => sqlx::query_as::<_, ForeignCertificate>(
                "SELECT sha256, serial, der, not_after FROM foreign_certificates WHERE sha256 = $1",
            )
            .bind(sha256)
            .fetch_optional(pool)
            .await)?,
        )
    }
}
