//! Re-binding is proven, never assumed: someone holding an enrollment link cannot take over an
//! enrolled device, and nothing queued for an enrollment runs on a later one. With real
//! enrollment (OTA and the direct profile through SCEP) against the processes, on SQLite and on
//! PostgreSQL.
//!
//! The hijack, reproduced: an attacker with an enrollment token fetches the direct profile,
//! obtains a certificate through its SCEP payload, and sends Authenticate naming an enrolled
//! device's UDID. It is refused (403), audited and counted; the device keeps working. The ways a
//! device legitimately re-enrolls still work: OTA again (its new identity names its UDID, which
//! its Apple certificate vouched for), and an administrator's approval. (Renewal keeps the
//! binding at issue time: `enroll-svc/tests/provisioning_store.rs`.)

use devsim::admin::AdminApi;
use devsim::sim::fleet::{self, KeyPair};
use devsim::sim::{
    enroll, DeviceFacts, Enrolled, EnrollmentFlow, EnrollmentServer, SimConfig, SimDevice,
    SimError, Transport,
};
use mdm_api::commands::DeliveryStatus;
use mdm_api::devices::EnrollmentStatus;
use mdm_proto::v1::enrollment_client::EnrollmentClient;
use mdm_proto::v1::ListAuditRequest;
use serde_json::json;
use std::sync::Arc;
use testkit::stack::{scrape, ADMIN_TOKEN};
use testkit::{Engine, Stack, StackOptions};

struct World {
    stack: Stack,
    api: AdminApi,
    server: EnrollmentServer,
    config: Arc<SimConfig>,
    apple_device_ca: KeyPair,
}

async fn world(engine: Engine) -> Option<World> {
    let Some(stack) = Stack::start(StackOptions::new(engine))
        .await
        .expect("stack starts")
    else {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
        return None;
    };
    let api = AdminApi::new(&stack.admin_url, ADMIN_TOKEN, &stack.device_ca.cert_pem())
        .expect("admin client");
    let server = EnrollmentServer {
        enrollment_url: stack.enrollment_url.clone(),
        server_ca_pem: stack.device_ca.cert_pem(),
    };
    let config = Arc::new(SimConfig::new(
        &stack.device_url,
        &stack.device_ca.cert_pem(),
        Transport::Mtls,
        testkit::pki::PUSH_TOPIC,
    ));
    let apple_device_ca = fleet::key_pair(
        &stack.apple_device_ca.cert_pem(),
        &stack.apple_device_ca.key_pem(),
    )
    .expect("Apple device CA");
    Some(World {
        stack,
        api,
        server,
        config,
        apple_device_ca,
    })
}

impl World {
    /// An identity for the device `udid` through `flow` (the server never learns who asks).
    async fn identity(&self, flow: &EnrollmentFlow, udid: &str) -> Enrolled {
        enroll(&self.server, flow, &DeviceFacts::iphone(udid, 0))
            .await
            .unwrap_or_else(|e| panic!("enrollment: {e}\n{}", self.stack.logs()))
    }

    async fn ota(&self, udid: &str) -> Enrolled {
        let flow = EnrollmentFlow::Ota {
            token: self.api.enrollment_token("ota", 1).await.expect("token"),
            apple_device: fleet::issue_identity(
                &self.apple_device_ca,
                &format!("Apple iPhone Device {udid}"),
            )
            .expect("Apple device certificate"),
        };
        self.identity(&flow, udid).await
    }

    async fn direct(&self, udid: &str) -> Enrolled {
        let flow = EnrollmentFlow::DirectProfile {
            token: self.api.enrollment_token("direct", 1).await.expect("token"),
        };
        self.identity(&flow, udid).await
    }

    /// The device `udid` presenting `identity`.
    fn device(&self, udid: &str, identity: &Enrolled) -> SimDevice {
        SimDevice::new(
            0,
            udid,
            &identity.cert_pem,
            &identity.key_pem,
            Arc::clone(&self.config),
        )
        .expect("device")
    }

    async fn audit(&self, action: &str) -> Vec<mdm_proto::v1::AuditEntry> {
        EnrollmentClient::connect(format!("http://{}", self.stack.enroll_addr))
            .await
            .expect("enroll-svc")
            .list_audit(ListAuditRequest {
                action: action.into(),
                limit: 100,
                ..Default::default()
            })
            .await
            .expect("audit")
            .into_inner()
            .entries
    }
}

fn refused_with(result: Result<(), SimError>, expected: u16) -> bool {
    matches!(result, Err(SimError::Status { status, .. }) if status == expected)
}

