//! Enrollment the way a device goes through it against the enrollment listener (TLS without a
//! client certificate), ending with an MDM identity certificate and the MDM payload's settings:
//!
//! - **OTA** ([`EnrollmentFlow::Ota`]): phase 1 `GET /enroll?token=…` answers a signed
//!   Profile Service payload (URL, Challenge); phase 2 posts the device's attributes with the
//!   Challenge, signed by its Apple device certificate, and gets a profile with a SCEP payload;
//!   SCEP gives the OTA identity; phase 3 posts the attributes again, signed by that identity,
//!   and gets the enrollment profile, its payloads encrypted to it; SCEP again gives the MDM
//!   identity (CN = UDID).
//! - **Direct profile** ([`EnrollmentFlow::DirectProfile`]): `GET /enroll/profile?token=…`
//!   answers the signed enrollment profile; SCEP gives the MDM identity. Its CN is a random
//!   identifier (the profile was made before the UDID was known): the server ties it to the
//!   device at Authenticate and holds it to that binding whatever the listener's
//!   `identity_policy`.
//!
//! Every failure is an [`EnrollmentError`] naming its [`Step`]; nothing panics on what the
//! server sends.
//!
//! # Layout
//! - [`error`]: [`EnrollmentError`] and [`Step`].
//! - `wire`: the HTTPS client (timeouts, bounded bodies).
//! - `profile`: signed profiles and the payloads a device reads.
//! - `scep`: the SCEP client.
//! - [`keys`]: the devices' RSA keys, made off the runtime or ahead of time.

pub mod error;
pub mod keys;
mod profile;
mod scep;
mod wire;

pub use error::{EnrollmentError, Step};

use super::device::{SimConfig, SimError, Transport};
use super::responder::DeviceFacts;
use mdm_pki::profile::encryption::decrypt_profile;
use mdm_pki::profile::service::DeviceAnswer;
use mdm_pki::profile::signing;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use plist::{Dictionary, Value};
use profile::{MdmSettings, ScepSettings};
use reqwest::Url;
use scep::Identity;
use wire::Wire;

/// `Content-Type` of a device's signed answer to a Profile Service.
const SIGNED_ANSWER: &str = "application/pkcs7-signature";

/// Which enrollment flow a simulated device goes through.
#[derive(Debug, Clone)]
pub enum EnrollmentFlow {
    /// Over the air, through a Profile Service.
    Ota {
        /// The enrollment token's secret.
        token: String,
        /// The device's "Apple device certificate" and key: phase 2 is signed with it, and the
        /// server believes it only if it chains to its configured device CA bundle.
        apple_device: (X509, PKey<Private>),
    },
    /// The direct enrollment profile.
    DirectProfile {
        /// The enrollment token's secret.
        token: String,
    },
}

/// Where a simulated device enrolls.
#[derive(Debug, Clone)]
pub struct EnrollmentServer {
    /// `https://host:port` of the enrollment listener.
    pub enrollment_url: String,
    /// PEM of the CA(s) the listener's TLS certificate chains to; nothing else is trusted.
    pub server_ca_pem: String,
}

/// What enrollment gave the device: its MDM identity and the MDM payload's settings.
#[derive(Clone)]
pub struct Enrolled {
    /// The MDM identity certificate, PEM.
    pub cert_pem: String,
    /// Its RSA key, PKCS#8 PEM.
    pub key_pem: String,
    /// ServerURL.
    pub server_url: String,
    /// CheckInURL (check-ins go to the ServerURL without it).
    pub check_in_url: Option<String>,
    /// Topic.
    pub topic: String,
    /// SignMessage: sign every message (`Mdm-Signature`) rather than rely on mTLS.
    pub sign_message: bool,
    /// The enrollment profile's PayloadIdentifier: removing that profile unenrolls the device.
    pub profile_identifier: String,
}

impl std::fmt::Debug for Enrolled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolled")
            .field("server_url", &self.server_url)
            .field("check_in_url", &self.check_in_url)
            .field("topic", &self.topic)
            .field("sign_message", &self.sign_message)
            .finish_non_exhaustive()
    }
}

impl Enrolled {
    /// The [`SimConfig`] for devices enrolled this way: server and paths from ServerURL and
    /// CheckInURL (which must be on the same origin), the topic, and the transport SignMessage
    /// asks for; every command answered.
    pub fn sim_config(&self, server_ca_pem: &str) -> Result<SimConfig, EnrollmentError> {
        let step = Step::MdmPayload;
        let server = wire::parse(step, &self.server_url)?;
        let check_in = match &self.check_in_url {
            Some(url) => wire::parse(step, url)?,
            None => server.clone(),
        };
        if check_in.origin() != server.origin() {
            return Err(EnrollmentError::unexpected(
                step,
                "CheckInURL and ServerURL are on different origins",
            ));
        }
        Ok(SimConfig {
            server: server.origin().ascii_serialization(),
            checkin_path: path_and_query(&check_in),
            server_path: path_and_query(&server),
            server_ca_pem: server_ca_pem.to_owned(),
            transport: if self.sign_message {
                Transport::Signature
            } else {
                Transport::Mtls
            },
            topic: self.topic.clone(),
            not_now_rate: 0.0,
            error_rate: 0.0,
        })
    }
}

fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

/// Enrolls the device described by `facts` at `server` through `flow`.
pub async fn enroll(
    server: &EnrollmentServer,
    flow: &EnrollmentFlow,
    facts: &DeviceFacts,
) -> Result<Enrolled, SimError> {
    let enrolled = match flow {
        EnrollmentFlow::Ota {
            token,
            apple_device,
        } => ota(server, token, apple_device, facts).await?,
        EnrollmentFlow::DirectProfile { token } => direct(server, token).await?,
    };
    Ok(enrolled)
}

async fn ota(
    server: &EnrollmentServer,
    token: &str,
    apple_device: &(X509, PKey<Private>),
    facts: &DeviceFacts,
) -> Result<Enrolled, EnrollmentError> {
    // Phase 1: the token buys a Profile Service payload.
    let step = Step::OtaProfileService;
    let wire = Wire::new(&server.server_ca_pem, step)?;
    let url = wire::endpoint(step, &server.enrollment_url, "/enroll", &[("token", token)])?;
    let answer = wire.get(step, "GET /enroll", url).await?;
    let service = profile::open(step, &answer.body)?;
    let kind = profile::string(step, &service, "PayloadType")?;
    if kind != profile::PROFILE_SERVICE {
        return Err(EnrollmentError::unexpected(
            step,
            format!("a {kind:?} payload instead of a Profile Service"),
        ));
    }
    let content = profile::content(step, &service)?;
    let service_url = wire::parse(step, &profile::string(step, content, "URL")?)?;
    let challenge = profile::string(step, content, "Challenge")?;

    // Phase 2: the attributes with the challenge, vouched for by the Apple device certificate.
    let step = Step::OtaDeviceAttributes;
    let attributes = DeviceAnswer {
        udid: facts.udid.clone(),
        challenge: Some(challenge),
        serial: Some(facts.serial_number.clone()),
        product: Some(facts.product_name.clone()),
        version: Some(facts.build_version.clone()),
        device_name: Some(facts.device_name.clone()),
        ..DeviceAnswer::default()
    };
    let body = sign_answer(step, &attributes, &apple_device.0, &apple_device.1)?;
    let answer = wire
        .post(
            step,
            "POST /enroll",
            service_url.clone(),
            SIGNED_ANSWER,
            body,
        )
        .await?;
    let scep_profile = profile::open(step, &answer.body)?;
    let payloads = profile::payloads(step, &scep_profile)?;
    let settings = ScepSettings::read(step, profile::find(step, &payloads, profile::SCEP)?)?;
    let ota_identity = scep::obtain(&wire, Step::OtaIdentity, &settings).await?;

    // Phase 3: the same attributes signed by the OTA identity; the payloads come encrypted.
    let step = Step::OtaEnrollmentProfile;
    let attributes = DeviceAnswer {
        challenge: None,
        ..attributes
    };
    let body = sign_answer(step, &attributes, &ota_identity.cert, &ota_identity.key)?;
    let answer = wire
        .post(step, "POST /enroll", service_url, SIGNED_ANSWER, body)
        .await?;
    let sealed = profile::open(step, &answer.body)?;
    let enrollment = decrypt_profile(sealed, &ota_identity.cert, &ota_identity.key)
        .map_err(|e| EnrollmentError::unexpected(step, format!("the payloads: {e}")))?;
    install(&wire, &enrollment).await
}

async fn direct(server: &EnrollmentServer, token: &str) -> Result<Enrolled, EnrollmentError> {
    let step = Step::DirectProfile;
    let wire = Wire::new(&server.server_ca_pem, step)?;
    let url = wire::endpoint(
        step,
        &server.enrollment_url,
        "/enroll/profile",
        &[("token", token)],
    )?;
    let answer = wire.get(step, "GET /enroll/profile", url).await?;
    let enrollment = profile::open(step, &answer.body)?;
    install(&wire, &enrollment).await
}

