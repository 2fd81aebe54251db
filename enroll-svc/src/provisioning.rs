//! Provisioning: everything a device meets before it is enrolled. The device-identity CA (created
//! on first start or loaded from configuration, key sealed at rest), the SCEP server, enrollment
//! tokens, the OTA profile service, the direct and trust profiles, and the registry of issued
//! certificates with revocation, which the edge and the check-in path consult.
//!
//! # Layout
//! - [`settings`]: the `[ca]` and `[enrollment]` configuration sections.
//! - [`store`]: the provisioning tables (CA, certificates, challenges, tokens, OTA sessions).
//! - [`ca`]: [`ca::DeviceCa`], loading or creating the CA, issuing.
//! - [`scep`]: [`scep::ScepServer`], RFC 8894.
//! - [`tokens`]: creating and using enrollment tokens.
//! - [`profiles`]: [`profiles::ProfileFactory`], the enrollment, direct and trust profiles.
//! - [`ota`]: [`ota::OtaService`], the three OTA phases.
//! - [`renewal`]: renewal profiles, which give an enrolled device a new identity.
//! - [`grpc`]: the `mdm.v1.Provisioning` adapter.

pub mod ca;
pub mod grpc;
pub mod ota;
pub mod profiles;
pub mod renewal;
pub mod scep;
pub mod settings;
pub mod store;
pub mod tokens;

use crate::config::Config;
use crate::error::Error;
use ca::DeviceCa;
use mdm_pki::profile::chain::DeviceCaBundle;
use mdm_proto::v1::IdentityPolicy;
use openssl::hash::MessageDigest;
use openssl::x509::X509;
use ota::OtaService;
use profiles::{ChallengeFor, ProfileFactory};
use scep::ScepServer;
use service_kit::db::Db;
use service_kit::secrets::SecretBox;
use std::sync::Arc;
use store::{Flow, IssuedFacts, PkiStore};

/// The largest certificate kept from the edge (a device identity is 1 to 2 KiB).
const MAX_CERTIFICATE_BYTES: usize = 16 * 1024;

/// Fingerprints of kept certificates a replica remembers (32 bytes each, plus the cache's own).
const KEPT_FOREIGN_ENTRIES: u64 = 200_000;

/// The enrollment side, present when `[enrollment]` is configured.
#[derive(Debug, Clone)]
struct Enrollment {
    profiles: Arc<ProfileFactory>,
    ota: OtaService,
}

/// The provisioning service's state (cheap to clone).
#[derive(Debug, Clone)]
pub struct Provisioning {
    store: PkiStore,
    ca: Arc<DeviceCa>,
    scep: ScepServer,
    enrollment: Option<Enrollment>,
    /// Certificates from other CAs this replica has kept already: each is written once, not
    /// at every admission.
    kept_foreign: moka::sync::Cache<Vec<u8>, ()>,
}

impl Provisioning {
    /// Loads (or creates) the CA and the profile material. The database's migrations must have
    /// run.
    pub async fn start(
        config: &Config,
        db: Db,
        secrets: &SecretBox,
    ) -> Result<Provisioning, Error> {
        match mdm_pki::scep::load_legacy_provider() {
            Ok(()) if mdm_pki::scep::single_des_available() => {}
            Ok(()) => tracing::warn!("OpenSSL's legacy provider loaded but DES-CBC is unusable: SCEP requests in single DES will be refused"),
            Err(why) => tracing::warn!(%why, "OpenSSL's legacy provider is unavailable: SCEP requests in single DES will be refused"),
        }
        let store = PkiStore::new(db);
        let ca = Arc::new(DeviceCa::load_or_create(&config.ca, &store, secrets).await?);
        let scep = ScepServer::new(store.clone(), Arc::clone(&ca));
        let enrollment = match &config.enrollment {
            Some(settings) => {
                let bundle = match &settings.device_ca_file {
                    Some(path) => std::fs::read(path).map_err(|e| {
                        Error::CaSetup(format!("cannot read {}: {e}", path.display()))
                    })?,
                    None => mdm_pki::profile::chain::APPLE_DEVICE_CAS
                        .as_bytes()
                        .to_vec(),
                };
                let device_cas = DeviceCaBundle::from_pem(&bundle)?;
                let profiles = Arc::new(ProfileFactory::new(settings.clone(), &ca, store.clone())?);
                let ota = OtaService::new(
                    store.clone(),
                    Arc::clone(&ca),
                    Arc::clone(&profiles),
                    device_cas,
                );
                Some(Enrollment { profiles, ota })
            }
            None => {
                tracing::warn!("no [enrollment] section: SCEP is served, profiles are not");
                None
            }
        };
        Ok(Provisioning {
            store,
            ca,
            scep,
            enrollment,
            kept_foreign: moka::sync::Cache::new(KEPT_FOREIGN_ENTRIES),
        })
    }

    /// The store.
    pub fn store(&self) -> &PkiStore {
        &self.store
    }

    /// The CA.
    pub fn ca(&self) -> &Arc<DeviceCa> {
        &self.ca
    }

    /// The SCEP server.
    pub fn scep(&self) -> &ScepServer {
        &self.scep
    }

    fn enrollment(&self) -> Result<&Enrollment, Error> {
        self.enrollment.as_ref().ok_or(Error::NotConfigured)
    }

