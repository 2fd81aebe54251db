//! The development PKI: made on the first run, reused on later ones, so that devices enrolled
//! yesterday still connect and the push topic stays the same (push-svc refuses a certificate
//! for another topic). A certificate is issued again only when it is missing, no longer signed
//! by its CA (the CA files were replaced), or close to expiry; a CA is made only when missing.
//!
//! It includes a simulated Apple device CA, for OTA enrollment by simulated devices: enroll-svc's
//! `enrollment.device_ca_file` (the anchors OTA phase 2 signatures must chain to) *replaces*
//! Apple's compiled-in device CAs rather than adding to them, so the bundle written for it holds
//! Apple's public device CAs as well as the simulated one, and a real device is believed as
//! before. Only `mdmctl dev` trusts the simulated CA; a production enroll-svc never names it.

use super::certs::{self, KeyedCert};
use super::files;
use super::layout::{Layout, PemPair};
use anyhow::Context;
use mdm_pki::profile::chain::APPLE_DEVICE_CAS;

/// Names the server certificate of `mdmctl dev` is valid for: this machine.
pub const SERVER_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// Names the mock APNs's certificate is valid for, its compose host name included.
const APNS_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "mock-apns"];
/// CN of the device CA.
const DEVICE_CA_NAME: &str = "MDM Development Device CA";
/// CN of the CA standing in for Apple's push infrastructure.
const APNS_CA_NAME: &str = "MDM Development Mock APNs CA";
/// CN of the CA standing in for Apple's device CA.
const APPLE_DEVICE_CA_NAME: &str = "MDM Development Simulated Apple Device CA";

/// What the development server's processes are given.
#[derive(Debug)]
pub struct DevPki {
    /// Issues device identities; signs the server certificate.
    pub device_ca: KeyedCert,
    /// The proxy's TLS certificate.
    pub server: KeyedCert,
    /// Issues the mock APNs's certificate and the push certificate.
    pub apns_ca: KeyedCert,
    /// The mock APNs's TLS certificate.
    pub apns_server: KeyedCert,
    /// The MDM push certificate.
    pub push: KeyedCert,
    /// The push topic (the push certificate's UID).
    pub topic: String,
    /// Issues simulated devices' "Apple device certificates" (OTA phase 2).
    pub apple_device_ca: KeyedCert,
    /// What was made on this run, for the log ("device CA", ...); empty when all was reused.
    pub made: Vec<&'static str>,
}

impl DevPki {
    /// Loads the PKI under `layout`, making whatever is missing or stale.
    ///
    /// The server certificate is valid for `server_names` (IP addresses or DNS names), and is
    /// issued again whenever they change.
    pub fn load_or_create(layout: &Layout, server_names: &[&str]) -> anyhow::Result<DevPki> {
        let mut made = Vec::new();
        let device_ca = ca(
            &layout.device_ca(),
            DEVICE_CA_NAME,
            true,
            "device CA",
            &mut made,
        )?;
        let server = leaf(
            &layout.server(),
            &device_ca,
            "server certificate",
            &mut made,
            |cert| certs::names_of(&cert.cert) == server_names,
            |ca| certs::server(ca, server_names),
        )?;
        let apns_ca = ca(
            &layout.apns_ca(),
            APNS_CA_NAME,
            false,
            "mock APNs CA",
            &mut made,
        )?;
        let apns_server = leaf(
            &layout.apns_server(),
            &apns_ca,
            "mock APNs certificate",
            &mut made,
            |cert| certs::names_of(&cert.cert) == APNS_NAMES,
            |ca| certs::server(ca, &APNS_NAMES),
        )?;
        // A reissued push certificate keeps its topic: devices enrolled under it stay reachable.
        let existing_topic = KeyedCert::load(&layout.push())
            .ok()
            .and_then(|push| certs::topic_of(&push.cert));
        let topic = existing_topic.unwrap_or_else(new_topic);
        let push = leaf(
            &layout.push(),
            &apns_ca,
            "push certificate",
            &mut made,
            |_| true,
            |ca| certs::push(ca, &topic),
        )?;
        let apple_device_ca = ca(
            &layout.apple_device_ca(),
            APPLE_DEVICE_CA_NAME,
            false,
            "simulated Apple device CA",
            &mut made,
        )?;
        // Derived from the CA, so written on every run.
        files::write_public(
            &layout.ota_device_cas(),
            ota_device_cas(&apple_device_ca)?.as_bytes(),
        )?;
        Ok(DevPki {
            device_ca,
            server,
            apns_ca,
            apns_server,
            push,
            topic,
            apple_device_ca,
            made,
        })
    }
}

/// What enroll-svc's `enrollment.device_ca_file` names: Apple's public device CAs, then the
/// simulated one (the setting replaces the compiled-in CAs, so both are listed).
pub fn ota_device_cas(simulated: &KeyedCert) -> anyhow::Result<String> {
    let mut bundle = APPLE_DEVICE_CAS.to_owned();
    if !bundle.ends_with('\n') {
        bundle.push('\n');
    }
    bundle.push_str(&simulated.cert_pem()?);
    Ok(bundle)
}

/// A push topic in the form Apple's MDM push certificates carry.
pub fn new_topic() -> String {
    format!("com.apple.mgmt.External.{}", uuid::Uuid::new_v4())
}

