//! The administrator's views of the enrollment store, on SQLite and PostgreSQL: the device list
//! (filtered, paged, sorted) and the dashboard's counts.

mod support;

use enroll_svc::store::{ChannelKind, DeviceFilter, DeviceOrder, EnrollmentCounts};
use enroll_svc::Error;
use mdm_core::InventoryUpdate;
use support::*;

macro_rules! listing_suite {
    ($engine:ident) => {
        mod $engine {
            use super::*;

            async fn store() -> Option<Fixture> {
                super::$engine().await
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
                    .check_out("D2", "D2", &CERT_B, b"")
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
        }
    };
}

listing_suite!(sqlite);
listing_suite!(postgres);
