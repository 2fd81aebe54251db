//! push-svc against the mock APNs over real TLS and HTTP/2: the exact wire format, each APNs
//! error classified, no push lost to GOAWAYs, coalescing, and a new certificate reaching a second
//! replica without a restart.
//!
//! Run: `cargo nextest run -p push-svc --test apns_mock`.

mod common;

use common::{outcome, Database, Engine, PushService};
use mdm_proto::v1::{GetCertificateRequest, GetTargetRequest, PushOutcome, PushTargetStatus};
use mock_apns::Fault;
use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use testkit::pki::PUSH_TOPIC;
use testkit::ApnsFixture;

async fn service(apns: &ApnsFixture, extra: &[(&str, &str)]) -> (PushService, Database) {
    let db = Database::create(Engine::Sqlite).await.expect("sqlite");
    let service = PushService::start(&db, apns, extra).await;
    service.upload_pem(&apns.push_pem()).await.expect("upload");
    (service, db)
}

#[tokio::test]
async fn a_push_has_the_exact_path_headers_and_body() {
    let apns = ApnsFixture::start();
    let (push, _db) = service(&apns, &[("MDM_PUSH_APNS__EXPIRATION_SECS", "3600")]).await;
    let token = push.register("UDID-1", 1).await;
    let results = push.push(&["UDID-1"]).await;
    assert_eq!(outcome(&results[0]), PushOutcome::Delivered, "{results:?}");

    let delivery = apns
        .mock()
        .wait_for_push(&token, Duration::from_secs(5))
        .await
        .expect("delivered");
    assert_eq!(delivery.path, format!("/3/device/{token}"));
    assert_eq!(delivery.body, b"{\"mdm\":\"magic-UDID-1\"}");
    assert_eq!(delivery.topic, PUSH_TOPIC);
    assert_eq!(delivery.push_type, "mdm");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    assert!(
        (now + 3600 - delivery.expiration).abs() < 60,
        "apns-expiration {} is not now + 1 h",
        delivery.expiration
    );
    let names: Vec<&str> = delivery.headers.iter().map(|(n, _)| n.as_str()).collect();
    for name in ["apns-topic", "apns-push-type", "apns-expiration"] {
        assert_eq!(
            names.iter().filter(|n| **n == name).count(),
            1,
            "{name} in {names:?}"
        );
    }
    assert!(!names.contains(&"apns-priority"), "{names:?}");
    assert!(
        apns.mock().refusals().is_empty(),
        "{:?}",
        apns.mock().refusals()
    );

    let target = push
        .client()
        .get_target(GetTargetRequest {
            enrollment_id: "UDID-1".into(),
        })
        .await
        .expect("target")
        .into_inner();
    assert_eq!(target.last_outcome, "delivered");
    assert!(target.last_push_at_ms > 0);
}

#[tokio::test]
async fn each_apns_error_is_classified() {
    let apns = ApnsFixture::start();
    let (push, _db) = service(&apns, &[("MDM_PUSH_APNS__RETRIES", "2")]).await;
    let cases: [(&str, Option<Fault>, PushOutcome); 9] = [
        ("OK", None, PushOutcome::Delivered),
        (
            "GONE",
            Some(Fault::new(410, "Unregistered")),
            PushOutcome::Unregistered,
        ),
        (
            "EXPIRED",
            Some(Fault::new(410, "ExpiredToken")),
            PushOutcome::Unregistered,
        ),
        (
            "BAD",
            Some(Fault::new(400, "BadDeviceToken")),
            PushOutcome::BadToken,
        ),
        (
            "NOTFORTOPIC",
            Some(Fault::new(400, "DeviceTokenNotForTopic")),
            PushOutcome::BadToken,
        ),
        (
            "CERT",
            Some(Fault::new(403, "BadCertificate")),
            PushOutcome::CertificateRejected,
        ),
        (
            "NEW",
            Some(Fault::new(400, "ReasonFromTheFuture")),
            PushOutcome::Rejected,
        ),
        (
            "DOWN",
            Some(Fault::new(503, "ServiceUnavailable")),
            PushOutcome::Failed,
        ),
        (
            "THROTTLED",
            Some(Fault::new(429, "TooManyRequests")),
            PushOutcome::Failed,
        ),
    ];
    let mut ids = Vec::new();
    for (n, (id, fault, _)) in cases.iter().enumerate() {
        let token = push.register(id, n as u32).await;
        if let Some(fault) = fault {
            apns.mock().inject(&token, fault.clone());
        }
        ids.push(*id);
    }
    ids.push("UNKNOWN");
    let results = push.push(&ids).await;
    for ((id, fault, want), result) in cases.iter().zip(&results) {
        assert_eq!(result.enrollment_id, *id);
        assert_eq!(outcome(result), *want, "{id}: {result:?}");
        if let Some(fault) = fault {
            assert_eq!(result.reason, fault.reason, "{id}: reason kept verbatim");
            assert_eq!(result.status, u32::from(fault.status), "{id}");
        }
    }
    assert_eq!(outcome(&results[9]), PushOutcome::NoTarget);

    // 5xx and 429 were retried (1 + 2 retries), the others were not.
    let refused = |reason: &str| {
        apns.mock()
            .refusals()
            .iter()
            .filter(|r| r.reason == reason)
            .count()
    };
    assert_eq!(refused("ServiceUnavailable"), 3);
    assert_eq!(refused("TooManyRequests"), 3);
    assert_eq!(refused("Unregistered"), 1);

    let target = |id: &'static str| {
        let mut client = push.client();
        async move {
            client
                .get_target(GetTargetRequest {
                    enrollment_id: id.into(),
                })
                .await
                .expect("target")
                .into_inner()
        }
    };
    // A 410 makes the target inactive and flags it; a bad token flags it; a 403 does not
    // blame the device but the certificate.
    let gone = target("GONE").await;
    assert_eq!(gone.status(), PushTargetStatus::Inactive);
    assert_eq!(
        (gone.flag.as_str(), gone.last_outcome.as_str()),
        ("Unregistered", "unregistered")
    );
    assert!(gone.inactive_since_ms > 0);
    let bad = target("BAD").await;
    assert_eq!(
        (bad.status(), bad.flag.as_str()),
        (PushTargetStatus::Active, "BadDeviceToken")
    );
    let cert = target("CERT").await;
    assert_eq!(
        (cert.status(), cert.flag.as_str()),
        (PushTargetStatus::Active, "")
    );
    let info = push
        .client()
        .get_certificate(GetCertificateRequest {})
        .await
        .expect("certificate")
        .into_inner();
    assert!(info.last_error.contains("403"), "{info:?}");

    // An inactive target is not pushed again until it registers again.
    let before = apns.mock().refusals().len();
    let again = push.push(&["GONE"]).await;
    assert_eq!(outcome(&again[0]), PushOutcome::Inactive);
    assert_eq!(apns.mock().refusals().len(), before, "not sent");
}

