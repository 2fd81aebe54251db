//! Installing a push certificate, and describing the current one to administrators.

use crate::certificate::PushCertificate;
use crate::current::{key_context, CertificateCache};
use crate::error::Error;
use crate::store::{CertificateRow, NewCertificate, PushStore};
use mdm_proto::v1::{CertificateInfo, UploadCertificateRequest};
use service_kit::secrets::SecretBox;

/// Largest upload accepted (a certificate, its chain and key are a few kilobytes).
pub const MAX_UPLOAD_BYTES: usize = 256 * 1024;

const DAY_MS: i64 = 86_400_000;

/// Installs certificates and describes them.
#[derive(Debug, Clone)]
pub struct Certificates {
    store: PushStore,
    secrets: SecretBox,
    expiry_warning_days: u32,
}

impl Certificates {
    /// Over the store, sealing keys with `secrets`; warns `expiry_warning_days` before expiry.
    pub fn new(store: PushStore, secrets: SecretBox, expiry_warning_days: u32) -> Certificates {
        Certificates {
            store,
            secrets,
            expiry_warning_days,
        }
    }

    /// Checks and stores an uploaded certificate as its topic's current one (a topic not
    /// pushed yet only with `new_topic`), then tells `cache` so this replica uses it at once
    /// (the others within their refresh interval).
    pub async fn upload(
        &self,
        request: &UploadCertificateRequest,
        cache: &CertificateCache,
    ) -> Result<CertificateInfo, Error> {
        let now = service_kit::now_ms();
        if request.pem.len() + request.pkcs12.len() > MAX_UPLOAD_BYTES {
            return Err(Error::InvalidRequest(format!(
                "the upload is over {MAX_UPLOAD_BYTES} bytes"
            )));
        }
        let certificate = match (request.pem.is_empty(), request.pkcs12.is_empty()) {
            (false, true) => PushCertificate::from_pem(&request.pem, now)?,
            (true, false) => PushCertificate::from_pkcs12(&request.pkcs12, &request.password, now)?,
            _ => {
                return Err(Error::InvalidRequest(
                    "send either a PEM (certificate and key) or a PKCS#12 file".into(),
                ))
            }
        };
        let environment = match request.environment.as_str() {
            "" | "production" => "production",
            "sandbox" => "sandbox",
            other => {
                return Err(Error::InvalidRequest(format!(
                    "environment {other:?} is not production or sandbox"
                )))
            }
        };
        let sealed_key = self.secrets.seal(
            certificate.key_pem().as_bytes(),
            &key_context(&certificate.sha256),
        );
        let chain_pem = certificate.chain_pem();
        let version = self
            .store
            .insert_certificate(
                &NewCertificate {
                    topic: &certificate.topic,
                    environment,
                    chain_pem: &chain_pem,
                    sealed_key: &sealed_key,
                    sha256: &certificate.sha256,
                    subject: &certificate.subject,
                    issuer: &certificate.issuer,
                    serial: &certificate.serial,
                    not_before: certificate.not_before_ms,
                    not_after: certificate.not_after_ms,
                    uploaded_by: &request.uploaded_by,
                },
                request.new_topic,
                now,
            )
            .await?;
        cache.invalidate();
        tracing::info!(target: "audit", topic = %certificate.topic, version, by = %request.uploaded_by,
            not_after_ms = certificate.not_after_ms, "push certificate installed");
        let row = self
            .store
            .current_certificates()
            .await?
            .into_iter()
            .find(|row| row.topic == certificate.topic)
            .ok_or_else(|| Error::NotFound("the certificate just stored is gone".into()))?;
        Ok(self.info(&row, now))
    }

    /// Every topic's current certificate, described, in the order the topics were added.
    pub async fn all(&self) -> Result<Vec<CertificateInfo>, Error> {
        let now = service_kit::now_ms();
        Ok(self
            .store
            .current_certificates()
            .await?
            .iter()
            .map(|row| self.info(row, now))
            .collect())
    }

    /// The first topic's current certificate, described.
    pub async fn current(&self) -> Result<CertificateInfo, Error> {
        let row = self.store.current_certificate().await?.ok_or_else(|| {
            Error::NotFound("no push certificate is installed: upload one".into())
        })?;
        Ok(self.info(&row, service_kit::now_ms()))
    }

    /// A row as administrators see it, with the expiry warning.
    pub fn info(&self, row: &CertificateRow, now: i64) -> CertificateInfo {
        let days_left = (row.not_after - now).div_euclid(DAY_MS);
        let warning = if row.not_after <= now {
            "the push certificate has expired: devices cannot be woken until it is renewed".into()
        } else if days_left < i64::from(self.expiry_warning_days) {
            format!(
                "the push certificate expires in {days_left} days: renew it in Apple's Push \
                 Certificates Portal (same Apple ID, same topic) and upload it"
            )
        } else {
            String::new()
        };
        CertificateInfo {
            topic: row.topic.clone(),
            subject: row.subject.clone(),
            issuer: row.issuer.clone(),
            serial_number: row.serial.clone(),
            sha256: row.sha256.clone(),
            not_before_ms: row.not_before,
            not_after_ms: row.not_after,
            environment: row.environment.clone(),
            uploaded_at_ms: row.uploaded_at,
            uploaded_by: row.uploaded_by.clone(),
            days_left,
            warning,
            last_error: row.last_error.clone().unwrap_or_default(),
            last_error_at_ms: row.last_error_at.unwrap_or(0),
            version: row.version,
        }
    }
}