/// The CA at `pair`, made and saved when missing. An unreadable CA is an error rather than
/// replaced: replacing it would orphan every certificate it issued.
fn ca(
    pair: &PemPair,
    common_name: &str,
    rsa: bool,
    what: &'static str,
    made: &mut Vec<&'static str>,
) -> anyhow::Result<KeyedCert> {
    if pair.cert.exists() || pair.key.exists() {
        return KeyedCert::load(pair).with_context(|| {
            format!(
                "the {what} cannot be reused; remove {} and {} to make a new one",
                pair.cert.display(),
                pair.key.display()
            )
        });
    }
    let ca = certs::new_ca(common_name, rsa)?;
    ca.save(pair)?;
    made.push(what);
    Ok(ca)
}

/// The leaf at `pair` when it is still good under `ca` and `fits` what is asked of it, else a
/// new one from `issue`.
fn leaf(
    pair: &PemPair,
    ca: &KeyedCert,
    what: &'static str,
    made: &mut Vec<&'static str>,
    fits: impl FnOnce(&KeyedCert) -> bool,
    issue: impl FnOnce(&KeyedCert) -> anyhow::Result<KeyedCert>,
) -> anyhow::Result<KeyedCert> {
    if let Ok(existing) = KeyedCert::load(pair) {
        if existing.is_current_under(ca) && fits(&existing) {
            return Ok(existing);
        }
    }
    let fresh = issue(ca).with_context(|| format!("issuing the {what}"))?;
    fresh.save(pair)?;
    made.push(what);
    Ok(fresh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn made_once_then_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::new(dir.path()).expect("layout");
        layout.create().expect("dirs");
        let first = DevPki::load_or_create(&layout, &SERVER_NAMES).expect("first run");
        assert_eq!(first.made.len(), 6, "{:?}", first.made);
        assert!(first.topic.starts_with("com.apple.mgmt.External."));
        let mode = std::fs::metadata(layout.device_ca().key)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        let second = DevPki::load_or_create(&layout, &SERVER_NAMES).expect("second run");
        assert!(second.made.is_empty(), "{:?}", second.made);
        assert_eq!(second.topic, first.topic);
        let fingerprint = |pki: &DevPki| pki.device_ca.sha256_hex().expect("hash");
        assert_eq!(fingerprint(&second), fingerprint(&first));
        let apple = |pki: &DevPki| pki.apple_device_ca.sha256_hex().expect("hash");
        assert_eq!(apple(&second), apple(&first));
    }

    #[test]
    fn the_ota_bundle_trusts_apple_and_the_simulated_ca() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::new(dir.path()).expect("layout");
        layout.create().expect("dirs");
        let pki = DevPki::load_or_create(&layout, &SERVER_NAMES).expect("pki");
        let pem = std::fs::read(layout.ota_device_cas()).expect("the bundle is written");
        let bundle = mdm_pki::profile::chain::DeviceCaBundle::from_pem(&pem).expect("a bundle");
        // Apple Root CA and the simulated CA are roots; Apple's two intermediates are not.
        assert_eq!(bundle.counts(), (2, 2));
        let leaf = |ca: &KeyedCert, name: &str| {
            let ca = std::sync::Arc::new((ca.cert.clone(), ca.key.clone()));
            devsim::sim::fleet::issue_identity(&ca, name)
                .expect("leaf")
                .0
        };
        let device = leaf(&pki.apple_device_ca, "SIMULATED-UDID");
        bundle
            .verify(&device, &[], unix_now())
            .expect("a simulated device certificate chains to the bundle");
        let other = certs::new_ca("elsewhere", false).expect("ca");
        assert!(bundle
            .verify(&leaf(&other, "STRANGER"), &[], unix_now())
            .is_err());
    }

    fn unix_now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default()
    }

    #[test]
    fn leaves_of_a_replaced_ca_are_reissued_and_the_topic_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::new(dir.path()).expect("layout");
        layout.create().expect("dirs");
        let first = DevPki::load_or_create(&layout, &SERVER_NAMES).expect("first run");
        for pair in [layout.apns_ca(), layout.server()] {
            std::fs::remove_file(pair.cert).expect("remove");
            std::fs::remove_file(pair.key).expect("remove");
        }
        let second = DevPki::load_or_create(&layout, &SERVER_NAMES).expect("second run");
        assert_eq!(
            second.made,
            [
                "server certificate",
                "mock APNs CA",
                "mock APNs certificate",
                "push certificate"
            ]
        );
        assert_eq!(second.topic, first.topic);
        assert!(second.push.is_current_under(&second.apns_ca));
    }

    #[test]
    fn the_server_certificate_follows_its_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::new(dir.path()).expect("layout");
        layout.create().expect("dirs");
        DevPki::load_or_create(&layout, &SERVER_NAMES).expect("first");
        let names = ["mdm.example.com", "127.0.0.1"];
        let renamed = DevPki::load_or_create(&layout, &names).expect("renamed");
        assert_eq!(renamed.made, ["server certificate"]);
        assert_eq!(certs::names_of(&renamed.server.cert), names);
        let again = DevPki::load_or_create(&layout, &names).expect("again");
        assert!(again.made.is_empty(), "{:?}", again.made);
    }

    #[test]
    fn an_unreadable_ca_is_not_silently_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::new(dir.path()).expect("layout");
        layout.create().expect("dirs");
        std::fs::write(layout.device_ca().cert, "not a certificate").expect("write");
        let error = DevPki::load_or_create(&layout, &SERVER_NAMES).expect_err("refused");
        assert!(
            format!("{error:#}").contains("cannot be reused"),
            "{error:#}"
        );
    }
}
