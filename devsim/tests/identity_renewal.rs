//! Identity renewal on a real stack (docs/identities.md). Identities are issued for
//! [`VALIDITY_SECS`] and announced [`NOTICE_SECS`] before expiry, so that a year's life runs in
//! seconds with real certificates and real expiry: a simulated device enrolled through the
//! direct profile and SCEP is sent its renewal profile as an InstallProfile, installs it (SCEP
//! with the challenge only it can decrypt), switches certificate, and its first request with the
//! new one moves the binding; the old certificate is refused (403) from then on, and the device
//! keeps completing command cycles after the old certificate has expired. A device that answers
//! the InstallProfile with an error fails its renewal: the API, an event and a metric say so.
//! A device migrated from another server, with a certificate from that server's CA, is moved
//! onto this server's CA the same way.
//!
//! Run: `cargo build --workspace --bins && cargo test -p devsim --test identity_renewal`.

use base64::Engine as _;
use devsim::admin::AdminApi;
use devsim::sim::{
    enroll, DeviceFacts, Enrolled, EnrollmentFlow, EnrollmentServer, SimConfig, SimDevice,
    SimError, Transport,
};
use mdm_api::commands::DeliveryStatus;
use openssl::asn1::Asn1Time;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::messages;
use testkit::stack::{scrape, ADMIN_TOKEN};
use testkit::{ClientCertOptions, Engine, Stack, StackOptions, TestCa};

/// An identity's life.
const VALIDITY_SECS: u64 = 24;
/// It is renewed once it has less than this left (after 10 s).
const NOTICE_SECS: u64 = 14;

struct World {
    stack: Stack,
    api: AdminApi,
}

async fn world(engine: Engine) -> Option<World> {
    let options = StackOptions {
        enroll_env: vec![
            ("MDM_ENROLL_CA__VALIDITY_SECS", VALIDITY_SECS.to_string()),
            (
                "MDM_ENROLL_IDENTITIES__EXPIRY_NOTICE_SECS",
                NOTICE_SECS.to_string(),
            ),
            ("MDM_ENROLL_IDENTITIES__SWEEP_SECS", "1".into()),
        ],
        admin_env: vec![("MDM_ADMIN_EVENTS__POLL_MS", "100".into())],
        ..StackOptions::new(engine)
    };
    let Some(stack) = Stack::start(options).await.expect("the stack starts") else {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
        return None;
    };
    let api = AdminApi::new(&stack.admin_url, ADMIN_TOKEN, &stack.device_ca.cert_pem())
        .expect("admin client");
    Some(World { stack, api })
}

impl World {
    /// An identity through the direct profile and SCEP.
    async fn identity(&self, udid: &str) -> Enrolled {
        let server = EnrollmentServer {
            enrollment_url: self.stack.enrollment_url.clone(),
            server_ca_pem: self.stack.device_ca.cert_pem(),
        };
        let flow = EnrollmentFlow::DirectProfile {
            token: self.api.enrollment_token(udid, 1).await.expect("token"),
        };
        enroll(&server, &flow, &DeviceFacts::iphone(udid, 1))
            .await
            .unwrap_or_else(|e| panic!("{udid} enrolls: {e}\n{}", self.stack.logs()))
    }

    fn device(&self, udid: &str, identity: &Enrolled) -> SimDevice {
        let config = identity
            .sim_config(&self.stack.device_ca.cert_pem())
            .expect("a config from the MDM payload");
        SimDevice::new(
            1,
            udid,
            &identity.cert_pem,
            &identity.key_pem,
            Arc::new(config),
        )
        .expect("device")
    }

    /// The device's latest renewal, once `ready` holds for it.
    async fn renewal(&self, udid: &str, ready: impl Fn(&Value) -> bool) -> Value {
        testkit::eventually(Duration::from_secs(30), "the identity renewal", || async {
            let page = self
                .api
                .get(&format!("/v1/identity-renewals?device={udid}"))
                .await
                .ok()?;
            page["items"]
                .as_array()
                .and_then(|items| items.first().cloned())
                .filter(|renewal| ready(renewal))
        })
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", self.stack.logs()))
    }

