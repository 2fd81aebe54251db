//! The profiles this server hands out, built from `[enrollment]`: the enrollment profile (root
//! certificate when the TLS certificate is private, SCEP with a one-time challenge, MDM), the
//! direct profile, and the trust profile. All are signed.

use super::ca::DeviceCa;
use super::scep::secret_digest;
use super::settings::EnrollmentConfig;
use super::store::{Flow, NewChallenge, PkiStore};
use crate::error::Error;
use base64::Engine;
use mdm_pki::profile::payload::{self, MdmPayload, ScepPayload, SERVER_CAPABILITIES};
use mdm_pki::profile::{signing, Profile};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use service_kit::now_ms;
use std::path::Path;
use std::sync::Arc;

/// A fresh random secret (challenge or token): 32 bytes, base64url.
pub fn random_secret() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    openssl::rand::rand_bytes(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Who a SCEP challenge is for.
#[derive(Debug, Clone)]
pub struct ChallengeFor<'a> {
    /// The CN the certificate gets.
    pub common_name: &'a str,
    /// The flow it is issued by.
    pub flow: Flow,
    /// The OTA enrollment.
    pub ota_session_id: Option<&'a str>,
    /// The token behind it.
    pub enrollment_token_id: Option<&'a str>,
    /// Set for a renewal profile: whose identity the certificate replaces.
    pub renewal: Option<Renewal<'a>>,
}

/// The identity a renewal profile's certificate replaces.
#[derive(Debug, Clone, Copy)]
pub struct Renewal<'a> {
    /// The enrollment (device channel) whose binding moves to the new certificate.
    pub enrollment_id: &'a str,
    /// The serial of the certificate it replaces.
    pub serial: &'a str,
    /// Its SHA-256: only that certificate's binding is replaced.
    pub sha256: &'a [u8],
    /// Unix ms: the challenge lasts as long as the certificate it replaces (the device may
    /// be offline when the renewal is queued), not the enrollment challenges' short TTL.
    pub until: i64,
}

/// Builds and signs profiles.
pub struct ProfileFactory {
    settings: EnrollmentConfig,
    store: PkiStore,
    signer: (X509, PKey<Private>, Vec<X509>),
    server_roots: Vec<X509>,
}

impl std::fmt::Debug for ProfileFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileFactory")
            .field("base_url", &self.settings.base_url)
            .finish_non_exhaustive()
    }
}

fn read_pem(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::CaSetup(format!("cannot read {}: {e}", path.display())))
}

