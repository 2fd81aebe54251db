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
        }
    };
}

events_suite!(sqlite);
events_suite!(postgres);
