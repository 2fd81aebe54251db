//! Renewal profiles: how an enrolled device gets a new identity before its certificate expires
//! (docs/identities.md). Devices do not renew their MDM identity by themselves; the server sends
//! them, as an `InstallProfile` command, a fresh enrollment profile with the identifiers of the
//! installed one (so it replaces it) whose SCEP challenge is bound to the device and to the
//! certificate being replaced. The profile's payloads are encrypted to that certificate: a
//! command's payload is readable through the admin API and in the database, and a challenge
//! read there must not give anyone else a certificate that would take the device's binding.

use super::profiles::{ChallengeFor, Renewal};
use super::Provisioning;
use crate::error::Error;
use openssl::x509::X509;
use service_kit::now_ms;

/// A renewal profile and the certificate it replaces.
#[derive(Debug, Clone)]
pub struct RenewalProfile {
    /// Signed, payloads encrypted to the current identity.
    pub profile: Vec<u8>,
    /// Serial of the certificate it replaces.
    pub serial: String,
    /// Its notAfter (Unix ms).
    pub not_after: i64,
}

impl Provisioning {
    /// The renewal profile of the enrolled device channel `enrollment_id`. `NotFound` when it
    /// is not enrolled with an identity; `Conflict` when that identity cannot be renewed here.
    pub async fn renewal_profile(&self, enrollment_id: &str) -> Result<RenewalProfile, Error> {
        let profiles = self.profiles()?;
        let current = self
            .store
            .bound_certificate(enrollment_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("{enrollment_id} (enrolled device channel)")))?;
        let Some(cert) = current else {
            return Err(Error::Conflict(format!(
                "{enrollment_id}'s identity was not issued by this server's CA: it cannot be renewed by profile (re-enroll the device)"
            )));
        };
        let now = now_ms();
        if cert.revoked_at.is_some() {
            return Err(Error::Conflict(format!(
                "{enrollment_id}'s identity {} is revoked",
                cert.serial
            )));
        }
        if cert.not_after <= now {
            return Err(Error::Conflict(format!(
                "{enrollment_id}'s identity {} has expired: the device cannot fetch commands any more (re-enroll it)",
                cert.serial
            )));
        }
        let Some(der) = &cert.der else {
            return Err(Error::Conflict(format!(
                "{enrollment_id}'s identity {} was issued before certificates were kept, so no profile can be encrypted to it (re-enroll the device)",
                cert.serial
            )));
        };
        let recipient = X509::from_der(der)?;
        let profile = profiles
            .enrollment_profile(&ChallengeFor {
                common_name: &cert.common_name,
                flow: cert.flow,
                ota_session_id: cert.ota_session_id.as_deref(),
                enrollment_token_id: cert.enrollment_token_id.as_deref(),
                renewal: Some(Renewal {
                    enrollment_id,
                    serial: &cert.serial,
                    until: cert.not_after,
                }),
            })
            .await?;
        let profile = profiles.sign(&profile.to_encrypted_xml(&recipient)?)?;
        tracing::info!(enrollment = %enrollment_id, serial = %cert.serial, "identity renewal profile issued");
        Ok(RenewalProfile {
            profile,
            serial: cert.serial,
            not_after: cert.not_after,
        })
    }
}