async fn hijack_is_refused_and_legitimate_reenrollment_works(engine: Engine) {
    let Some(w) = world(engine).await else { return };
    const VICTIM: &str = "VICTIM-0000-1111-2222";

    let mut victim = w.device(VICTIM, &w.ota(VICTIM).await);
    victim.enroll().await.expect("the victim enrolls");

    // The attacker's certificate comes from a real direct profile and SCEP; it names the
    // victim's UDID in every message.
    let stolen = w.direct(VICTIM).await;
    let mut attacker = w.device(VICTIM, &stolen);
    let authenticate = attacker.enroll().await;
    assert!(
        refused_with(authenticate, 403),
        "the hijack must be refused with 403\n{}",
        w.stack.logs()
    );
    let refused = w.audit("enrollment.rebind_refused").await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].enrollment_id, VICTIM);
    assert_eq!(
        scrape(
            w.stack.enroll_metrics_addr,
            "mdm_enroll_rebind_refused_total"
        )
        .await
        .expect("scrape"),
        1.0
    );
    assert!(
        refused_with(attacker.session().await.map(|_| ()), 403),
        "nor may it fetch the victim's commands"
    );

    // The victim is untouched: a command reaches it and its answer is kept.
    let uuid = w
        .api
        .enqueue(
            &[VICTIM.to_owned()],
            json!({"request_type": "SecurityInfo"}),
        )
        .await
        .expect("queued");
    let handled = victim.session().await.expect("the victim's session");
    assert_eq!(handled.len(), 1, "{handled:?}");
    assert_eq!(handled[0].command_uuid, uuid);
    let device = w.api.device(VICTIM).await.expect("device");
    assert_eq!(device.status, EnrollmentStatus::Enrolled, "{device:?}");

    // Legitimate: the device enrolls over the air again; its new identity names its UDID.
    let mut again = w.device(VICTIM, &w.ota(VICTIM).await);
    again.enroll().await.expect("OTA re-enrollment");
    assert!(
        refused_with(victim.session().await.map(|_| ()), 403),
        "the replaced identity no longer speaks for the device"
    );

    // Legitimate: an administrator approves a re-enrollment through the direct profile.
    w.api
        .post(
            &format!("/v1/devices/{VICTIM}/approve-reenrollment"),
            json!({"reason": "re-enrolled at the help desk, ticket 4711"}),
        )
        .await
        .expect("approve");
    let mut approved = w.device(VICTIM, &w.direct(VICTIM).await);
    approved.enroll().await.expect("approved re-enrollment");
    let approvals = w.audit("enrollment.reenrollment_approved").await;
    assert_eq!(approvals[0].actor, "ops", "{approvals:?}");
    assert!(approvals[0].detail.contains("4711"));
    // Used once: another certificate that proves nothing is refused again.
    let mut later = w.device(VICTIM, &w.direct(VICTIM).await);
    assert!(refused_with(later.enroll().await, 403));
}

async fn nothing_queued_before_a_reenrollment_runs_after_it(engine: Engine) {
    let Some(w) = world(engine).await else { return };
    const UDID: &str = "REENROLL-0000-1111";
    let identity = w.ota(UDID).await;
    let mut device = w.device(UDID, &identity);
    device.enroll().await.expect("enrolls");

    for (case, leave) in [("after CheckOut", true), ("after a re-Authenticate", false)] {
        let lock = w
            .api
            .enqueue_body(json!({
                "devices": [UDID],
                "command": {"request_type": "DeviceLock"},
                "reason": "lost on a train",
                "push": false,
            }))
            .await
            .expect("queued")
            .command_uuid;
        if leave {
            device.check_out().await.expect("CheckOut");
            device = w.device(UDID, &identity);
        }
        device.enroll().await.expect("enrolls again");
        let handled = device.session().await.expect("session");
        assert!(
            handled.is_empty(),
            "{case}: the stale DeviceLock was delivered: {handled:?}"
        );
        let deliveries = w.api.deliveries(&lock, None).await.expect("deliveries");
        assert_eq!(
            deliveries
                .iter()
                .map(|d| (d.enrollment_id.as_str(), d.status))
                .collect::<Vec<_>>(),
            [(UDID, DeliveryStatus::Superseded)],
            "{case}: {deliveries:?}"
        );
        // What is queued now is for the new enrollment, and arrives.
        let info = w
            .api
            .enqueue(
                &[UDID.to_owned()],
                json!({"request_type": "DeviceInformation"}),
            )
            .await
            .expect("queued");
        let handled = device.session().await.expect("session");
        assert_eq!(
            handled
                .iter()
                .map(|h| h.command_uuid.as_str())
                .collect::<Vec<_>>(),
            [info.as_str()],
            "{case}"
        );
    }
}

#[tokio::test]
async fn hijack_is_refused_on_sqlite() {
    hijack_is_refused_and_legitimate_reenrollment_works(Engine::Sqlite).await;
}

#[tokio::test]
async fn hijack_is_refused_on_postgres() {
    hijack_is_refused_and_legitimate_reenrollment_works(Engine::Postgres).await;
}

#[tokio::test]
async fn stale_commands_are_superseded_on_sqlite() {
    nothing_queued_before_a_reenrollment_runs_after_it(Engine::Sqlite).await;
}

#[tokio::test]
async fn stale_commands_are_superseded_on_postgres() {
    nothing_queued_before_a_reenrollment_runs_after_it(Engine::Postgres).await;
}