impl ProfileFactory {
    /// Loads the signing identity (default: the CA) and the server's root certificates.
    pub fn new(
        settings: EnrollmentConfig,
        ca: &Arc<DeviceCa>,
        store: PkiStore,
    ) -> Result<ProfileFactory, Error> {
        let signer = match (&settings.signing_cert_file, &settings.signing_key_file) {
            (Some(cert_file), Some(key_file)) => {
                let mut chain = X509::stack_from_pem(&read_pem(cert_file)?)?;
                if chain.is_empty() {
                    return Err(Error::CaSetup(format!(
                        "{} holds no certificate",
                        cert_file.display()
                    )));
                }
                let cert = chain.remove(0);
                let key = PKey::private_key_from_pem(&read_pem(key_file)?)?;
                if !cert.public_key()?.public_eq(&key) {
                    return Err(Error::CaSetup(
                        "the profile signing key does not match its certificate".into(),
                    ));
                }
                (cert, key, chain)
            }
            _ => (ca.cert().clone(), ca.key().to_owned(), Vec::new()),
        };
        let server_roots = match &settings.server_ca_file {
            Some(path) => X509::stack_from_pem(&read_pem(path)?)?,
            None => Vec::new(),
        };
        Ok(ProfileFactory {
            settings,
            store,
            signer,
            server_roots,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &EnrollmentConfig {
        &self.settings
    }

    /// `<base>/scep`.
    pub fn scep_url(&self) -> String {
        format!("{}/scep", self.settings.base())
    }

    /// `<base>/enroll`: the OTA Profile Service URL.
    pub fn enroll_url(&self) -> String {
        format!("{}/enroll", self.settings.base())
    }

    /// `<base>/trust-profile`, when there is a private root to trust.
    pub fn trust_profile_url(&self) -> Option<String> {
        (!self.server_roots.is_empty()).then(|| format!("{}/trust-profile", self.settings.base()))
    }

    /// `<base>/anchor-certs`.
    pub fn anchor_certs_url(&self) -> String {
        format!("{}/anchor-certs", self.settings.base())
    }

    /// The server's private roots (empty when its TLS certificate is publicly trusted).
    pub fn server_roots(&self) -> &[X509] {
        &self.server_roots
    }

    /// A payload identifier under the profile's.
    pub fn identifier(&self, suffix: &str) -> String {
        format!("{}.{suffix}", self.settings.profile_identifier)
    }

    /// Signs a profile's XML.
    pub fn sign(&self, xml: &[u8]) -> Result<Vec<u8>, Error> {
        let (cert, key, chain) = &self.signer;
        Ok(signing::sign(xml, cert, key, chain)?)
    }

    /// Creates a one-time SCEP challenge for `whom`; answers the challenge itself.
    pub async fn new_challenge(&self, whom: &ChallengeFor<'_>) -> Result<String, Error> {
        let challenge = random_secret()?;
        let now = now_ms();
        let ttl_ms = i64::try_from(self.settings.challenge_ttl_secs).unwrap_or(3600) * 1000;
        let expires_at = whom.renewal.map_or(now + ttl_ms, |r| r.until);
        self.store
            .create_challenge(
                &NewChallenge {
                    sha256: secret_digest(&challenge)?,
                    common_name: whom.common_name.to_owned(),
                    flow: whom.flow,
                    ota_session_id: whom.ota_session_id.map(str::to_owned),
                    enrollment_token_id: whom.enrollment_token_id.map(str::to_owned),
                    renewal_for: whom.renewal.map(|r| r.enrollment_id.to_owned()),
                    renews_serial: whom.renewal.map(|r| r.serial.to_owned()),
                    renews_sha256: whom.renewal.map(|r| r.sha256.to_vec()),
                    expires_at,
                },
                now,
            )
            .await?;
        Ok(challenge)
    }

    /// A SCEP payload with a fresh challenge for `whom`.
    pub async fn scep_payload(&self, whom: &ChallengeFor<'_>) -> Result<ScepPayload, Error> {
        let challenge = self.new_challenge(whom).await?;
        let mut subject = Vec::new();
        if let Some(org) = &self.settings.organization {
            subject.push(("O".to_owned(), org.clone()));
        }
        subject.push(("CN".to_owned(), whom.common_name.to_owned()));
        Ok(ScepPayload::new(
            self.identifier("scep"),
            self.scep_url(),
            challenge,
            subject,
        ))
    }

    fn root_payloads(&self) -> Result<Vec<plist::Dictionary>, Error> {
        let mut payloads = Vec::new();
        for (i, root) in self.server_roots.iter().enumerate() {
            payloads.push(payload::root_certificate(
                &root.to_der()?,
                &self.identifier(&format!("root.{i}")),
                "Server Root Certificate",
            ));
        }
        Ok(payloads)
    }

    /// The enrollment profile for `whom` (unsigned, so that OTA can encrypt its payloads first).
    pub async fn enrollment_profile(&self, whom: &ChallengeFor<'_>) -> Result<Profile, Error> {
        let scep = self.scep_payload(whom).await?;
        let s = &self.settings;
        let mdm = MdmPayload {
            identifier: self.identifier("mdm"),
            server_url: s.server_url.clone(),
            check_in_url: s.check_in_url.clone(),
            topic: s.topic.clone(),
            identity_certificate_uuid: scep.uuid.clone(),
            sign_message: s.sign_message,
            check_out_when_removed: s.check_out_when_removed,
            access_rights: s.access_rights,
            server_capabilities: SERVER_CAPABILITIES.iter().map(|c| c.to_string()).collect(),
        };
        let mut profile = Profile::new(s.profile_identifier.clone(), "MDM Enrollment");
        profile.organization = s.organization.clone();
        profile.description = Some("Enrolls this device in mobile device management.".into());
        // Certificates are installed before the MDM payload that needs them (Apple's MDM best practices).
        profile.payloads = self.root_payloads()?;
        profile.payloads.push(scep.to_dictionary());
        profile.payloads.push(mdm.to_dictionary());
        Ok(profile)
    }

    /// The signed trust profile; `NotFound` when the TLS certificate is publicly trusted
    /// (Apple: "Do not return a URL that would generate an empty profile").
    pub fn trust_profile(&self) -> Result<Vec<u8>, Error> {
        if self.server_roots.is_empty() {
            return Err(Error::NotFound(
                "trust profile (no private root configured)".into(),
            ));
        }
        let mut profile = Profile::new(self.identifier("trust"), "Server Trust");
        profile.organization = self.settings.organization.clone();
        profile.description = Some("Configures your device to trust the MDM server.".into());
        profile.payloads = self.root_payloads()?;
        self.sign(&profile.to_xml()?)
    }
}