/// A profile received in an InstallProfile command, installed the way a device does when it
/// holds an MDM payload (the server renews the device's identity this way): its payloads
/// decrypted with the device's `current` identity, the new identity obtained through the SCEP
/// payload the MDM payload names. `None` for a profile without an MDM payload (an ordinary
/// configuration profile). The CA the SCEP server's TLS certificate chains to is
/// `server_ca_pem`.
pub async fn install_mdm_profile(
    server_ca_pem: &str,
    profile: &[u8],
    current: (&X509, &PKey<Private>),
) -> Result<Option<Enrolled>, EnrollmentError> {
    let step = Step::RenewalProfile;
    // Signed, as this server sends them; a device installs an unsigned one too.
    let opened = profile::open(step, profile).or_else(|_| {
        mdm_pki::profile::read_dictionary(profile)
            .map_err(|e| EnrollmentError::unexpected(step, format!("not a profile: {e}")))
    })?;
    let enrollment = decrypt_profile(opened, current.0, current.1)
        .map_err(|e| EnrollmentError::unexpected(step, format!("the payloads: {e}")))?;
    let payloads = profile::payloads(step, &enrollment)?;
    let enrolls = payloads
        .iter()
        .any(|p| p.get("PayloadType").and_then(Value::as_string) == Some(profile::MDM));
    if !enrolls {
        return Ok(None);
    }
    let wire = Wire::new(server_ca_pem, step)?;
    install(&wire, &enrollment).await.map(Some)
}

/// Installs an enrollment profile: the SCEP payload the MDM payload names gives the identity.
async fn install(wire: &Wire, enrollment: &Dictionary) -> Result<Enrolled, EnrollmentError> {
    let step = Step::MdmPayload;
    let payloads = profile::payloads(step, enrollment)?;
    let mdm = MdmSettings::read(step, profile::find(step, &payloads, profile::MDM)?)?;
    let scep_payload = profile::by_uuid(step, &payloads, &mdm.identity_uuid)?;
    let kind = scep_payload.get("PayloadType").and_then(Value::as_string);
    if kind != Some(profile::SCEP) {
        return Err(EnrollmentError::unexpected(
            step,
            format!("the identity payload is {kind:?}, not a SCEP payload"),
        ));
    }
    let settings = ScepSettings::read(step, scep_payload)?;
    let identity = scep::obtain(wire, Step::MdmIdentity, &settings).await?;
    let (cert_pem, key_pem) = pem(Step::MdmIdentity, &identity)?;
    let profile_identifier = profile::string(step, enrollment, "PayloadIdentifier")?;
    Ok(Enrolled {
        cert_pem,
        key_pem,
        server_url: mdm.server_url,
        check_in_url: mdm.check_in_url,
        topic: mdm.topic,
        sign_message: mdm.sign_message,
        profile_identifier,
    })
}

/// A device's answer to the Profile Service, signed (CMS, content attached).
fn sign_answer(
    step: Step,
    answer: &DeviceAnswer,
    cert: &X509,
    key: &PKey<Private>,
) -> Result<Vec<u8>, EnrollmentError> {
    let xml = answer
        .to_xml()
        .map_err(|e| EnrollmentError::device(step, e))?;
    signing::sign(&xml, cert, key, &[]).map_err(|e| EnrollmentError::device(step, e))
}

/// The identity as PEM: the certificate, and the key in PKCS#8 (what `reqwest::Identity`
/// reads besides OpenSSL).
fn pem(step: Step, identity: &Identity) -> Result<(String, String), EnrollmentError> {
    let text =
        |bytes: Vec<u8>| String::from_utf8(bytes).map_err(|e| EnrollmentError::device(step, e));
    let cert = identity
        .cert
        .to_pem()
        .map_err(|e| EnrollmentError::device(step, e))?;
    let key = identity
        .key
        .private_key_to_pem_pkcs8()
        .map_err(|e| EnrollmentError::device(step, e))?;
    Ok((text(cert)?, text(key)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enrolled(server_url: &str, check_in_url: Option<&str>) -> Enrolled {
        Enrolled {
            cert_pem: String::new(),
            key_pem: String::new(),
            server_url: server_url.into(),
            check_in_url: check_in_url.map(str::to_owned),
            topic: "com.apple.mgmt.External.t".into(),
            sign_message: true,
            profile_identifier: "com.example.enrollment".into(),
        }
    }

    #[test]
    fn the_sim_config_follows_the_mdm_payload() {
        let config = enrolled(
            "https://127.0.0.1:8443/mdm",
            Some("https://127.0.0.1:8443/checkin?x=1"),
        )
        .sim_config("CA")
        .expect("config");
        assert_eq!(config.server, "https://127.0.0.1:8443");
        assert_eq!(config.server_path, "/mdm");
        assert_eq!(config.checkin_path, "/checkin?x=1");
        assert_eq!(config.transport, Transport::Signature);
        assert_eq!(config.topic, "com.apple.mgmt.External.t");

        let no_check_in = enrolled("https://h/mdm", None)
            .sim_config("CA")
            .expect("config");
        assert_eq!(no_check_in.checkin_path, "/mdm");
    }

    #[test]
    fn urls_on_two_origins_are_refused() {
        let error = enrolled("https://a/mdm", Some("https://b/checkin"))
            .sim_config("CA")
            .expect_err("two origins");
        assert_eq!(error.step(), Step::MdmPayload);
    }
}
