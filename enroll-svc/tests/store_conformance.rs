//! One behavioural suite for the enrollment store, run against SQLite and PostgreSQL
//! (each test gets a fresh database). The administrator's views of it (the device list and the
//! dashboard's counts) are in `store_listing.rs`.

mod support;

use enroll_svc::store::{
    AuditQuery, AuthenticateOutcome, ChannelKind, EnrollmentStatus, InventoryReport, Proof,
};
use enroll_svc::Error;
use mdm_core::{InstalledApp, InventoryUpdate};
use support::*;

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
                f.store
                    .check_out("D1", "D1", &CERT_A, b"")
                    .await
                    .expect("out");
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
                let found: Vec<_> = resolved
                    .iter()
                    .map(|r| {
                        (
                            r.id.as_str(),
                            r.generation,
                            r.status.as_str(),
                            r.user_channel,
                        )
                    })
                    .collect();
                assert_eq!(found, [("D1", 2, "authenticated", false)]);
                // Nothing reported about supervision yet: unknown, not "unsupervised".
                assert_eq!(resolved[0].supervised, None);
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
                let apps = one_app();
                let (newer, older, unknown) = (os("18.0"), os("17.0"), os("1.0"));
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
            async fn a_device_reported_several_times_in_a_batch_merges_in_order() {
                let Some(f) = store().await else { return };
                authenticate(&f.store, "D3", &CERT_A).await.expect("auth");
                authenticate(&f.store, "D4", &[9u8; 32])
                    .await
                    .expect("auth");
                let facts = |os: Option<&str>, name: Option<&str>| InventoryUpdate {
                    os_version: os.map(Into::into),
                    device_name: name.map(Into::into),
                    ..Default::default()
                };
                let apps = one_app();
                assert!(f
                    .store
                    .update_inventory("D3", 1_500, &facts(Some("1.5"), Some("first")))
                    .await
                    .expect("apply"));
                let (stale, second, third, late) = (
                    facts(Some("1.0"), Some("stale")),
                    facts(Some("2.0"), None),
                    facts(None, Some("new")),
                    facts(Some("2.5"), None),
                );
                let d4 = facts(Some("x"), None);
                let applied = f
                    .store
                    .update_inventories(&[
                        report("D3", 1_000, &stale),
                        report("D4", 10, &d4),
                        report("D3", 2_000, &second),
                        report("D4", 20, &apps),
                        report("D3", 3_000, &third),
                        report("D3", 2_500, &late),
                    ])
                    .await
                    .expect("apply");
                assert_eq!(
                    applied, 4,
                    "older than the record when their turn came: two"
                );
                let d3 = f.store.get("D3").await.expect("get").expect("exists");
                assert_eq!(d3.facts.os_version.as_deref(), Some("2.0"));
                assert_eq!(d3.facts.device_name.as_deref(), Some("new"));
                assert_eq!(d3.inventory.inventory_updated_at, Some(3_000));
                let d4 = f.store.get("D4").await.expect("get").expect("exists");
                assert_eq!(
                    d4.facts.os_version.as_deref(),
                    Some("x"),
                    "kept by the app list"
                );
                assert_eq!(d4.inventory.app_count, Some(1));
                assert_eq!(d4.inventory.inventory_updated_at, Some(20));
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
                    .check_out("D1", "D1", &CERT_A, b"")
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
                    .check_out("D1:USER", "D1", &CERT_A, b"")
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
                    .check_out("D1:USER", "D1", &CERT_A, b"")
                    .await
                    .expect_err("twice");
                assert!(matches!(err, Error::NotManaged(_)), "{err:?}");
                // A device CheckOut takes its user channels; a re-Authenticate resets them.
                f.store
                    .token_update(&token_update("D1:USER", "D1", ChannelKind::User, &CERT_A))
                    .await
                    .expect("user again");
                f.store
                    .check_out("D1", "D1", &CERT_A, b"")
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
                        .expect("active")
                        .generation,
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

/// An inventory update that is an app list of one app.
fn one_app() -> InventoryUpdate {
    InventoryUpdate {
        apps: Some(vec![InstalledApp {
            identifier: "com.a".into(),
            ..Default::default()
        }]),
        ..Default::default()
    }
}

/// A report of `update` about enrollment `id` at `reported_at`.
fn report<'a>(id: &'a str, reported_at: i64, update: &'a InventoryUpdate) -> InventoryReport<'a> {
    InventoryReport {
        id,
        reported_at,
        update,
    }
}

store_suite!(sqlite);
store_suite!(postgres);
