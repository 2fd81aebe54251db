//! enroll-svc's event outbox on SQLite and PostgreSQL: each accepted check-in leaves its event
//! with the change (a new enrollment, a re-enrollment, the first TokenUpdate of each, a CheckOut);
//! a refused one leaves none.

mod support;

use enroll_svc::store::ChannelKind;
use service_kit::events::Outbox;
use support::*;

/// The events waiting, as (type, enrollment, attributes), then acknowledged.
async fn drain(outbox: &Outbox) -> Vec<(String, String, serde_json::Value)> {
    let events = outbox.pull(1000).await.expect("pull");
    let positions: Vec<i64> = events.iter().map(|e| e.position).collect();
    outbox.ack(&positions).await.expect("ack");
    events
        .into_iter()
        .map(|e| {
            let attributes = serde_json::from_str(&e.attributes_json).unwrap_or_default();
            (e.r#type, e.enrollment_id, attributes)
        })
        .collect()
}

macro_rules! events_suite {
    ($engine:ident) => {
        mod $engine {
            use super::*;

            #[tokio::test]
            async fn each_check_in_leaves_its_event_and_a_refusal_none() {
                let Some(f) = super::$engine().await else {
                    return;
                };
                let outbox = Outbox::new(f.store.db().clone());
                authenticate(&f.store, "D1", &CERT_A).await.expect("auth");
                let update = token_update("D1", "D1", ChannelKind::Device, &CERT_A);
                f.store.token_update(&update).await.expect("first");
                f.store.token_update(&update).await.expect("again");
                let events = drain(&outbox).await;
                let kinds: Vec<&str> = events.iter().map(|(k, _, _)| k.as_str()).collect();
                assert_eq!(
                    kinds,
                    [
                        "enrollment.authenticated",
                        "enrollment.token_update",
                        "enrollment.token_update"
                    ]
                );
                assert_eq!(events[0].1, "D1");
                assert_eq!(events[0].2["serial_number"], "SERIAL");
                assert_eq!(events[0].2["generation"], 1);
                assert_eq!(events[1].2["first"], true, "{:?}", events[1]);
                assert_eq!(events[1].2["awaiting_configuration"], true);
                assert_eq!(events[2].2["first"], false, "a repeated TokenUpdate");

                // Another certificate without proof (not naming the device): refused, and
                // nothing to say.
                assert!(authenticate_as(&f.store, "D1", &CERT_B, "SOMEONE-ELSE")
                    .await
                    .is_err());
                assert!(drain(&outbox).await.is_empty());

                // The same certificate again: a re-enrollment, whose TokenUpdate is first again.
                authenticate(&f.store, "D1", &CERT_A).await.expect("again");
                f.store
                    .token_update(&update)
                    .await
                    .expect("first of generation 2");
                f.store
                    .check_out("D1", "D1", &CERT_A, b"<plist/>")
                    .await
                    .expect("out");
                let events = drain(&outbox).await;
                let kinds: Vec<&str> = events.iter().map(|(k, _, _)| k.as_str()).collect();
                assert_eq!(
                    kinds,
                    [
                        "enrollment.reenrolled",
                        "enrollment.token_update",
                        "enrollment.checked_out"
                    ]
                );
                assert_eq!(events[1].2["first"], true);
                assert_eq!(events[1].2["generation"], 2);
                // Checked out: a TokenUpdate is refused, and says nothing.
                assert!(f.store.token_update(&update).await.is_err());
                assert!(drain(&outbox).await.is_empty());
            }

            #[tokio::test]
            async fn an_identity_near_expiry_is_announced_once() {
                let Some(f) = super::$engine().await else {
                    return;
                };
                let outbox = Outbox::new(f.store.db().clone());
                let now = 1_700_000_000_000_i64;
                let day = 86_400_000_i64;
                for (id, cert) in [("SOON", CERT_A), ("LATER", CERT_B), ("GONE", [0xC; 32])] {
                    authenticate(&f.store, id, &cert).await.expect("auth");
                    let update = token_update(id, id, ChannelKind::Device, &cert);
                    f.store.token_update(&update).await.expect("enrolled");
                }
                f.store
                    .check_out("GONE", "GONE", &[0xC; 32], b"")
                    .await
                    .expect("out");
                // Our CA issued all three: one expires in 10 days, one in a year, and one
                // belongs to a device that left.
                for (serial, cert, not_after) in [
                    ("0a", CERT_A.to_vec(), now + 10 * day),
                    ("0b", CERT_B.to_vec(), now + 365 * day),
                    ("0c", vec![0xC; 32], now + 10 * day),
                ] {
                    issued(f.store.db(), serial, &cert, not_after).await;
                }
                drain(&outbox).await;
                let threshold = now + 60 * day;
                let noticed = f
                    .store
                    .notice_expiring_identities(threshold, now)
                    .await
                    .expect("sweep");
                assert_eq!(noticed, 1);
                assert_eq!(
                    f.store
                        .notice_expiring_identities(threshold, now)
                        .await
                        .expect("again"),
                    0
                );
                let events = drain(&outbox).await;
                assert_eq!(events.len(), 1, "{events:?}");
                let (kind, enrollment, attributes) = &events[0];
                assert_eq!(
                    (kind.as_str(), enrollment.as_str()),
                    ("enrollment.identity_expiring", "SOON")
                );
                assert_eq!(attributes["serial"], "0a");
                assert_eq!(attributes["not_after_ms"], now + 10 * day);
            }
        }
    };
}

/// A certificate our CA issued, as the SCEP service records it.
async fn issued(db: &service_kit::db::Db, serial: &str, sha256: &[u8], not_after: i64) {
    service_kit::with_db!(db, pool => sqlx::query(
        "INSERT INTO issued_certificates (serial, sha256, common_name, flow, issued_at, not_after)
         VALUES ($1, $2, $3, 'ota', 0, $4)",
    )
    .bind(serial)
    .bind(sha256)
    .bind(serial)
    .bind(not_after)
    .execute(pool)
    .await
    .map(|_| ()))
    .expect("issued");
}

events_suite!(sqlite);
events_suite!(postgres);
