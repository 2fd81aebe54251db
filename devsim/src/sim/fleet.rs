//! A fleet: many simulated devices made and enrolled together, some of them Macs with user
//! channels. Identities come from the real enrollment flows (OTA, direct profile) or, for pure
//! load, are issued up front by the device CA the server trusts.

use super::device::{SimConfig, SimDevice, SimError, SimUser};
use super::enroll::{enroll, EnrollmentFlow, EnrollmentServer};
use super::responder::DeviceFacts;
use super::stats::Stats;
use mdm_pki::pki::{self, IdentityTemplate};
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The name of the whole-enrollment series in [`Stats`] (every request of the flow, SCEP
/// included, then Authenticate and TokenUpdate).
pub const ENROLLMENT: &str = "enrollment";
/// How long before now certificates issued here start to be valid (clock skew).
const BACKDATE: Duration = Duration::from_secs(3600);
/// How long they stay valid.
const VALIDITY: Duration = Duration::from_secs(30 * 86_400);

/// A certificate and its key.
pub type KeyPair = Arc<(X509, PKey<Private>)>;

/// A [`KeyPair`] from a PEM certificate and a PEM key.
pub fn key_pair(cert_pem: &str, key_pem: &str) -> Result<KeyPair, SimError> {
    let certificate = X509::from_pem(cert_pem.as_bytes())
        .map_err(|e| SimError::Identity(format!("certificate: {e}")))?;
    let key = PKey::private_key_from_pem(key_pem.as_bytes())
        .map_err(|e| SimError::Identity(format!("key: {e}")))?;
    Ok(Arc::new((certificate, key)))
}

/// Where the devices' identities come from.
#[derive(Clone)]
pub enum Provisioning {
    /// Issued here by a device CA the server trusts (CN = UDID, a P-256 key so that thousands
    /// are made in seconds); only Authenticate and TokenUpdate reach the server.
    Preissued {
        /// The device CA.
        ca: KeyPair,
    },
    /// The direct enrollment profile, fetched with `token`.
    DirectProfile {
        /// The enrollment listener.
        server: EnrollmentServer,
        /// A multi-use enrollment token's secret.
        token: String,
    },
    /// Over the air with `token`; each device's "Apple device certificate" is issued by
    /// `apple_device_ca`, which the server must trust for phase 2.
    Ota {
        /// The enrollment listener.
        server: EnrollmentServer,
        /// A multi-use enrollment token's secret.
        token: String,
        /// Stands in for Apple's device CA.
        apple_device_ca: KeyPair,
    },
}

/// What to make.
#[derive(Debug, Clone)]
pub struct FleetSpec {
    /// Devices (device channels).
    pub devices: usize,
    /// How many of them (the first ones) are Macs.
    pub macs: usize,
    /// User channels on each Mac.
    pub users_per_mac: usize,
    /// Number of the first device (names and serial numbers follow it).
    pub first: usize,
    /// Start of every UDID, to tell fleets apart in the server's lists.
    pub udid_prefix: String,
    /// Enrollments in flight at once.
    pub concurrency: usize,
    /// Devices resume their TLS sessions on new connections (abbreviated handshakes) instead
    /// of a full handshake each time.
    pub resume_tls: bool,
}

/// Makes and enrolls the fleet: device channels first, each Mac's user channels right after
/// it. Devices that failed to enroll are left out and their reasons answered.
pub async fn enroll_fleet(
    spec: &FleetSpec,
    provisioning: &Provisioning,
    base: &Arc<SimConfig>,
    stats: &Stats,
) -> (Vec<SimDevice>, Vec<String>) {
    let gate = Arc::new(Semaphore::new(spec.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for index in spec.first..spec.first + spec.devices {
        let Ok(permit) = Arc::clone(&gate).acquire_owned().await else {
            break;
        };
        let is_mac = index - spec.first < spec.macs;
        let resume_tls = spec.resume_tls;
        let users = if is_mac { spec.users_per_mac } else { 0 };
        let udid = format!(
            "{}{:08X}-{}",
            spec.udid_prefix,
            index,
            &uuid::Uuid::new_v4().simple().to_string().to_uppercase()[..16]
        );
        let (provisioning, base, stats) = (provisioning.clone(), Arc::clone(base), stats.clone());
        tasks.spawn(async move {
            let _permit = permit;
            let started = Instant::now();
            let enrolled = one(
                index,
                &udid,
                (is_mac, users, resume_tls),
                &provisioning,
                base,
                &stats,
            )
            .await;
            stats.record(ENROLLMENT, started.elapsed(), enrolled.is_ok());
            (index, enrolled.map_err(|e| format!("{udid}: {e}")))
        });
    }
    let mut done = Vec::new();
    let mut failures = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, Ok(channels))) => done.push((index, channels)),
            Ok((_, Err(why))) => failures.push(why),
            Err(panicked) => failures.push(format!("enrollment task: {panicked}")),
        }
    }
    done.sort_by_key(|(index, _)| *index);
    (done.into_iter().flat_map(|(_, c)| c).collect(), failures)
}

