//! The whole system with simulated devices: proxy, enroll-svc, command-svc, push-svc and the
//! mock APNs as processes, real TLS (HTTP/2 to the mock), on SQLite and on PostgreSQL, once in
//! mTLS mode and once in Mdm-Signature mode. Devices learn of their pushes from the mock's feed,
//! as a phone learns of them from Apple.
//!
//! 20 devices enroll (over the air, by the direct profile and with identities issued up front;
//! one is a Mac whose user enrolls a channel of its own); DeviceInformation is queued to all of them through the admin API; each
//! device sleeps until its push arrives at the mock APNs, wakes, fetches and answers; every
//! result is then readable through the admin API. A device set to answer NotNow gets the command
//! again at its next wake-up. A device the administrator unenrolls (RemoveProfile of the profile
//! ProfileList shows enrolled it) checks out and receives no more pushes.

use devsim::admin::{count, AdminApi, AdminError};
use devsim::sim::fleet::{self, FleetSpec, Provisioning};
use devsim::sim::responder::PREISSUED_ENROLLMENT_PROFILE;
use devsim::sim::{EnrollmentServer, SimConfig, SimDevice, Stats, Transport};
use mdm_api::commands::{Command, DeliveryStatus};
use mdm_api::devices::{Delivery, EnrollmentStatus};
use mock_apns::PushFeed;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use testkit::stack::ADMIN_TOKEN;
use testkit::{Engine, Stack, StackOptions};

const DEVICES: usize = 20;
const DEADLINE: Duration = Duration::from_secs(60);

