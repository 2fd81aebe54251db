//! One behavioural suite for the enrollment store, run against SQLite and PostgreSQL
//! (each test gets a fresh database).

use enroll_svc::store::{
    AuditQuery, AuthenticateOutcome, Authenticated, Authentication, ChannelKind, DeviceFacts,
    DeviceFilter, DeviceOrder, EnrollmentCounts, EnrollmentStatus, EnrollmentStore,
    InventoryReport, Proof, TokenUpdateRecord,
};
use enroll_svc::Error;
use mdm_core::{InstalledApp, InventoryUpdate};
use service_kit::db::{DatabaseConfig, Db};

/// A store on a fresh database, with what keeps the database alive.
pub struct Fixture {
    pub store: EnrollmentStore,
    _keep: Box<dyn std::any::Any>,
}

pub async fn sqlite() -> Option<Fixture> {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("enroll.db").display());
    let db = Db::connect(&DatabaseConfig::default(), &url)
        .await
        .expect("sqlite");
    let store = EnrollmentStore::open(db).await.expect("migrations");
    Some(Fixture {
        store,
        _keep: Box::new(dir),
    })
}

pub async fn postgres() -> Option<Fixture> {
    let Some(database) = testkit::TempDatabase::create()
        .await
        .expect("PostgreSQL reachable")
    else {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
        return None;
    };
    let db = Db::connect(&DatabaseConfig::default(), &database.url)
        .await
        .expect("postgres");
    let store = EnrollmentStore::open(db).await.expect("migrations");
    Some(Fixture {
        store,
        _keep: Box::new(database),
    })
}

const CERT_A: [u8; 32] = [0xA; 32];
const CERT_B: [u8; 32] = [0xB; 32];

fn facts() -> DeviceFacts {
    DeviceFacts {
        serial_number: Some("SERIAL".into()),
        os_version: Some("17.1".into()),
        ..Default::default()
    }
}

/// An Authenticate with a certificate from an operator's CA whose CN is the UDID.
async fn authenticate(
    store: &EnrollmentStore,
    id: &str,
    cert: &[u8],
) -> Result<AuthenticateOutcome, Error> {
    authenticate_as(store, id, cert, id)
        .await
        .map(|done| done.outcome)
}

/// An Authenticate with a certificate whose CN is `cn`.
async fn authenticate_as(
    store: &EnrollmentStore,
    id: &str,
    cert: &[u8],
    cn: &str,
) -> Result<Authenticated, Error> {
    store
        .authenticate(&Authentication {
            id,
            channel: ChannelKind::Device,
            cert_sha256: cert,
            cert_common_name: cn,
            topic: Some("com.apple.mgmt.test"),
            facts: &facts(),
        })
        .await
}

async fn generation(store: &EnrollmentStore, id: &str) -> i64 {
    store
        .get(id)
        .await
        .expect("get")
        .expect("exists")
        .generation
}

fn token_update<'a>(
    id: &'a str,
    device_id: &'a str,
    channel: ChannelKind,
    cert: &'a [u8],
) -> TokenUpdateRecord<'a> {
    TokenUpdateRecord {
        id,
        device_id,
        channel,
        user_id: channel.is_user().then_some("USER"),
        user_short_name: None,
        user_long_name: None,
        cert_sha256: cert,
        push_token: &[1, 2, 3],
        push_magic: "magic",
        topic: None,
        sealed_unlock_token: Some(vec![9, 9]),
        awaiting_configuration: true,
    }
}

