//! Declarative Device Management's storage, on SQLite and PostgreSQL: each change answers exactly
//! the enrolled devices whose manifest it altered; a device is served (and may fetch) only the
//! declarations of its sets, under tokens that follow their content; status reports (KMFDDM's real
//! one among them) are stored as the latest state of each declaration and item, with history, and
//! a changed state is an event.

mod support;

use enroll_svc::declarative::served::Channel;
use enroll_svc::declarative::status::StateFilter;
use enroll_svc::declarative::sync::Answer;
use enroll_svc::declarative::DeclarativeStore;
use enroll_svc::store::{ChannelKind, EnrollmentStore};
use enroll_svc::Error;
use mdm_core::ddm::{self, check_declaration, DeclarativeCheckin, Endpoint};
use serde_json::{json, Value};
use std::path::Path;
use support::{authenticate, token_update, Fixture};

/// The certificate of device `id`: one of its own, since one certificate binds one device.
fn cert_of(id: &str) -> [u8; 32] {
    let mut cert = [0u8; 32];
    for (byte, from) in cert.iter_mut().zip(id.bytes()) {
        *byte = from;
    }
    cert
}

/// `checkin` from device `id`, presenting its certificate; `None` when it is not bound.
async fn ask(
    store: &DeclarativeStore,
    id: &str,
    checkin: &DeclarativeCheckin,
) -> Result<Option<Answer>, Error> {
    let cert = cert_of(id);
    let channel = Channel {
        id,
        device_id: id,
        cert_sha256: &cert,
    };
    store.answer(&channel, checkin).await
}

/// `checkin` from device `id`, which must be bound.
async fn asked(
    store: &DeclarativeStore,
    id: &str,
    checkin: &DeclarativeCheckin,
) -> Result<Answer, Error> {
    Ok(ask(store, id, checkin)
        .await?
        .expect("the device's certificate is bound"))
}

/// An enrolled device (Authenticate, then TokenUpdate).
async fn enrolled(store: &EnrollmentStore, id: &str) {
    let cert = cert_of(id);
    authenticate(store, id, &cert).await.expect("authenticate");
    store
        .token_update(&token_update(id, id, ChannelKind::Device, &cert))
        .await
        .expect("token update");
}

fn passcode(identifier: &str, minimum_length: i64) -> ddm::Declaration {
    check_declaration(&json!({
        "Type": "com.apple.configuration.passcode.settings",
        "Identifier": identifier,
        "Payload": {"MinimumLength": minimum_length, "RequirePasscode": true},
    }))
    .expect("a valid declaration")
}

fn activation(identifier: &str, configurations: &[&str]) -> ddm::Declaration {
    check_declaration(&json!({
        "Type": "com.apple.activation.simple",
        "Identifier": identifier,
        "Payload": {"StandardConfigurations": configurations},
    }))
    .expect("a valid activation")
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn checkin(endpoint: Endpoint, data: Option<Vec<u8>>) -> DeclarativeCheckin {
    DeclarativeCheckin {
        ids: mdm_core::ids::ChannelIds {
            udid: Some("unused".into()),
            ..Default::default()
        },
        endpoint,
        data,
    }
}

async fn json_answer(store: &DeclarativeStore, id: &str, endpoint: Endpoint) -> Value {
    let answer = asked(store, id, &checkin(endpoint, None))
        .await
        .expect("answered");
    assert_eq!(answer.content_type, Some("application/json"));
    serde_json::from_slice(&answer.body).expect("JSON")
}

fn kmfddm(path: &str) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kmfddm");
    std::fs::read(root.join(path)).expect("fixture")
}