    /// The profile factory.
    pub fn profiles(&self) -> Result<&ProfileFactory, Error> {
        Ok(&self.enrollment()?.profiles)
    }

    /// The OTA service.
    pub fn ota(&self) -> Result<&OtaService, Error> {
        Ok(&self.enrollment()?.ota)
    }

    /// The signed direct enrollment profile: the token is used, the certificate's CN will be a
    /// random device identifier and the bound-certificate policy applies to it.
    pub async fn direct_profile(&self, token: &str) -> Result<Vec<u8>, Error> {
        let profiles = self.profiles()?;
        let used = tokens::redeem(&self.store, token).await?;
        let device_id = mdm_pki::profile::new_uuid();
        let profile = profiles
            .enrollment_profile(&ChallengeFor {
                common_name: &device_id,
                flow: Flow::Direct,
                ota_session_id: None,
                enrollment_token_id: Some(&used.id),
                renewal: None,
            })
            .await?;
        tracing::info!(token = %used.id, %device_id, "direct enrollment profile issued");
        profiles.sign(&profile.to_xml()?)
    }

    /// The identity policy a certificate is held to on the MDM channel, or why it is refused:
    /// a certificate this CA revoked, or the identity OTA phase 2 issued (it only signs phase 3;
    /// the MDM identity is the enrollment profile's). A direct-profile certificate carries a
    /// random CN, so the binding made at Authenticate is what ties it to a device: it is held to
    /// the bound-certificate policy whatever was `requested`. Certificates from other CAs are not
    /// ours to judge: they get `requested`, and are kept when the edge forwarded their `der`
    /// ([`store::ForeignCertificate`]).
    pub async fn admission_policy(
        &self,
        cert_sha256: &[u8],
        der: &[u8],
        requested: IdentityPolicy,
    ) -> Result<IdentityPolicy, Error> {
        let admission = self.store.admission(cert_sha256, None).await?;
        self.decide(cert_sha256, der, requested, admission.issued)
            .await
    }

    /// [`Provisioning::admission_policy`] for a device channel's command report, and with it
    /// the channel's generation when it is active and bound to this certificate (`None`: the
    /// binding must be checked in full, [`crate::store::EnrollmentStore::authorize_device`]), read
    /// in one statement: every device session that misses the edges' admission cache asks.
    pub async fn admit_to_device(
        &self,
        cert_sha256: &[u8],
        der: &[u8],
        requested: IdentityPolicy,
        device_id: &str,
    ) -> Result<(IdentityPolicy, Option<i64>), Error> {
        let admission = self.store.admission(cert_sha256, Some(device_id)).await?;
        let policy = self
            .decide(cert_sha256, der, requested, admission.issued)
            .await?;
        Ok((policy, admission.bound_generation))
    }

    /// The policy for a certificate this CA issued as `issued` (`None`: another CA's, kept
    /// when the edge forwarded its `der`), or why it is refused.
    async fn decide(
        &self,
        cert_sha256: &[u8],
        der: &[u8],
        requested: IdentityPolicy,
        issued: Option<IssuedFacts>,
    ) -> Result<IdentityPolicy, Error> {
        if issued.is_none() && !der.is_empty() && !self.kept_foreign.contains_key(cert_sha256) {
            self.remember_foreign(cert_sha256, der).await?;
            self.kept_foreign.insert(cert_sha256.to_vec(), ());
        }
        match issued {
            Some(cert) if cert.revoked => Err(Error::Revoked(cert.serial)),
            Some(cert) if cert.flow == Flow::Ota => Err(Error::IdentityMismatch(format!(
                "certificate {} is the OTA enrollment identity, not an MDM identity",
                cert.serial
            ))),
            Some(cert) if cert.flow == Flow::Direct => Ok(IdentityPolicy::BoundCertificate),
            _ => Ok(requested),
        }
    }

    /// Keeps a certificate from another CA that the edge forwarded, if it is one: its DER must
    /// be what `cert_sha256` fingerprints (anything else is ignored, not trusted).
    async fn remember_foreign(&self, cert_sha256: &[u8], der: &[u8]) -> Result<(), Error> {
        if der.len() > MAX_CERTIFICATE_BYTES
            || openssl::hash::hash(MessageDigest::sha256(), der)?.as_ref() != cert_sha256
        {
            tracing::warn!(
                "the edge forwarded a certificate that is not the one it admits; not kept"
            );
            return Ok(());
        }
        let Ok(cert) = X509::from_der(der) else {
            return Ok(());
        };
        let foreign = store::ForeignCertificate {
            sha256: cert_sha256.to_vec(),
            serial: mdm_pki::pki::serial_hex(&cert)?,
            der: der.to_vec(),
            not_after: mdm_pki::pki::not_after_ms(&cert),
        };
        self.store
            .remember_foreign(&foreign, service_kit::now_ms())
            .await
    }

    /// Refuses what [`Provisioning::admission_policy`] refuses.
    pub async fn refuse_revoked(&self, cert_sha256: &[u8]) -> Result<(), Error> {
        self.admission_policy(cert_sha256, &[], IdentityPolicy::Unspecified)
            .await
            .map(drop)
    }
}