#[tokio::test]
async fn no_push_is_lost_when_apns_sends_goaway_every_n_requests() {
    let apns = ApnsFixture::start();
    apns.mock().set_goaway_every(100);
    let (push, _db) = service(&apns, &[("MDM_PUSH_APNS__CONNECTIONS", "2")]).await;
    let ids: Vec<String> = (0..3_000).map(|n| format!("D{n:05}")).collect();
    let mut tokens = HashSet::new();
    for (n, id) in ids.iter().enumerate() {
        tokens.insert(push.register(id, n as u32).await);
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let results = push.push(&refs).await;
    let lost: Vec<_> = results
        .iter()
        .filter(|r| outcome(r) != PushOutcome::Delivered)
        .collect();
    assert!(
        lost.is_empty(),
        "{} lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );
    let delivered: HashSet<String> = apns
        .mock()
        .deliveries()
        .into_iter()
        .map(|d| d.token)
        .collect();
    assert_eq!(delivered, tokens, "every device got its push");
    assert!(
        apns.mock().goaway_count() >= 10,
        "GOAWAYs sent: {}",
        apns.mock().goaway_count()
    );
}

#[tokio::test]
async fn concurrent_pushes_to_one_target_are_coalesced() {
    let apns = ApnsFixture::start();
    apns.mock().set_latency(Duration::from_millis(300));
    let (push, _db) = service(&apns, &[]).await;
    let token = push.register("UDID-1", 1).await;
    let mut calls = Vec::new();
    for _ in 0..20 {
        let mut client = push.client();
        calls.push(tokio::spawn(async move {
            client
                .push(mdm_proto::v1::PushRequest {
                    enrollment_ids: vec!["UDID-1".into()],
                    reason: "test".into(),
                })
                .await
                .expect("push")
                .into_inner()
                .results
        }));
    }
    for call in calls {
        let results = call.await.expect("task");
        assert_eq!(outcome(&results[0]), PushOutcome::Delivered);
    }
    let sent = apns.mock().deliveries_to(&token).len();
    assert!(
        (1..=2).contains(&sent),
        "{sent} pushes for 20 concurrent requests"
    );
}

#[tokio::test]
async fn a_new_certificate_reaches_another_replica_without_a_restart() {
    let apns = ApnsFixture::start();
    let db = Database::create(Engine::Sqlite).await.expect("sqlite");
    let refresh = [("MDM_PUSH_CERTIFICATE__REFRESH_MS", "100")];
    let a = PushService::start(&db, &apns, &refresh).await;
    let b = PushService::start(&db, &apns, &refresh).await;
    b.register("UDID-1", 1).await;
    assert_eq!(
        outcome(&b.push(&["UDID-1"]).await[0]),
        PushOutcome::NoCertificate
    );
    a.upload_pem(&apns.push_pem())
        .await
        .expect("upload through A");
    testkit::eventually(
        Duration::from_secs(5),
        "replica B pushes with the new certificate",
        || async {
            (outcome(&b.push(&["UDID-1"]).await[0]) == PushOutcome::Delivered).then_some(())
        },
    )
    .await
    .expect("B picked it up");
    // A renewal (same topic, new key) replaces it on B too: APNs sees the new client certificate.
    let renewal = apns.ca.issue_push(PUSH_TOPIC);
    let info = a
        .upload_pem(&renewal.identity_pem())
        .await
        .expect("renewal");
    assert_eq!(info.version, 2);
    let info = b
        .client()
        .get_certificate(GetCertificateRequest {})
        .await
        .expect("current")
        .into_inner();
    assert_eq!(info.sha256, renewal.sha256_hex());
}