macro_rules! suite {
    ($engine:ident) => {
        mod $engine {
            use super::*;

            async fn fixture() -> Option<(Fixture, DeclarativeStore)> {
                let fixture = support::$engine().await?;
                let declarative = DeclarativeStore::new(fixture.store.db().clone());
                Some((fixture, declarative))
            }

            #[tokio::test]
            async fn changes_sync_exactly_the_enrolled_devices_they_alter() {
                let Some((f, store)) = fixture().await else { return };
                enrolled(&f.store, "DEV-A").await;
                enrolled(&f.store, "DEV-B").await;
                // Known but not enrolled (Authenticate only): assigned, never synced.
                authenticate(&f.store, "DEV-HALF", &[8; 32]).await.expect("authenticate");

                let (_, change) = store.put_declaration(&passcode("passcode", 6), "admin").await.unwrap();
                assert!(change.sync.is_empty(), "no set holds it yet");
                store.put_declaration(&activation("activate", &["passcode"]), "admin").await.unwrap();
                let (set, change) = store
                    .put_set("iphones", &ids(&["activate", "passcode", "passcode"]), "admin")
                    .await
                    .unwrap();
                assert_eq!(set.declarations, ids(&["activate", "passcode"]), "each once, in order");
                assert!(!change.change_id.is_empty());
                assert!(change.sync.is_empty(), "assigned to nobody yet");

                // Unknown devices are refused, naming them; nothing is assigned.
                let unknown = store
                    .assign("iphones", &ids(&["DEV-A", "NOPE-1"]), &[], "admin")
                    .await
                    .expect_err("an unknown device");
                assert!(unknown.to_string().contains("NOPE-1"), "{unknown}");
                assert_eq!(store.assignments("iphones", "", 100).await.unwrap(), Vec::<String>::new());

                let (set, change) = store
                    .assign("iphones", &ids(&["DEV-A", "DEV-B", "DEV-HALF"]), &[], "admin")
                    .await
                    .unwrap();
                assert_eq!(set.assigned, 3);
                assert_eq!(change.sync, ids(&["DEV-A", "DEV-B"]));
                // Assigning again changes nothing and syncs nobody.
                let (_, again) = store.assign("iphones", &ids(&["DEV-A"]), &[], "admin").await.unwrap();
                assert_eq!(again.sync, Vec::<String>::new());
                assert!(again.change_id.is_empty());

                // The same content again: no change. New content: every enrolled holder syncs.
                let (same, change) = store.put_declaration(&passcode("passcode", 6), "admin").await.unwrap();
                assert!(change.change_id.is_empty() && change.sync.is_empty());
                let (changed, change) =
                    store.put_declaration(&passcode("passcode", 8), "admin").await.unwrap();
                assert_ne!(same.server_token, changed.server_token);
                assert_eq!(change.sync, ids(&["DEV-A", "DEV-B"]));

                // The same declarations in another order: stored, nobody synced. One more
                // declaration: every enrolled device of the set.
                let (set, change) = store.put_set("iphones", &ids(&["passcode", "activate"]), "admin").await.unwrap();
                assert_eq!(set.declarations, ids(&["passcode", "activate"]));
                assert!(change.sync.is_empty(), "{change:?}");
                store.put_declaration(&passcode("passcode-2", 4), "admin").await.unwrap();
                let (_, change) = store
                    .put_set("iphones", &ids(&["passcode", "activate", "passcode-2"]), "admin")
                    .await
                    .unwrap();
                assert_eq!(change.sync, ids(&["DEV-A", "DEV-B"]));

                // Taking the set back from one device syncs only that one.
                let (_, change) = store.assign("iphones", &[], &ids(&["DEV-B"]), "admin").await.unwrap();
                assert_eq!(change.sync, ids(&["DEV-B"]));

                // A declaration a set holds cannot be deleted; the set's deletion syncs its devices.
                let held = store.delete_declaration("passcode").await.expect_err("in a set");
                assert!(matches!(held, Error::Conflict(_)), "{held}");
                assert!(held.to_string().contains("iphones"), "{held}");
                let change = store.delete_set("iphones").await.unwrap();
                assert_eq!(change.sync, ids(&["DEV-A"]));
                store.delete_declaration("passcode").await.expect("no set holds it now");
                assert!(matches!(
                    store.delete_declaration("passcode").await,
                    Err(Error::Absent(_))
                ));
                let refused = store.put_set("other", &ids(&["passcode"]), "admin").await.expect_err("gone");
                assert!(refused.to_string().contains("unknown declarations: passcode"), "{refused}");
            }

            #[tokio::test]
            async fn a_device_is_served_only_its_declarations_under_tokens_that_follow_them() {
                let Some((f, store)) = fixture().await else { return };
                enrolled(&f.store, "DEV-A").await;
                enrolled(&f.store, "DEV-B").await;
                store.put_declaration(&passcode("passcode", 6), "admin").await.unwrap();
                store.put_declaration(&activation("activate", &["passcode"]), "admin").await.unwrap();
                store.put_set("set", &ids(&["activate", "passcode"]), "admin").await.unwrap();
                store.assign("set", &ids(&["DEV-A"]), &[], "admin").await.unwrap();

                let tokens = json_answer(&store, "DEV-A", Endpoint::Tokens).await;
                let items = json_answer(&store, "DEV-A", Endpoint::DeclarationItems).await;
                let token = tokens["SyncTokens"]["DeclarationsToken"].clone();
                assert_eq!(items["DeclarationsToken"], token);
                assert!(tokens["SyncTokens"]["Timestamp"].as_str().unwrap().ends_with('Z'));
                assert_eq!(items["Declarations"]["Activations"][0]["Identifier"], "activate");
                assert_eq!(items["Declarations"]["Configurations"][0]["Identifier"], "passcode");
                assert_eq!(items["Declarations"]["Assets"], json!([]));

                let body = json_answer(
                    &store,
                    "DEV-A",
                    Endpoint::Declaration { category: ddm::Category::Configuration, identifier: "passcode".into() },
                )
                .await;
                assert_eq!(body["Payload"]["MinimumLength"], 6);
                assert_eq!(body["ServerToken"], items["Declarations"]["Configurations"][0]["ServerToken"]);

                // Not its own, or under another category: not found, whoever asks.
                for (id, category) in [("DEV-B", ddm::Category::Configuration), ("DEV-A", ddm::Category::Activation)] {
                    let refused = asked(&store, id, &checkin(Endpoint::Declaration { category, identifier: "passcode".into() }, None))
                        .await
                        .expect_err("not served");
                    assert!(matches!(refused, Error::Absent(_)), "{refused}");
                }
                // A certificate not bound to the device gets no answer, whatever it asks: the
                // caller then runs the full authorization, which refuses it.
                let wrong = [0xEE; 32];
                let stranger = Channel { id: "DEV-A", device_id: "DEV-A", cert_sha256: &wrong };
                let report = br#"{"StatusItems": {}, "Errors": []}"#.to_vec();
                for endpoint in [
                    checkin(Endpoint::Tokens, None),
                    checkin(Endpoint::DeclarationItems, None),
                    checkin(Endpoint::Declaration { category: ddm::Category::Configuration, identifier: "passcode".into() }, None),
                    checkin(Endpoint::Status, Some(report)),
                ] {
                    assert_eq!(store.answer(&stranger, &endpoint).await.unwrap(), None, "{endpoint:?}");
                }
                let empty = json_answer(&store, "DEV-B", Endpoint::DeclarationItems).await;
                assert_eq!(empty["Declarations"]["Configurations"], json!([]));
                assert_ne!(empty["DeclarationsToken"], token);

                // New content: a new token for the device that holds it.
                store.put_declaration(&passcode("passcode", 10), "admin").await.unwrap();
                let tokens = json_answer(&store, "DEV-A", Endpoint::Tokens).await;
                assert_ne!(tokens["SyncTokens"]["DeclarationsToken"], token);
            }

            #[tokio::test]
            async fn status_reports_are_stored_with_history_and_events() {
                let Some((f, store)) = fixture().await else { return };
                enrolled(&f.store, "DEV-A").await;
                let (served, _) = store.put_declaration(&passcode("passcode", 6), "admin").await.unwrap();
                store.put_declaration(&activation("activate", &["passcode"]), "admin").await.unwrap();
                store.put_set("set", &ids(&["activate", "passcode"]), "admin").await.unwrap();
                store.assign("set", &ids(&["DEV-A"]), &[], "admin").await.unwrap();
                let pending = store.states(Some("passcode"), None, StateFilter::Pending, "", 100).await.unwrap();
                assert_eq!(pending.len(), 1, "not reported yet");

                let report = |token: &str, valid: &str, version: &str| {
                    json!({"StatusItems": {
                        "device": {"operating-system": {"version": version}, "model": {"family": "iPhone"}},
                        "management": {"declarations": {
                            "activations": [{"identifier": "activate", "active": true, "valid": "valid", "server-token": "t"}],
                            "configurations": [{"identifier": "passcode", "active": valid == "valid", "valid": valid, "server-token": token,
                                "reasons": if valid == "valid" { json!([]) } else { json!([{"code": "Error.ConfigurationCannotBeApplied"}]) }}],
                        }}
                    }, "Errors": [], "FullReport": true})
                    .to_string()
                    .into_bytes()
                };
                let status = |body: Vec<u8>| checkin(Endpoint::Status, Some(body));
                asked(&store, "DEV-A", &status(report(&served.server_token, "valid", "17.1"))).await.unwrap();
                let applied = store.states(Some("passcode"), None, StateFilter::Applied, "", 100).await.unwrap();
                assert_eq!(applied.len(), 1);
                assert_eq!(applied[0].enrollment_id, "DEV-A");
                let mine = store.states(None, Some("DEV-A"), StateFilter::All, "", 100).await.unwrap();
                assert_eq!(mine.iter().map(|s| s.identifier.as_str()).collect::<Vec<_>>(), ["activate", "passcode"]);

                // The same report again changes nothing; a failure is stored with its reasons.
                asked(&store, "DEV-A", &status(report(&served.server_token, "valid", "17.1"))).await.unwrap();
                asked(&store, "DEV-A", &status(report(&served.server_token, "invalid", "17.2"))).await.unwrap();
                let failed = store.states(Some("passcode"), None, StateFilter::Failed, "", 100).await.unwrap();
                assert_eq!(failed.len(), 1);
                assert!(failed[0].reasons.as_deref().unwrap().contains("Error.ConfigurationCannotBeApplied"));
                let (items, full) = store.status_items("DEV-A").await.unwrap();
                assert!(full.is_some());
                let version: Vec<&str> = items
                    .iter()
                    .filter(|i| i.item == "device.operating-system.version")
                    .map(|i| i.value.as_str())
                    .collect();
                assert_eq!(version, ["\"17.2\""]);
                assert!(items.iter().all(|i| i.item != "management.declarations"));

                let events = f.store.db().clone();
                let kinds: Vec<String> = service_kit::with_db!(&events, pool => {
                    sqlx::query_scalar("SELECT type FROM event_outbox WHERE type LIKE 'declaration.%' ORDER BY position")
                        .fetch_all(pool)
                        .await
                })
                .unwrap();
                assert_eq!(kinds, ["declaration.status_changed", "declaration.status_changed"], "first report, then the failure");
                let history: i64 = service_kit::with_db!(&events, pool => {
                    sqlx::query_scalar("SELECT COUNT(*) FROM status_history WHERE item = 'device.operating-system.version'")
                        .fetch_one(pool)
                        .await
                })
                .unwrap();
                assert_eq!(history, 2, "17.1, then 17.2");
                let item = Some("device.operating-system.version");
                let newest = store.status_history("DEV-A", item, 0, 1).await.unwrap();
                assert_eq!(newest.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(), ["\"17.2\""]);
                let older = store.status_history("DEV-A", item, newest[0].id, 10).await.unwrap();
                assert_eq!(older.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(), ["\"17.1\""]);
                assert_eq!(store.status_history("DEV-A", None, 0, 10).await.unwrap().len(), 3, "every item's");
                assert_eq!(store.prune_history(service_kit::now_ms() + 1).await.unwrap(), 3, "two items, then one change");

                // A report that no longer lists a declaration drops its state.
                let none = json!({"StatusItems": {"management": {"declarations": {"activations": [], "configurations": []}}}, "Errors": []});
                asked(&store, "DEV-A", &status(none.to_string().into_bytes())).await.unwrap();
                let mine = store.states(None, Some("DEV-A"), StateFilter::All, "", 100).await.unwrap();
                assert!(mine.iter().all(|s| s.reported_server_token.is_none()), "{mine:?}");

                // A malformed report is refused and stores nothing.
                let refused = asked(&store, "DEV-A", &status(b"{\"StatusItems\": 3}".to_vec()))
                    .await
                    .expect_err("malformed");
                assert!(matches!(refused, Error::InvalidMessage(_)), "{refused}");
            }

            /// KMFDDM's real report (macOS, 2022): every declaration's state and the items.
            #[tokio::test]
            async fn the_real_kmfddm_report_is_stored() {
                let Some((f, store)) = fixture().await else { return };
                enrolled(&f.store, "DEV-MAC").await;
                let body = kmfddm(
                    "ddm/testdata/A047820F-FC6B-4104-BED0-466876D82BB8.20220628-103225.001918.status.json",
                );
                asked(&store, "DEV-MAC", &checkin(Endpoint::Status, Some(body))).await.expect("stored");
                let states: Vec<(String, bool, String)> = service_kit::with_db!(store.db(), pool => {
                    sqlx::query_as("SELECT identifier, active, valid FROM declaration_status WHERE enrollment_id = 'DEV-MAC' ORDER BY identifier")
                        .fetch_all(pool)
                        .await
                })
                .unwrap();
                assert_eq!(states.len(), 5);
                assert_eq!(states[0], ("0FCD2F56-D5BC-48EA-B98D-E0CCC0C6F9E0".into(), true, "invalid".into()));
                let (items, _) = store.status_items("DEV-MAC").await.unwrap();
                let capabilities = items.iter().find(|i| i.item == "management.client-capabilities").expect("kept whole");
                assert!(capabilities.value.contains("supported-versions"));
            }
        }
    };
}

suite!(sqlite);
suite!(postgres);
