//! Renewal profiles: how an enrolled device gets a new identity before its certificate expires
//! (docs/identities.md). Devices do not renew their MDM identity by themselves; the server sends
//! them, as an `InstallProfile` command, a fresh enrollment profile with the identifiers of the
//! installed one (so it replaces it) whose SCEP challenge is bound to the device and to the
//! certificate being replaced. The profile's payloads are encrypted to that certificate: a
//! command's payload is readable through the admin API and in the database, and a challenge
//! read there must not give anyone else a certificate that would take the device's binding.
//!
//! An identity from another CA (an operator's, or the CA of a server the device was migrated
//! from) is renewed the same way, once the edge has forwarded it: the new certificate comes from
//! this CA and names the device, which moves the device onto this server's CA.

use super::profiles::{ChallengeFor, Renewal};
use super::store::{BoundCertificate, Flow};
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

/// The identity a renewal replaces, whichever CA issued it.
struct Replaced {
    serial: String,
    sha256: Vec<u8>,
    not_after: i64,
    der: Vec<u8>,
    /// The CN and flow the new certificate gets, and the token it descends from.
    common_name: String,
    flow: Flow,
    ota_session_id: Option<String>,
    enrollment_token_id: Option<String>,
}

impl Provisioning {
    /// The renewal profile of the enrolled device channel `enrollment_id`. `NotFound` when it
    /// is not enrolled with an identity; `Conflict` when that identity cannot be renewed here.
    pub async fn renewal_profile(&self, enrollment_id: &str) -> Result<RenewalProfile, Error> {
        let profiles = self.profiles()?;
        let bound = self
            .store
            .bound_certificate(enrollment_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("{enrollment_id} (enrolled device channel)")))?;
        let old = replaced(enrollment_id, bound)?;
        if old.not_after <= now_ms() {
            return Err(Error::Conflict(format!(
                "{enrollment_id}'s identity {} has expired: the device cannot fetch commands any more (re-enroll it)",
                old.serial
            )));
        }
        let recipient = X509::from_der(&old.der)?;
        let profile = profiles
            .enrollment_profile(&ChallengeFor {
                common_name: &old.common_name,
                flow: old.flow,
                ota_session_id: old.ota_session_id.as_deref(),
                enrollment_token_id: old.enrollment_token_id.as_deref(),
                renewal: Some(Renewal {
                    enrollment_id,
                    serial: &old.serial,
                    sha256: &old.sha256,
                    until: old.not_after,
                }),
            })
            .await?;
        let profile = profiles.sign(&profile.to_encrypted_xml(&recipient)?)?;
        tracing::info!(enrollment = %enrollment_id, serial = %old.serial, "identity renewal profile issued");
        Ok(RenewalProfile {
            profile,
            serial: old.serial,
            not_after: old.not_after,
        })
    }
}

/// What the renewal replaces, or why it cannot be renewed.
fn replaced(enrollment_id: &str, bound: BoundCertificate) -> Result<Replaced, Error> {
    let refused = |why: String| Err(Error::Conflict(format!("{enrollment_id}'s identity {why}")));
    match bound {
        BoundCertificate::Issued(cert) => {
            let cert = *cert;
            if cert.revoked_at.is_some() {
                return refused(format!("{} is revoked", cert.serial));
            }
            let Some(der) = cert.der else {
                return refused(format!(
                    "{} was issued before certificates were kept, so no profile can be encrypted to it (re-enroll the device)",
                    cert.serial
                ));
            };
            Ok(Replaced {
                serial: cert.serial,
                sha256: cert.sha256,
                not_after: cert.not_after,
                der,
                common_name: cert.common_name,
                flow: cert.flow,
                ota_session_id: cert.ota_session_id,
                enrollment_token_id: cert.enrollment_token_id,
            })
        }
        // Moved onto this CA: the new certificate names the device, as OTA's do.
        BoundCertificate::Foreign(cert) => Ok(Replaced {
            serial: cert.serial,
            sha256: cert.sha256,
            not_after: cert.not_after,
            der: cert.der,
            common_name: enrollment_id.to_owned(),
            flow: Flow::Enrollment,
            ota_session_id: None,
            enrollment_token_id: None,
        }),
        BoundCertificate::Unknown => refused(
            "comes from another CA and was bound before the edge forwarded certificates: it is renewed once the device has been admitted again".into(),
        ),
    }
}
