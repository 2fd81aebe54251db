//! The device-identity CA: loaded from configured files, or generated on first start and kept in
//! the database with its key sealed (`SecretBox`), so every replica signs with the same CA. It
//! issues identity certificates (clientAuth) from a CSR's key.

use super::settings::CaConfig;
use super::store::PkiStore;
use crate::error::Error;
use mdm_pki::pki::{self, IdentityTemplate};
use mdm_pki::scep::Signer;
use openssl::hash::MessageDigest;
use openssl::pkey::{HasPublic, Id, PKey, PKeyRef, Private};
use openssl::x509::{X509NameRef, X509Ref, X509VerifyResult, X509};
use service_kit::now_ms;
use service_kit::secrets::SecretBox;

/// Size of a generated CA key. RSA because SCEP clients encrypt their envelope to it.
const CA_KEY_BITS: u32 = 2048;

/// How far back notBefore is set: a device whose clock runs a little slow must not find its
/// fresh certificate "not yet valid".
const BACKDATE_SECS: i64 = 300;

/// The CA.
pub struct DeviceCa {
    cert: X509,
    key: PKey<Private>,
    validity_secs: i64,
}

impl std::fmt::Debug for DeviceCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCa")
            .field("subject", &self.cert.subject_name())
            .finish_non_exhaustive()
    }
}

/// Sealing context of the CA key: bound to the certificate, so a key cannot be paired with
/// another CA's row.
fn key_context(cert_der: &[u8]) -> Result<String, Error> {
    let digest = openssl::hash::hash(MessageDigest::sha256(), cert_der)?;
    Ok(format!("device-ca-key:{}", hex::encode(digest)))
}

impl DeviceCa {
    /// The configured CA, or the stored one, or a new one stored for every replica.
    pub async fn load_or_create(
        config: &CaConfig,
        store: &PkiStore,
        secrets: &SecretBox,
    ) -> Result<DeviceCa, Error> {
        let (cert, key) = match (&config.cert_file, &config.key_file) {
            (Some(cert_file), Some(key_file)) => from_files(config, cert_file, key_file)?,
            _ => from_store(config, store, secrets).await?,
        };
        if key.id() != Id::RSA {
            return Err(Error::CaSetup(
                "the CA key must be RSA: SCEP clients encrypt their requests to it".into(),
            ));
        }
        if !cert.public_key()?.public_eq(&key) {
            return Err(Error::CaSetup(
                "the CA key does not match its certificate".into(),
            ));
        }
        if let Some(path) = &config.export_cert_file {
            std::fs::write(path, cert.to_pem()?)
                .map_err(|e| Error::CaSetup(format!("cannot write {}: {e}", path.display())))?;
        }
        tracing::info!(
            subject = %pki::common_name(cert.subject_name()).unwrap_or_default(),
            serial = %pki::serial_hex(&cert)?,
            "device-identity CA ready"
        );
        Ok(DeviceCa {
            cert,
            key,
            validity_secs: i64::try_from(config.identity_validity_secs()).unwrap_or(i64::MAX),
        })
    }

    /// An in-memory CA (tests and tools).
    pub fn from_parts(cert: X509, key: PKey<Private>, validity_days: u32) -> DeviceCa {
        DeviceCa {
            cert,
            key,
            validity_secs: i64::from(validity_days) * 86_400,
        }
    }

    /// The CA certificate.
    pub fn cert(&self) -> &X509 {
        &self.cert
    }

    /// The CA key.
    pub fn key(&self) -> &PKeyRef<Private> {
        &self.key
    }

    /// The CA as a SCEP message signer.
    pub fn signer(&self) -> Signer<'_> {
        Signer {
            cert: &self.cert,
            key: &self.key,
        }
    }

    /// Whether `cert` was signed by this CA (not whether it is still valid or revoked).
    pub fn issued(&self, cert: &X509Ref) -> bool {
        self.cert.issued(cert) == X509VerifyResult::OK && cert.verify(&self.key).unwrap_or(false)
    }

    /// Issues an identity certificate for `public_key` with `subject`, valid from a few minutes
    /// ago for the configured validity.
    pub fn issue<K: HasPublic>(
        &self,
        public_key: &PKeyRef<K>,
        subject: &X509NameRef,
    ) -> Result<X509, Error> {
        let now = now_ms() / 1000;
        Ok(pki::issue_identity(
            &self.cert,
            &self.key,
            public_key,
            IdentityTemplate {
                subject,
                not_before: now - BACKDATE_SECS,
                not_after: now.saturating_add(self.validity_secs),
            },
        )?)
    }
}

fn from_files(
    config: &CaConfig,
    cert_file: &std::path::Path,
    key_file: &std::path::Path,
) -> Result<(X509, PKey<Private>), Error> {
    let read = |path: &std::path::Path| {
        std::fs::read(path)
            .map_err(|e| Error::CaSetup(format!("cannot read {}: {e}", path.display())))
    };
    let cert = X509::from_pem(&read(cert_file)?)
        .map_err(|e| Error::CaSetup(format!("{}: {e}", cert_file.display())))?;
    let pem = read(key_file)?;
    let key = match &config.key_password {
        Some(password) => PKey::private_key_from_pem_passphrase(&pem, password.as_bytes()),
        None => PKey::private_key_from_pem(&pem),
    }
    .map_err(|e| Error::CaSetup(format!("{}: {e}", key_file.display())))?;
    Ok((cert, key))
}

async fn from_store(
    config: &CaConfig,
    store: &PkiStore,
    secrets: &SecretBox,
) -> Result<(X509, PKey<Private>), Error> {
    if store.load_ca().await?.is_none() {
        let key = pki::rsa_key(CA_KEY_BITS)?;
        let subject = pki::name(&config.common_name, None)?;
        let cert = pki::self_signed_ca(&key, &subject, config.ca_validity_days)?;
        let cert_der = cert.to_der()?;
        let sealed = secrets.seal(&key.private_key_to_pkcs8()?, &key_context(&cert_der)?);
        if store.insert_ca(&cert_der, &sealed, now_ms()).await? {
            tracing::info!("generated the device-identity CA (first start)");
        }
    }
    // Read back even after inserting: if another replica won the race, its CA is the one.
    let (cert_der, sealed) = store
        .load_ca()
        .await?
        .ok_or_else(|| Error::CaSetup("the CA row vanished".into()))?;
    let key_der = secrets.open(&sealed, &key_context(&cert_der)?)?;
    let cert = X509::from_der(&cert_der)?;
    let key = PKey::private_key_from_pkcs8(&key_der)?;
    Ok((cert, key))
}