    /// The types of the device's events.
    async fn event_types(&self, udid: &str) -> Vec<String> {
        let page = self
            .api
            .get(&format!("/v1/events?device={udid}"))
            .await
            .expect("events");
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|e| e["type"].as_str().map(str::to_owned))
            .collect()
    }

    /// A command queued now is fetched and acknowledged by `device`, and recorded as such.
    async fn command_cycle(&self, udid: &str, device: &mut SimDevice) {
        let uuid = self
            .api
            .enqueue(
                &[udid.to_owned()],
                json!({"request_type": "DeviceInformation"}),
            )
            .await
            .expect("queued");
        let handled = device
            .session()
            .await
            .unwrap_or_else(|e| panic!("a session: {e}\n{}", self.stack.logs()));
        assert!(
            handled
                .iter()
                .any(|h| h.command_uuid == uuid && h.status == "Acknowledged"),
            "{handled:?}"
        );
        let command = self.api.command(&uuid).await.expect("command");
        assert_eq!(
            devsim::admin::count(&command, DeliveryStatus::Acknowledged),
            1
        );
    }

    /// `device`'s certificate, replaced, is refused with 403 (never 401: not unenrolled).
    async fn refused(&self, device: &mut SimDevice) {
        match device.session().await {
            Err(SimError::Status { status: 403, .. }) => {}
            other => panic!(
                "the replaced certificate must be refused with 403, got {other:?}\n{}",
                self.stack.logs()
            ),
        }
    }

    async fn renewals_counted(&self, outcome: &str) -> f64 {
        scrape(
            self.stack.admin_metrics_addr,
            &format!("mdm_identity_renewals_total{{outcome=\"{outcome}\"}}"),
        )
        .await
        .unwrap_or(0.0)
    }
}