/// One device and its user channels, enrolled.
async fn one(
    index: usize,
    udid: &str,
    (is_mac, users, resume_tls): (bool, usize, bool),
    provisioning: &Provisioning,
    base: Arc<SimConfig>,
    stats: &Stats,
) -> Result<Vec<SimDevice>, SimError> {
    let facts = if is_mac {
        DeviceFacts::mac(udid, index)
    } else {
        DeviceFacts::iphone(udid, index)
    };
    let (cert_pem, key_pem, config, profile) = match provisioning {
        Provisioning::Preissued { ca } => {
            let (cert, key) = issue(ca, udid)?;
            (cert, key, base, None)
        }
        Provisioning::DirectProfile { server, token } => {
            let flow = EnrollmentFlow::DirectProfile {
                token: token.clone(),
            };
            let enrolled = enroll(server, &flow, &facts).await?;
            let config = from_profile(&enrolled.sim_config(&base.server_ca_pem)?, &base);
            let profile = Some(enrolled.profile_identifier);
            (enrolled.cert_pem, enrolled.key_pem, config, profile)
        }
        Provisioning::Ota {
            server,
            token,
            apple_device_ca,
        } => {
            let flow = EnrollmentFlow::Ota {
                token: token.clone(),
                apple_device: issue_identity(
                    apple_device_ca,
                    &format!("Apple iPhone Device {udid}"),
                )?,
            };
            let enrolled = enroll(server, &flow, &facts).await?;
            let config = from_profile(&enrolled.sim_config(&base.server_ca_pem)?, &base);
            let profile = Some(enrolled.profile_identifier);
            (enrolled.cert_pem, enrolled.key_pem, config, profile)
        }
    };
    let mut device = SimDevice::new(index, udid, &cert_pem, &key_pem, config)?
        .with_facts(facts)
        .with_stats(stats.clone());
    if let Some(profile) = profile {
        device = device.with_enrollment_profile(&profile);
    }
    if resume_tls {
        device = device.resume_tls_sessions()?;
    }
    device.enroll().await?;
    let mut channels = Vec::with_capacity(1 + users);
    for number in 1..=users {
        let mut user = device.user_channel(SimUser::new(number))?;
        user.enroll().await?;
        channels.push(user);
    }
    channels.insert(0, device);
    Ok(channels)
}

/// Where the profile sends the device, with the simulation's own choices (transport, NotNow
/// and Error rates) kept.
fn from_profile(profile: &SimConfig, base: &SimConfig) -> Arc<SimConfig> {
    Arc::new(SimConfig {
        transport: base.transport,
        not_now_rate: base.not_now_rate,
        error_rate: base.error_rate,
        ..profile.clone()
    })
}

/// A client certificate for `common_name` from `ca`, with a new P-256 key; both PEM.
pub fn issue(ca: &KeyPair, common_name: &str) -> Result<(String, String), SimError> {
    let failed = |e: openssl::error::ErrorStack| SimError::Identity(e.to_string());
    let (cert, key) = issue_identity(ca, common_name)?;
    let cert_pem = cert.to_pem().map_err(failed)?;
    let key_pem = key.private_key_to_pem_pkcs8().map_err(failed)?;
    Ok((
        String::from_utf8_lossy(&cert_pem).into_owned(),
        String::from_utf8_lossy(&key_pem).into_owned(),
    ))
}

/// A client certificate for `common_name` from `ca`, with a new P-256 key.
pub fn issue_identity(ca: &KeyPair, common_name: &str) -> Result<(X509, PKey<Private>), SimError> {
    let failed = |e: openssl::error::ErrorStack| SimError::Identity(e.to_string());
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(failed)?;
    let key = EcKey::generate(&group)
        .and_then(PKey::from_ec_key)
        .map_err(failed)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let subject = pki::name(common_name, Some("mdm-devsim")).map_err(failed)?;
    let cert = pki::issue_identity(
        &ca.0,
        &ca.1,
        &key,
        IdentityTemplate {
            subject: &subject,
            not_before: seconds(now.saturating_sub(BACKDATE)),
            not_after: seconds(now + VALIDITY),
        },
    )
    .map_err(failed)?;
    Ok((cert, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_identities_name_their_device_and_chain_to_the_ca() {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("curve");
        let ca_key = PKey::from_ec_key(EcKey::generate(&group).expect("key")).expect("key");
        let name = pki::name("Test Device CA", None).expect("name");
        let ca = pki::self_signed_ca(&ca_key, &name, 1).expect("ca");
        let ca: KeyPair = Arc::new((ca, ca_key));
        let (cert, _) = issue_identity(&ca, "UDID-1").expect("identity");
        assert_eq!(
            pki::common_name(cert.subject_name()).as_deref(),
            Some("UDID-1")
        );
        let ca_key = ca.0.public_key().expect("public key");
        assert!(cert.verify(&ca_key).expect("verify"));
        let (cert_pem, key_pem) = issue(&ca, "UDID-2").expect("PEM identity");
        assert!(cert_pem.contains("BEGIN CERTIFICATE") && key_pem.contains("PRIVATE KEY"));
    }
}