async fn whole_system(engine: Engine, transport: Transport) {
    let mut options = StackOptions::new(engine);
    options.apns_process = true;
    options.device_mode = match transport {
        Transport::Mtls => "mtls",
        Transport::Signature => "signature",
    };
    let Some(stack) = Stack::start(options).await.expect("stack starts") else {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
        return;
    };
    let config = Arc::new(SimConfig::new(
        &stack.device_url,
        &stack.device_ca.cert_pem(),
        transport,
        testkit::pki::PUSH_TOPIC,
    ));

    // Enroll, every way a device can: over the air and by the direct profile (SCEP, signed and
    // encrypted profiles), and with identities issued up front. The profile group starts with a
    // Mac whose logged-in user enrolls a channel of its own (same identity, its own push token).
    let api = AdminApi::new(&stack.admin_url, ADMIN_TOKEN, &stack.device_ca.cert_pem())
        .expect("admin API client");
    let server = EnrollmentServer {
        enrollment_url: stack.enrollment_url.clone(),
        server_ca_pem: stack.device_ca.cert_pem(),
    };
    let key_pair =
        |ca: &testkit::TestCa| fleet::key_pair(&ca.cert_pem(), &ca.key_pem()).expect("CA");
    let token = || async { api.enrollment_token("e2e", DEVICES).await.expect("token") };
    let groups = [
        (
            Provisioning::Ota {
                server: server.clone(),
                token: token().await,
                apple_device_ca: key_pair(&stack.apple_device_ca),
            },
            7,
            0,
        ),
        (
            Provisioning::DirectProfile {
                server,
                token: token().await,
            },
            7,
            1,
        ),
        (
            Provisioning::Preissued {
                ca: key_pair(&stack.device_ca),
            },
            DEVICES - 14,
            0,
        ),
    ];
    let mut devices = Vec::new();
    let mut first = 0;
    for (provisioning, count, macs) in groups {
        let spec = FleetSpec {
            devices: count,
            macs,
            users_per_mac: 1,
            first,
            udid_prefix: "E2E-".into(),
            concurrency: 4,
            // The profile group resumes its TLS sessions: the edge must still know the device
            // by the certificate of the session it resumes.
            resume_tls: macs > 0,
        };
        let (enrolled, failures) =
            fleet::enroll_fleet(&spec, &provisioning, &config, &Stats::default()).await;
        assert!(failures.is_empty(), "{failures:?}\n{}", stack.logs());
        devices.extend(enrolled);
        first += count;
    }
    assert_eq!(
        devices.len(),
        DEVICES + 1,
        "20 devices and one user channel"
    );
    let mac_udid = devices
        .iter()
        .find(|d| d.facts.product_name.starts_with("Mac"))
        .expect("a Mac")
        .udid()
        .to_owned();
    devices[0].behaviour.not_now_rate = 1.0;
    // An iPhone of the direct-profile group (after the OTA group, the Mac and its user): the
    // administrator unenrolls it at the end by removing its enrollment profile.
    let leaver = devices.remove(9);

    // Queue DeviceInformation for all through the admin API, which pushes every target.
    let mut targets: Vec<String> = devices.iter().map(SimDevice::enrollment_id).collect();
    targets.push(leaver.udid().to_string());
    let command = json!({"request_type": "DeviceInformation", "queries": ["DeviceName", "OSVersion", "SerialNumber"]});
    let uuid = api
        .enqueue(&targets, command)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()));

    // Each device sleeps until its push arrives, then wakes and works through its queue.
    let pushes = stack.apns.feed();
    let woken = futures::future::join_all(devices.into_iter().map(|mut device| async move {
        let push = pushes.wait_for_push(&device.token_hex(), 0, DEADLINE).await;
        assert!(push.is_some(), "{} was never pushed", device.udid());
        device.reconnect().expect("new connection");
        let handled = device.session().await.expect("session");
        (device, handled)
    }))
    .await;
    let mut stubborn = None;
    for (device, handled) in woken {
        assert_eq!(handled.len(), 1, "{}: {handled:?}", device.enrollment_id());
        assert_eq!(handled[0].command_uuid, uuid);
        if handled[0].status == "NotNow" {
            stubborn = Some(device);
        } else {
            assert_eq!(handled[0].status, "Acknowledged");
        }
    }

    // Every answer is visible through the admin API, with the device's own facts.
    let command = api.command(&uuid).await.expect("the command");
    // All but the NotNow device and the one that left; the Mac's user channel answered too.
    assert_eq!(
        count(&command, DeliveryStatus::Acknowledged) as usize,
        DEVICES - 2 + 1,
        "{command:?}"
    );
    assert_eq!(
        count(&command, DeliveryStatus::Queued),
        2,
        "the NotNow device and the leaver: {command:?}"
    );
    let deliveries = api.deliveries(&uuid, None).await.expect("the deliveries");
    assert_eq!(deliveries.len(), targets.len(), "one per target");
    let acknowledged = api
        .deliveries(&uuid, Some(DeliveryStatus::Acknowledged))
        .await
        .expect("the acknowledged deliveries");
    assert_eq!(acknowledged.len(), DEVICES - 2 + 1);
    let mut user_channel_answered = false;
    for delivery in &acknowledged {
        assert_eq!(
            delivery.status,
            DeliveryStatus::Acknowledged,
            "{delivery:?}"
        );
        let answers = &delivery.result.as_ref().expect("a result")["QueryResponses"];
        let id = delivery.enrollment_id.as_str();
        let os = if id.starts_with(&mac_udid) {
            "14.1"
        } else {
            "17.1"
        };
        assert_eq!(answers["OSVersion"], os, "{delivery:?}");
        user_channel_answered |= id.starts_with(&mac_udid) && id.contains(':');
        assert!(
            answers["SerialNumber"]
                .as_str()
                .is_some_and(|s| s.starts_with("SIM")),
            "{delivery:?}"
        );
    }
    assert!(
        user_channel_answered,
        "the user channel's answer: {acknowledged:?}"
    );

    // The NotNow device gets the command again when it wakes next and, now willing, answers it.
    let mut stubborn = stubborn.expect("the NotNow device");
    stubborn.behaviour.not_now_rate = 0.0;
    stubborn.reconnect().expect("new connection");
    let again = stubborn.session().await.expect("session");
    assert_eq!(
        again.first().map(|h| h.command_uuid.as_str()),
        Some(uuid.as_str()),
        "served again after NotNow"
    );
    assert_eq!(again[0].status, "Acknowledged");

    // The administrator unenrolls a device: ProfileList shows the profile that enrolled it,
    // RemoveProfile removes it; the device acknowledges, checks out, and is pushed no more.
    let mut leaver = leaver;
    let (_, listed) = command_to(
        &api,
        pushes,
        &mut leaver,
        json!({"request_type": "ProfileList"}),
    )
    .await;
    let result = listed[0].result.as_ref().expect("ProfileList's result");
    let profile = result["ProfileList"][0]["PayloadIdentifier"]
        .as_str()
        .expect("the enrollment profile is listed")
        .to_owned();
    assert_ne!(profile, PREISSUED_ENROLLMENT_PROFILE, "{listed:?}");
    let (removed, _) = command_to(
        &api,
        pushes,
        &mut leaver,
        json!({"request_type": "RemoveProfile", "identifier": profile}),
    )
    .await;
    assert_eq!(
        count(&removed, DeliveryStatus::Acknowledged),
        1,
        "{removed:?}"
    );
    assert!(leaver.is_unenrolled());
    let device = api.device(leaver.udid()).await.expect("the device");
    assert_eq!(device.status, EnrollmentStatus::CheckedOut, "{device:?}");

    let pushes_before = pushes.pushes_to(&leaver.token_hex());
    let stubborn_pushes = pushes.pushes_to(&stubborn.token_hex());
    let both = [leaver.udid().to_owned(), stubborn.udid().to_owned()];
    let refused = api
        .enqueue(&both, json!({"request_type": "SecurityInfo"}))
        .await
        .expect_err("a checked-out target fails the enqueue");
    let refusal = refused
        .downcast_ref::<AdminError>()
        .unwrap_or_else(|| panic!("not the API's refusal: {refused:#}"));
    assert_eq!(
        (refusal.status, refusal.code()),
        (422, Some("invalid_request")),
        "{refusal}"
    );
    assert!(
        refusal.detail().contains(leaver.udid()),
        "the error names it: {refusal}"
    );
    let second = api
        .enqueue_body(json!({
            "devices": both,
            "command": {"request_type": "SecurityInfo"},
            "allow_unknown": true,
        }))
        .await;
    assert!(
        second
            .as_ref()
            .is_ok_and(|queued| !queued.command_uuid.is_empty() && queued.targets == 2),
        "{second:?}"
    );
    let pushed = pushes
        .wait_for_push(&stubborn.token_hex(), stubborn_pushes, DEADLINE)
        .await;
    assert!(pushed.is_some(), "the enrolled device is pushed");
    assert_eq!(
        pushes.pushes_to(&leaver.token_hex()),
        pushes_before,
        "no push after CheckOut"
    );
}