/// Runs sessions until `done` holds for the device (or the deadline passes).
async fn sessions_until(
    stack: &Stack,
    device: &mut SimDevice,
    deadline: Duration,
    done: impl Fn(&SimDevice) -> bool,
) {
    let end = Instant::now() + deadline;
    while !done(device) {
        assert!(
            Instant::now() < end,
            "the device did not get there in {deadline:?}\n{}",
            stack.logs()
        );
        device
            .session()
            .await
            .unwrap_or_else(|e| panic!("a session: {e}\n{}", stack.logs()));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn expires_within(device: &SimDevice) -> Duration {
    let now = Asn1Time::days_from_now(0).expect("now");
    let left = now.diff(device.certificate().not_after()).expect("diff");
    Duration::from_secs(
        u64::try_from(i64::from(left.days) * 86_400 + i64::from(left.secs)).unwrap_or(0),
    )
}

fn serial(device: &SimDevice) -> String {
    let serial = device
        .certificate()
        .serial_number()
        .to_bn()
        .expect("serial");
    // As the server writes serials: lowercase hex without leading zeros.
    let hex = serial.to_hex_str().expect("hex").to_ascii_lowercase();
    hex.trim_start_matches('0').to_owned()
}

/// The renewal profile, as anyone who can read commands sees it (a read-only token, a copy of
/// command-svc's database): signed, its payloads sealed to the device's certificate — no SCEP
/// challenge to take a certificate with.
async fn sealed_from_readers(w: &World, command_uuid: &str) {
    let command = w.api.command(command_uuid).await.expect("the command");
    let payload = command
        .command
        .as_ref()
        .and_then(|c| c["Payload"].as_str())
        .expect("an InstallProfile with its Payload");
    let signed = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .expect("base64");
    let opened = mdm_pki::profile::signing::open(&signed).expect("a signed profile");
    let profile = mdm_pki::profile::read_dictionary(&opened.content).expect("a profile");
    assert!(
        profile.contains_key("EncryptedPayloadContent"),
        "{profile:?}"
    );
    assert!(!profile.contains_key("PayloadContent"), "{profile:?}");
    let text = String::from_utf8_lossy(&opened.content);
    assert!(!text.contains("Challenge"), "no readable challenge: {text}");
}

/// `mdmctl -o json <args>` against the stack's admin API, as JSON.
fn mdmctl(w: &World, args: &[&str]) -> Value {
    let dir = testkit::PkiFiles::new();
    let ca = dir.write("ca.pem", &w.stack.device_ca.cert_pem());
    let output = std::process::Command::new(testkit::workspace_bin("mdmctl"))
        .args(["-o", "json"])
        .args(args)
        .env("HOME", dir.path())
        .env("MDM_URL", &w.stack.admin_url)
        .env("MDM_TOKEN", ADMIN_TOKEN)
        .env("MDM_CA_FILE", &ca)
        .output()
        .expect("mdmctl runs");
    assert!(
        output.status.success(),
        "mdmctl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

async fn a_device_is_renewed_before_its_identity_expires(engine: Engine) {
    let Some(w) = world(engine).await else { return };
    const UDID: &str = "RENEW-0000-1111-2222";
    let first = w.identity(UDID).await;
    let mut device = w.device(UDID, &first);
    device
        .enroll()
        .await
        .unwrap_or_else(|e| panic!("checks in: {e}\n{}", w.stack.logs()));
    let old_serial = serial(&device);
    let old_expires_in = expires_within(&device);
    assert!(old_expires_in <= Duration::from_secs(VALIDITY_SECS));
    let old_expiry = Instant::now() + old_expires_in;

    // The sweep notices it 10 s after issue; the device, polling, gets the renewal profile.
    sessions_until(&w.stack, &mut device, Duration::from_secs(30), |d| {
        d.renewals() >= 1
    })
    .await;
    assert_ne!(serial(&device), old_serial, "a new certificate");

    // The acknowledgement went out with the new certificate: the binding moved.
    let renewal = w
        .renewal(UDID, |r| {
            r["serial"] == old_serial.as_str() && r["status"] == "renewed"
        })
        .await;
    assert!(renewal["renewed_serial"].is_string(), "{renewal}");
    sealed_from_readers(&w, renewal["command_uuid"].as_str().expect("command")).await;
    let listed = mdmctl(
        &w,
        &[
            "identities",
            "renewals",
            "--device",
            UDID,
            "--status",
            "renewed",
        ],
    );
    assert_eq!(listed[0]["serial"], old_serial.as_str(), "{listed}");
    w.refused(&mut w.device(UDID, &first)).await;
    let types = w.event_types(UDID).await;
    for expected in [
        "enrollment.identity_expiring",
        "enrollment.identity_renewed",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "{expected} in {types:?}"
        );
    }
    let record = w
        .api
        .get(&format!("/v1/devices/{UDID}"))
        .await
        .expect("device");
    assert_eq!(
        record["identity_certificate"]["renewed_from"], old_serial,
        "{record}"
    );
    assert!(record["identity_expires_at"].is_string(), "{record}");
    assert!(w.renewals_counted("renewed").await >= 1.0);
    let noticed = scrape(w.stack.enroll_metrics_addr, "mdm_identities_expiring_total")
        .await
        .unwrap_or(0.0);
    assert!(noticed >= 1.0, "identities near expiry are counted");

    // Past the old certificate's expiry, the device goes on (renewed again if it is due).
    let wait = old_expiry.saturating_duration_since(Instant::now()) + Duration::from_secs(1);
    let end = Instant::now() + wait;
    while Instant::now() < end {
        device
            .session()
            .await
            .unwrap_or_else(|e| panic!("a session: {e}\n{}", w.stack.logs()));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    w.command_cycle(UDID, &mut device).await;
}

async fn a_renewal_the_device_cannot_install_fails_loudly(engine: Engine) {
    let Some(w) = world(engine).await else { return };
    const UDID: &str = "NORENEW-0000-1111";
    let identity = w.identity(UDID).await;
    let mut device = w.device(UDID, &identity);
    device
        .enroll()
        .await
        .unwrap_or_else(|e| panic!("checks in: {e}\n{}", w.stack.logs()));
    let old_serial = serial(&device);
    // It answers every command with an error, the renewal profile included.
    device.behaviour.error_rate = 1.0;
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let handled = device
            .session()
            .await
            .unwrap_or_else(|e| panic!("a session: {e}\n{}", w.stack.logs()));
        if handled.iter().any(|h| h.request_type == "InstallProfile") {
            break;
        }
        assert!(
            Instant::now() < end,
            "no renewal profile\n{}",
            w.stack.logs()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let renewal = w.renewal(UDID, |r| r["status"] == "failed").await;
    assert_eq!(renewal["serial"], old_serial.as_str());
    assert_eq!(
        renewal["error"], "the device could not install the renewal profile",
        "{renewal}"
    );
    let types = w.event_types(UDID).await;
    assert!(
        types
            .iter()
            .any(|t| t == "enrollment.identity_renewal_failed"),
        "{types:?}"
    );
    assert!(w.renewals_counted("failed").await >= 1.0);
    assert_eq!(serial(&device), old_serial, "still the old identity");
}

async fn a_migrated_device_moves_onto_this_servers_ca(engine: Engine) {
    const UDID: &str = "MIGRATED-0000-1111-2222";
    let old_ca = TestCa::new("The old MDM server's CA");
    // Identities of this server live 10 years and are renewed 60 days ahead (the defaults'
    // proportions); the old server's certificate expires in two days.
    let options = StackOptions {
        extra_client_ca_pem: Some(old_ca.cert_pem()),
        enroll_env: vec![("MDM_ENROLL_IDENTITIES__SWEEP_SECS", "1".into())],
        admin_env: vec![("MDM_ADMIN_EVENTS__POLL_MS", "100".into())],
        ..StackOptions::new(engine)
    };
    let Some(stack) = Stack::start(options).await.expect("the stack starts") else {
        return;
    };
    let api = AdminApi::new(&stack.admin_url, ADMIN_TOKEN, &stack.device_ca.cert_pem())
        .expect("admin client");
    let w = World { stack, api };
    for message in [
        messages::authenticate(UDID),
        messages::token_update(UDID, &[0x3C; 32], "magic"),
    ] {
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("nanomdm:{ADMIN_TOKEN}"));
        let imported = w
            .stack
            .admin_client()
            .put(format!("{}/migration", w.stack.admin_url))
            .header("authorization", format!("Basic {basic}"))
            .body(message)
            .send()
            .await
            .expect("admin-svc answers");
        assert!(imported.status().is_success(), "{}", imported.status());
    }
    let old = old_ca.issue_client_with(ClientCertOptions {
        common_name: Some(UDID.into()),
        not_after: Some(std::time::SystemTime::now() + Duration::from_secs(2 * 86_400)),
        ..ClientCertOptions::default()
    });
    let config = Arc::new(SimConfig::new(
        &w.stack.device_url,
        &w.stack.device_ca.cert_pem(),
        Transport::Mtls,
        messages::TOPIC,
    ));
    let mut device =
        SimDevice::new(1, UDID, &old.cert_pem, &old.key_pem, Arc::clone(&config)).expect("device");
    // Its first request binds the old certificate; the sweep finds it near expiry; the renewal
    // profile, encrypted to it, gives a certificate of this server's CA.
    sessions_until(&w.stack, &mut device, Duration::from_secs(30), |d| {
        d.renewals() >= 1
    })
    .await;
    let issuer = device.certificate().issuer_name().to_der().expect("issuer");
    let ours = openssl::x509::X509::from_pem(
        &std::fs::read(&w.stack.identity_ca_file).expect("the identity CA file"),
    )
    .expect("the identity CA");
    assert_eq!(
        issuer,
        ours.subject_name().to_der().expect("subject"),
        "the new identity comes from this server's CA"
    );
    let renewal = w.renewal(UDID, |r| r["status"] == "renewed").await;
    assert!(renewal["renewed_serial"].is_string(), "{renewal}");
    w.refused(&mut SimDevice::new(1, UDID, &old.cert_pem, &old.key_pem, config).expect("device"))
        .await;
    w.command_cycle(UDID, &mut device).await;
}

#[tokio::test]
async fn sqlite_a_migrated_device_moves_onto_this_servers_ca() {
    a_migrated_device_moves_onto_this_servers_ca(Engine::Sqlite).await;
}

#[tokio::test]
async fn postgres_a_migrated_device_moves_onto_this_servers_ca() {
    a_migrated_device_moves_onto_this_servers_ca(Engine::Postgres).await;
}

#[tokio::test]
async fn sqlite_a_device_is_renewed_before_its_identity_expires() {
    a_device_is_renewed_before_its_identity_expires(Engine::Sqlite).await;
}

#[tokio::test]
async fn postgres_a_device_is_renewed_before_its_identity_expires() {
    a_device_is_renewed_before_its_identity_expires(Engine::Postgres).await;
}

#[tokio::test]
async fn sqlite_a_renewal_the_device_cannot_install_fails_loudly() {
    a_renewal_the_device_cannot_install_fails_loudly(Engine::Sqlite).await;
}

#[tokio::test]
async fn postgres_a_renewal_the_device_cannot_install_fails_loudly() {
    a_renewal_the_device_cannot_install_fails_loudly(Engine::Postgres).await;
}
