//! Over-the-air enrollment through a Profile Service (Apple's over-the-air enrollment), in three phases at one
//! URL:
//!
//! 1. `GET /enroll?token=…`: the token is used; the device gets a Profile Service payload asking
//!    for its attributes, with a challenge that names this enrollment.
//! 2. The device posts its attributes signed by its Apple device certificate: the signature must
//!    chain to the device CA bundle and the challenge must be this enrollment's, unused and
//!    unexpired; the enrollment is bound to the UDID and the device gets a SCEP profile whose
//!    challenge is bound to that UDID (so the certificate's CN is the UDID).
//! 3. The device posts again, signed by that new identity: it gets the enrollment profile, its
//!    payloads encrypted to that identity.

use super::ca::DeviceCa;
use super::profiles::{random_secret, ChallengeFor, ProfileFactory};
use super::scep::secret_digest;
use super::store::{Flow, NewSession, PkiStore};
use super::tokens;
use crate::error::Error;
use mdm_pki::pki;
use mdm_pki::profile::chain::DeviceCaBundle;
use mdm_pki::profile::service::{DeviceAnswer, ProfileService};
use mdm_pki::profile::signing::{self, Opened};
use mdm_pki::profile::Profile;
use openssl::asn1::Asn1Time;
use service_kit::now_ms;
use std::sync::Arc;

/// Clock skew allowed on a fresh identity's notBefore in phase 3.
const SKEW_SECS: i64 = 300;

/// The OTA profile service.
#[derive(Debug, Clone)]
pub struct OtaService {
    store: PkiStore,
    ca: Arc<DeviceCa>,
    profiles: Arc<ProfileFactory>,
    device_cas: DeviceCaBundle,
}

impl OtaService {
    /// The service, trusting `device_cas` for phase 2.
    pub fn new(
        store: PkiStore,
        ca: Arc<DeviceCa>,
        profiles: Arc<ProfileFactory>,
        device_cas: DeviceCaBundle,
    ) -> OtaService {
        OtaService {
            store,
            ca,
            profiles,
            device_cas,
        }
    }

    /// Phase 1: uses the token, starts an enrollment, answers the signed Profile Service payload.
    pub async fn start(&self, token: &str) -> Result<Vec<u8>, Error> {
        let used = tokens::redeem(&self.store, token).await?;
        let challenge = random_secret()?;
        let now = now_ms();
        let ttl_ms =
            i64::try_from(self.profiles.settings().challenge_ttl_secs).unwrap_or(3600) * 1000;
        let session_id = uuid::Uuid::new_v4().to_string();
        self.store
            .create_session(
                &NewSession {
                    id: session_id.clone(),
                    challenge_sha256: secret_digest(&challenge)?,
                    enrollment_token_id: used.id.clone(),
                    user_name: used.user_name.clone(),
                    expires_at: now + ttl_ms,
                },
                now,
            )
            .await?;
        tracing::info!(session = %session_id, token = %used.id, "OTA enrollment started");
        let xml = ProfileService {
            identifier: self.profiles.identifier("profile-service"),
            display_name: "MDM Enrollment".into(),
            organization: self.profiles.settings().organization.clone(),
            url: self.profiles.enroll_url(),
            challenge,
        }
        .to_xml()?;
        self.profiles.sign(&xml)
    }

    /// Phases 2 and 3: a device's signed answer. Which phase it is follows from the signer.
    pub async fn answer(&self, signed_body: &[u8]) -> Result<Vec<u8>, Error> {
        let opened = signing::open(signed_body)?;
        let answer = DeviceAnswer::parse(&opened.content)?;
        if self.ca.issued(&opened.signer) {
            self.deliver(&opened, &answer).await
        } else {
            self.identify(&opened, &answer).await
        }
    }

    /// Phase 2: the Apple device certificate vouches for the UDID.
    async fn identify(&self, opened: &Opened, answer: &DeviceAnswer) -> Result<Vec<u8>, Error> {
        self.device_cas
            .verify(&opened.signer, &opened.certificates, now_ms() / 1000)?;
        let challenge = answer
            .challenge
            .as_deref()
            .ok_or_else(|| Error::OtaRefused("the answer carries no CHALLENGE".into()))?;
        let session = self
            .store
            .verify_session(
                &secret_digest(challenge)?,
                &answer.udid,
                answer.serial.as_deref(),
                answer.product.as_deref(),
                now_ms(),
            )
            .await?
            .ok_or_else(|| Error::OtaRefused("unknown, used or expired challenge".into()))?;
        let scep = self
            .profiles
            .scep_payload(&ChallengeFor {
                common_name: &answer.udid,
                flow: Flow::Ota,
                ota_session_id: Some(&session.id),
                enrollment_token_id: Some(&session.enrollment_token_id),
                renewal: None,
            })
            .await?;
        tracing::info!(session = %session.id, udid = %answer.udid, "OTA phase 2: device identified");
        let mut profile = Profile::new(self.profiles.identifier("ota-identity"), "Device Identity");
        profile.organization = self.profiles.settings().organization.clone();
        profile.payloads = vec![scep.to_dictionary()];
        self.profiles.sign(&profile.to_xml()?)
    }

    /// Phase 3: the identity from phase 2 asks for the enrollment profile.
    async fn deliver(&self, opened: &Opened, answer: &DeviceAnswer) -> Result<Vec<u8>, Error> {
        let signer = &opened.signer;
        let record = self
            .store
            .certificate_by_sha256(&pki::sha256(signer)?)
            .await?
            .ok_or_else(|| Error::OtaRefused("the signer is not in the registry".into()))?;
        if record.revoked_at.is_some() {
            return Err(Error::Revoked(record.serial));
        }
        if record.flow != Flow::Ota {
            return Err(Error::OtaRefused(
                "the signer is not an OTA identity".into(),
            ));
        }
        let now = now_ms() / 1000;
        if signer.not_before() > Asn1Time::from_unix(now + SKEW_SECS)?
            || signer.not_after() < Asn1Time::from_unix(now)?
        {
            return Err(Error::OtaRefused(
                "the OTA identity is outside its validity".into(),
            ));
        }
        if record.common_name != answer.udid {
            return Err(Error::OtaRefused(format!(
                "signed by the identity of {:?}, not of {:?}",
                record.common_name, answer.udid
            )));
        }
        let session_id = record.ota_session_id.clone().unwrap_or_default();
        let session = self
            .store
            .session(&session_id)
            .await?
            .filter(|s| s.udid.as_deref() == Some(answer.udid.as_str()) && s.expires_at > now_ms())
            .ok_or_else(|| Error::OtaRefused("the enrollment has expired".into()))?;
        let profile = self
            .profiles
            .enrollment_profile(&ChallengeFor {
                common_name: &answer.udid,
                flow: Flow::Enrollment,
                ota_session_id: Some(&session.id),
                enrollment_token_id: Some(&session.enrollment_token_id),
                renewal: None,
            })
            .await?;
        tracing::info!(session = %session.id, udid = %answer.udid, "OTA phase 3: enrollment profile delivered");
        self.profiles.sign(&profile.to_encrypted_xml(signer)?)
    }
}