/// Queues `command` to `device` through the admin API; the device wakes on its push and
/// answers; answers the command and its deliveries as the admin API shows them then.
async fn command_to(
    api: &AdminApi,
    pushes: &PushFeed,
    device: &mut SimDevice,
    command: Value,
) -> (Command, Vec<Delivery>) {
    let seen = pushes.pushes_to(&device.token_hex());
    let ids = [device.udid().to_owned()];
    let uuid = api.enqueue(&ids, command).await.expect("queued");
    let pushed = pushes
        .wait_for_push(&device.token_hex(), seen, DEADLINE)
        .await;
    assert!(pushed.is_some(), "{} was not pushed", device.udid());
    device.reconnect().expect("new connection");
    let handled = device.session().await.expect("session");
    assert!(
        handled.iter().any(|h| h.command_uuid == uuid),
        "{handled:?}"
    );
    (
        api.command(&uuid).await.expect("the command"),
        api.deliveries(&uuid, None).await.expect("the deliveries"),
    )
}

#[tokio::test]
async fn mtls_on_sqlite() {
    whole_system(Engine::Sqlite, Transport::Mtls).await;
}

#[tokio::test]
async fn mtls_on_postgres() {
    whole_system(Engine::Postgres, Transport::Mtls).await;
}

#[tokio::test]
async fn signature_on_sqlite() {
    whole_system(Engine::Sqlite, Transport::Signature).await;
}

#[tokio::test]
async fn signature_on_postgres() {
    whole_system(Engine::Postgres, Transport::Signature).await;
}