macro_rules! store_suite {
    ($engine:ident) => {
        mod $engine {
            use super::*;

            async fn store() -> Option<Fixture> {
                super::$engine().await
            }

            #[tokio::test]
            async fn authenticate_creates_then_restarts() {
                let Some(f) = store().await else { return };
                assert_eq!(
                    authenticate(&f.store, "D1", &CERT_A).await.expect("new"),
                    AuthenticateOutcome::New
                );
                let record = f.store.get("D1").await.expect("get").expect("exists");
                assert_eq!(record.status, EnrollmentStatus::Authenticated);
                assert_eq!(record.cert_sha256.as_deref(), Some(&CERT_A[..]));
                assert_eq!(record.facts, facts());
                f.store
                    .token_update(&token_update("D1", "D1", ChannelKind::Device, &CERT_A))
                    .await
                    .expect("token");
                let record = f.store.get("D1").await.expect("get").expect("exists");
                assert_eq!(record.status, EnrollmentStatus::Enrolled);
                assert!(record.awaiting_configuration);
                assert_eq!(record.unlock_token.as_deref(), Some(&[9, 9][..]));
                assert_eq!(generation(&f.store, "D1").await, 1);
                // Re-enrollment with the same certificate: afresh, a new generation.
                assert_eq!(
                    authenticate(&f.store, "D1", &CERT_A).await.expect("again"),
                    AuthenticateOutcome::Restarted
                );
                assert_eq!(generation(&f.store, "D1").await, 2);
                // With a new certificate whose CN (from the operator's CA) is the UDID: rebound.
                assert_eq!(
                    authenticate(&f.store, "D1", &CERT_B).await.expect("again"),
                    AuthenticateOutcome::Rebound(Proof::OperatorCa)
                );
                assert_eq!(generation(&f.store, "D1").await, 3);
                let record = f.store.get("D1").await.expect("get").expect("exists");
                assert_eq!(record.status, EnrollmentStatus::Authenticated);
                assert_eq!(record.cert_sha256.as_deref(), Some(&CERT_B[..]));
                assert!(record.push_token.is_none() && record.unlock_token.is_none());
                assert!(!record.awaiting_configuration);
            }

            #[tokio::test]
            async fn a_certificate_serves_one_enrollment() {
                let Some(f) = store().await else { return };
                authenticate(&f.store, "D1", &CERT_A).await.expect("first");
                let err = authenticate_as(&f.store, "D2", &CERT_A, "D2")
                    .await
                    .expect_err("bound elsewhere");
                assert!(matches!(err, Error::RebindRefused(_)), "{err:?}");
                assert!(
                    f.store.get("D2").await.expect("get").is_none(),
                    "nothing half-written"
                );
                let audit = f
                    .store
                    .list_audit(&AuditQuery {
                        limit: 10,
                        enrollment_id: Some("D2"),
                        ..Default::default()
                    })
                    .await
                    .expect("audit");
                assert_eq!(audit.len(), 1);
                assert_eq!(audit[0].action, "enrollment.rebind_refused");
            }

            #[tokio::test]
            async fn a_certificate_that_proves_nothing_cannot_take_an_active_enrollment() {
                let Some(f) = store().await else { return };
                authenticate(&f.store, "VICTIM", &CERT_A)
                    .await
                    .expect("victim");
                f.store
                    .token_update(&token_update(
                        "VICTIM",
                        "VICTIM",
                        ChannelKind::Device,
                        &CERT_A,
                    ))
                    .await
                    .expect("victim enrolled");
                // The attacker's certificate names another device (a direct profile's random CN).
                let err = authenticate_as(&f.store, "VICTIM", &CERT_B, "5F0C-RANDOM")
                    .await
                    .expect_err("hijack");
                assert!(matches!(err, Error::RebindRefused(_)), "{err:?}");
                let victim = f.store.get("VICTIM").await.expect("get").expect("exists");
                assert_eq!(victim.status, EnrollmentStatus::Enrolled, "untouched");
                assert_eq!(victim.cert_sha256.as_deref(), Some(&CERT_A[..]));
                assert_eq!(victim.push_token.as_deref(), Some(&[1, 2, 3][..]));
                assert_eq!(victim.generation, 1);
                let audit = f
                    .store
                    .list_audit(&AuditQuery {
                        limit: 10,
                        action: Some("enrollment.rebind_refused"),
                        ..Default::default()
                    })
                    .await
                    .expect("audit");
                assert_eq!(audit.len(), 1, "{audit:?}");
                assert_eq!(audit[0].enrollment_id, "VICTIM");
                assert!(
                    audit[0].detail.contains(&hex::encode(CERT_B)),
                    "{:?}",
                    audit[0]
                );

                // An administrator's approval lets it through, once.
                f.store
                    .approve_reenrollment("VICTIM", "ops", "re-enrolled by hand", 60_000)
                    .await
                    .expect("approve");
                let done = authenticate_as(&f.store, "VICTIM", &CERT_B, "5F0C-RANDOM")
                    .await
                    .expect("approved");
                assert_eq!(done.outcome, AuthenticateOutcome::Rebound(Proof::Approval));
                assert_eq!(done.generation, 2);
                let err = authenticate_as(&f.store, "VICTIM", &[0xC; 32], "OTHER")
                    .await
                    .expect_err("the approval was used");
                assert!(matches!(err, Error::RebindRefused(_)), "{err:?}");
                let approvals = f
                    .store
                    .list_audit(&AuditQuery {
                        limit: 10,
                        action: Some("enrollment.reenrollment_approved"),
                        ..Default::default()
                    })
                    .await
                    .expect("audit");
                assert_eq!(approvals[0].actor, "ops");
            }

            #[tokio::test]
            async fn a_checked_out_enrollment_comes_back_with_a_new_generation() {
                let Some(f) = store().await else { return };
                authenticate(&f.store, "D1", &CERT_A).await.expect("auth");
                f.store.check_out("D1", "D1", &CERT_A).await.expect("out");
                assert_eq!(
                    authenticate_as(&f.store, "D1", &CERT_B, "ANY")
                        .await
                        .expect("back")
                        .outcome,
                    AuthenticateOutcome::New
                );
                assert_eq!(generation(&f.store, "D1").await, 2);
                let resolved = f
                    .store
                    .resolve(&["D1".to_string(), "NOPE".to_string()])
                    .await
                    .expect("resolve");
                assert_eq!(
                    resolved,
                    vec![("D1".to_string(), 2, EnrollmentStatus::Authenticated)]
                );
            }

            #[tokio::test]
            async fn inventory_folds_in_and_the_newest_report_wins() {
                let Some(f) = store().await else { return };
                authenticate(&f.store, "D1", &CERT_A).await.expect("auth");
                let update = InventoryUpdate {
                    os_version: Some("17.4".into()),
                    battery_level: Some(0.5),
                    apps: Some(vec![
                        InstalledApp {
                            identifier: "com.b".into(),
                            ..Default::default()
                        },
                        InstalledApp {
                            identifier: "com.a".into(),
                            size_bytes: Some(7),
                            ..Default::default()
                        },
                    ]),
                    ..Default::default()
                };
                assert!(f
                    .store
                    .update_inventory("D1", 2_000, &update)
                    .await
                    .expect("apply"));
                let older = InventoryUpdate {
                    os_version: Some("16.0".into()),
                    ..Default::default()
                };
                assert!(
                    !f.store
                        .update_inventory("D1", 1_000, &older)
                        .await
                        .expect("older"),
                    "an older report never overwrites a newer one"
                );
                assert!(!f
                    .store
                    .update_inventory("NOPE", 3_000, &older)
                    .await
                    .expect("unknown"));
                let record = f.store.get("D1").await.expect("get").expect("exists");
                assert_eq!(record.facts.os_version.as_deref(), Some("17.4"));
                assert_eq!(
                    record.facts.serial_number.as_deref(),
                    Some("SERIAL"),
                    "kept"
                );
                assert_eq!(record.inventory.battery_level, Some(0.5));
                assert_eq!(record.inventory.app_count, Some(2));
                assert_eq!(record.inventory.inventory_updated_at, Some(2_000));
                let apps = f.store.apps("D1", "", 10).await.expect("apps");
                let ids: Vec<&str> = apps.iter().map(|a| a.identifier.as_str()).collect();
                assert_eq!(ids, ["com.a", "com.b"]);
                assert_eq!(apps[0].size_bytes, Some(7));
                // A new list replaces the old one.
                let fewer = InventoryUpdate {
                    apps: Some(Vec::new()),
                    ..Default::default()
                };
                assert!(f
                    .store
                    .update_inventory("D1", 3_000, &fewer)
                    .await
                    .expect("apply"));
                assert!(f.store.apps("D1", "", 10).await.expect("apps").is_empty());
            }

            #[tokio::test]
            async fn a_batch_of_reports_is_applied_in_order_in_one_call() {
                let Some(f) = store().await else { return };
                authenticate(&f.store, "D1", &CERT_A).await.expect("auth");
                authenticate(&f.store, "D2", &[9u8; 32])
                    .await
                    .expect("auth");
                let os = |v: &str| InventoryUpdate {
                    os_version: Some(v.into()),
                    ..Default::default()
                };
                let apps = InventoryUpdate {
                    apps: Some(vec![InstalledApp {
                        identifier: "com.a".into(),
                        ..Default::default()
                    }]),
                    ..Default::default()
                };
                let (newer, older, unknown) = (os("18.0"), os("17.0"), os("1.0"));
                let report = |id, reported_at, update| InventoryReport {
                    id,
                    reported_at,
                    update,
                };
                let applied = f
                    .store
                    .update_inventories(&[
                        report("D1", 2_000, &newer),
                        report("D1", 1_000, &older),
                        report("NOPE", 3_000, &unknown),
                        report("D2", 5, &apps),
                    ])
                    .await
                    .expect("apply");
                assert_eq!(
                    applied, 2,
                    "the older report and the unknown enrollment are not"
                );
                let d1 = f.store.get("D1").await.expect("get").expect("exists");
                assert_eq!(d1.facts.os_version.as_deref(), Some("18.0"));
                let d2 = f.store.apps("D2", "", 10).await.expect("apps");
                assert_eq!(d2.len(), 1, "an app list in a batch replaces the device's");
                assert_eq!(f.store.update_inventories(&[]).await.expect("nothing"), 0);
            }

            #[tokio::test]
            async fn devices_are_filtered_server_side_and_paged_in_order() {
                let Some(f) = store().await else { return };
                for (id, cert, os, name) in [
                    ("D1", [1u8; 32], "17.4", "Alice's iPhone"),
                    ("D2", [2u8; 32], "16.7", "Bob's iPad"),
                    ("D3", [3u8; 32], "17.0", "alice's iPad"),
                    ("D4", [4u8; 32], "17.40", "Dana's iPhone"),
                ] {
                    authenticate(&f.store, id, &cert).await.expect("auth");
                    let update = InventoryUpdate {
                        os_version: Some(os.into()),
                        device_name: Some(name.into()),
                        serial_number: Some(format!("SN-{id}")),
                        product_name: Some(
                            if name.contains("iPad") {
                                "iPad13,1"
                            } else {
                                "iPhone15,2"
                            }
                            .into(),
                        ),
                        ..Default::default()
                    };
                    f.store
                        .update_inventory(id, 1, &update)
                        .await
                        .expect("apply");
                }
                let ids = |filter: DeviceFilter| {
                    let store = f.store.clone();
                    async move {
                        store
                            .list(&filter, DeviceOrder::Id, "", 10)
                            .await
                            .expect("list")
                            .records
                            .into_iter()
                            .map(|r| r.id)
                            .collect::<Vec<_>>()
                    }
                };
                assert_eq!(
                    ids(DeviceFilter {
                        os_version_prefix: Some("17".into()),
                        ..Default::default()
                    })
                    .await,
                    ["D1", "D3", "D4"]
                );
                // Whole version parts: 17.4 is not a prefix of 17.40.
                assert_eq!(
                    ids(DeviceFilter {
                        os_version_prefix: Some("17.4".into()),
                        ..Default::default()
                    })
                    .await,
                    ["D1"]
                );
                assert_eq!(
                    ids(DeviceFilter {
                        name_prefix: Some("ALICE".into()),
                        ..Default::default()
                    })
                    .await,
                    ["D1", "D3"]
                );
                assert_eq!(
                    ids(DeviceFilter {
                        model: Some("iPad13,1".into()),
                        os_version_prefix: Some("16".into()),
                        ..Default::default()
                    })
                    .await,
                    ["D2"]
                );
                assert_eq!(
                    ids(DeviceFilter {
                        serial_number: Some("SN-D3".into()),
                        ..Default::default()
                    })
                    .await,
                    ["D3"]
                );
                assert!(ids(DeviceFilter {
                    last_seen_before: Some(1),
                    ..Default::default()
                })
                .await
                .is_empty());
                let page = f
                    .store
                    .list(&DeviceFilter::default(), DeviceOrder::Id, "D1", 1)
                    .await
                    .expect("page");
                assert_eq!(page.records[0].id, "D2");
                assert_eq!(page.next_key.as_deref(), Some("D2"));

                // Sorted lists, walked a page at a time, hold every device once, in order: by
                // name ignoring case (ties by ID), and by last contact.
                let walk = |order: DeviceOrder, size: i64| {
                    let store = f.store.clone();
                    async move {
                        let mut seen = Vec::new();
                        let mut after = String::new();
                        for _ in 0..10 {
                            let page = store
                                .list(&DeviceFilter::default(), order, &after, size)
                                .await
                                .expect("page");
                            seen.extend(page.records.into_iter().map(|r| r.id));
                            match page.next_key {
                                Some(next) => after = next,
                                None => return seen,
                            }
                        }
                        panic!("{order:?}: the pages never end");
                    }
                };
                for size in [1, 2, 10] {
                    assert_eq!(
                        walk(DeviceOrder::Name { descending: false }, size).await,
                        ["D3", "D1", "D2", "D4"],
                        "alice's iPad, Alice's iPhone, Bob's iPad, Dana's iPhone"
                    );
                    assert_eq!(
                        walk(DeviceOrder::Name { descending: true }, size).await,
                        ["D4", "D2", "D1", "D3"]
                    );
                }
                for (id, at) in [("D2", 9_000_000_000_000i64), ("D4", 8_000_000_000_000)] {
                    service_kit::with_db!(f.store.db(), pool => sqlx::query(
                        "UPDATE enrollments SET last_seen_at = $1 WHERE id = $2",
                    )
                    .bind(at)
                    .bind(id)
                    .execute(pool)
                    .await
                    .map(|_| ()))
                    .expect("seen");
                }
                let recent = walk(DeviceOrder::LastSeen { descending: true }, 1).await;
                assert_eq!(recent[..2], ["D2", "D4"], "{recent:?}");
                assert_eq!(recent.len(), 4);
                let bad = f
                    .store
                    .list(&DeviceFilter::default(), DeviceOrder::Name { descending: false }, "D1", 1)
                    .await;
                assert!(matches!(bad, Err(Error::InvalidRequest(_))), "{bad:?}");
            }

            #[tokio::test]
            async fn token_update_needs_an_active_enrollment_and_its_certificate() {
                let Some(f) = store().await else { return };
                let err = f
                    .store
                    .token_update(&token_update("NEW", "NEW", ChannelKind::Device, &CERT_A))
                    .await
                    .expect_err("unknown");
                assert!(matches!(err, Error::NotManaged(_)), "{err:?}");
                authenticate(&f.store, "D1", &CERT_A).await.expect("auth");
                let err = f
                    .store
                    .token_update(&token_update("D1", "D1", ChannelKind::Device, &CERT_B))
                    .await
                    .expect_err("other cert");
                assert!(matches!(err, Error::CertificateMismatch(_)), "{err:?}");
                f.store
                    .check_out("D1", "D1", &CERT_A)
                    .await
                    .expect("checkout");
                let err = f
                    .store
                    .token_update(&token_update("D1", "D1", ChannelKind::Device, &CERT_A))
                    .await
                    .expect_err("checked out");
                assert!(matches!(err, Error::NotManaged(_)), "{err:?}");
            }

            #[tokio::test]
            async fn user_channels_live_under_their_device() {
                let Some(f) = store().await else { return };
                let err = f
                    .store
                    .token_update(&token_update("D1:USER", "D1", ChannelKind::User, &CERT_A))
                    .await
                    .expect_err("no device");
                assert!(matches!(err, Error::NotManaged(_)), "{err:?}");
                authenticate(&f.store, "D1", &CERT_A).await.expect("auth");
                f.store
                    .token_update(&token_update("D1:USER", "D1", ChannelKind::User, &CERT_A))
                    .await
                    .expect("user");
                let user = f.store.get("D1:USER").await.expect("get").expect("exists");
                assert_eq!(
                    (user.status, user.channel, user.device_id.as_str()),
                    (EnrollmentStatus::Enrolled, ChannelKind::User, "D1")
                );
                assert!(
                    user.cert_sha256.is_none(),
                    "user channels are authorized through the device"
                );
                // Checking out the user channel leaves the device enrolled.
                f.store
                    .check_out("D1:USER", "D1", &CERT_A)
                    .await
                    .expect("user checkout");
                assert_eq!(
                    f.store
                        .get("D1:USER")
                        .await
                        .expect("get")
                        .expect("exists")
                        .status,
                    EnrollmentStatus::CheckedOut
                );
                assert_eq!(
                    f.store
                        .get("D1")
                        .await
                        .expect("get")
                        .expect("exists")
                        .status,
                    EnrollmentStatus::Authenticated
                );
                let err = f
                    .store
                    .check_out("D1:USER", "D1", &CERT_A)
                    .await
                    .expect_err("twice");
                assert!(matches!(err, Error::NotManaged(_)), "{err:?}");
                // A device CheckOut takes its user channels; a re-Authenticate resets them.
                f.store
                    .token_update(&token_update("D1:USER", "D1", ChannelKind::User, &CERT_A))
                    .await
                    .expect("user again");
                f.store
                    .check_out("D1", "D1", &CERT_A)
                    .await
                    .expect("device checkout");
                assert_eq!(
                    f.store
                        .get("D1:USER")
                        .await
                        .expect("get")
                        .expect("exists")
                        .status,
                    EnrollmentStatus::CheckedOut
                );
                authenticate(&f.store, "D1", &CERT_A)
                    .await
                    .expect("re-enroll");
                f.store
                    .token_update(&token_update("D1:USER", "D1", ChannelKind::User, &CERT_A))
                    .await
                    .expect("user back");
                assert_eq!(
                    generation(&f.store, "D1:USER").await,
                    3,
                    "each return after a CheckOut (its own, then its device's) is a new generation"
                );
                authenticate(&f.store, "D1", &CERT_A)
                    .await
                    .expect("re-enroll again");
                assert_eq!(
                    f.store
                        .get("D1:USER")
                        .await
                        .expect("get")
                        .expect("exists")
                        .status,
                    EnrollmentStatus::CheckedOut
                );
            }

            #[tokio::test]
            async fn bootstrap_tokens_are_kept_per_device() {
                let Some(f) = store().await else { return };
                authenticate(&f.store, "D1", &CERT_A).await.expect("auth");
                assert_eq!(
                    f.store
                        .bootstrap_token("D1", &CERT_A)
                        .await
                        .expect("none yet"),
                    None
                );
                f.store
                    .set_bootstrap_token("D1", &CERT_A, Some(&[7, 7]))
                    .await
                    .expect("set");
                assert_eq!(
                    f.store.bootstrap_token("D1", &CERT_A).await.expect("get"),
                    Some(vec![7, 7])
                );
                let err = f
                    .store
                    .bootstrap_token("D1", &CERT_B)
                    .await
                    .expect_err("other cert");
                assert!(matches!(err, Error::CertificateMismatch(_)), "{err:?}");
                f.store
                    .set_bootstrap_token("D1", &CERT_A, None)
                    .await
                    .expect("remove");
                assert_eq!(
                    f.store.bootstrap_token("D1", &CERT_A).await.expect("get"),
                    None
                );
            }

            #[tokio::test]
            async fn enrollments_are_counted_by_status_and_last_seen() {
                let Some(f) = store().await else { return };
                let empty = f.store.counts(0, 0).await.expect("counts");
                assert_eq!((empty, empty.total()), (EnrollmentCounts::default(), 0));
                let start = service_kit::now_ms();
                for (id, cert) in [("D1", CERT_A), ("D2", CERT_B), ("D3", [0xC; 32])] {
                    authenticate(&f.store, id, &cert).await.expect("auth");
                }
                for update in [
                    token_update("D1", "D1", ChannelKind::Device, &CERT_A),
                    token_update("D1:USER", "D1", ChannelKind::User, &CERT_A),
                    token_update("D2", "D2", ChannelKind::Device, &CERT_B),
                ] {
                    f.store.token_update(&update).await.expect("token update");
                }
                f.store
                    .check_out("D2", "D2", &CERT_B)
                    .await
                    .expect("checkout");
                // Identities this CA issued: D1's ends in 10 days, D2's (checked out) in 1.
                const DAY: i64 = 86_400_000;
                for (serial, cert, days) in [("a1", CERT_A, 10), ("b2", CERT_B, 1)] {
                    service_kit::with_db!(f.store.db(), pool => sqlx::query(
                        "INSERT INTO issued_certificates
                            (serial, sha256, common_name, flow, issued_at, not_after)
                         VALUES ($1, $2, 'cn', 'direct', $3, $4)",
                    )
                    .bind(serial)
                    .bind(&cert[..])
                    .bind(start)
                    .bind(start + days * DAY)
                    .execute(pool)
                    .await
                    .map(|_| ()))
                    .expect("issued");
                }
                let counts = f.store.counts(start, start + 30 * DAY).await.expect("counts");
                assert_eq!(
                    counts,
                    EnrollmentCounts {
                        authenticated: 1,
                        enrolled: 2,
                        checked_out: 1,
                        seen_since: 4,
                        identities_expiring: 1,
                    },
                    "a user channel is an enrollment of its own; a checked-out device's \
                     identity does not matter"
                );
                assert_eq!(counts.total(), 4);
                let soon = f.store.counts(start, start + 5 * DAY).await.expect("counts");
                assert_eq!(soon.identities_expiring, 0, "10 days left is not within 5");
                let later = f
                    .store
                    .counts(service_kit::now_ms() + 60_000, 0)
                    .await
                    .expect("counts");
                assert_eq!(
                    (later.seen_since, later.total()),
                    (0, 4),
                    "nobody was seen after now; everybody is still counted"
                );
            }

            #[tokio::test]
            async fn authorize_device_reports_why() {
                let Some(f) = store().await else { return };
                assert!(matches!(
                    f.store.authorize_device("D1", &CERT_A).await,
                    Err(Error::NotManaged(_))
                ));
                authenticate(&f.store, "D1", &CERT_A).await.expect("auth");
                assert_eq!(
                    f.store
                        .authorize_device("D1", &CERT_A)
                        .await
                        .expect("active"),
                    1,
                    "the generation"
                );
                assert!(matches!(
                    f.store.authorize_device("D1", &CERT_B).await,
                    Err(Error::CertificateMismatch(_))
                ));
            }
        }
    };
}

store_suite!(sqlite);
store_suite!(postgres);
