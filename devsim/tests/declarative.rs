//! Declarative Device Management on a real stack (proxy, enroll-svc, command-svc, push-svc,
//! admin-svc and the mock APNs as processes), on SQLite and on PostgreSQL: a set with a passcode
//! configuration and an activation whose predicate picks iPhones is assigned to simulated devices
//! (three iPhones and a Mac); they are pushed, sync, and report the declaration active and valid
//! (the Mac: held, not active); a new payload gives a new ServerToken, the devices re-sync and
//! report it; taking the set back from a device removes its declarations; a declaration of the
//! wrong type for a key is refused naming the key. A blueprint assigns a set by enrollment token.
//!
//! Run: `cargo build --workspace --bins && cargo test -p devsim --test declarative`.

use base64::Engine as _;
use devsim::sim::ddm::Validity;
use devsim::sim::fleet::FleetSpec;
use devsim::sim::{SimDevice, Transport};
use mock_apns::PushFeed;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use support::admin::{admin, call, enrolled, token};
use testkit::{Engine, Stack, StackOptions};

mod support;

const DEADLINE: Duration = Duration::from_secs(60);

/// The whole stack, with the mock APNs as a process whose feed tells devices of their pushes;
/// `None` when the PostgreSQL run is switched off.
async fn start(options: StackOptions) -> Option<Stack> {
    let options = StackOptions {
        apns_process: true,
        ..options
    };
    let stack = Stack::start(options).await.expect("the stack starts");
    if stack.is_none() {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
    }
    stack
}

/// `devices` devices (the first `macs` of them Macs, each with `users` user channels) enrolled
/// with identities issued up front, talking to the stack over `transport`.
async fn preissued(
    stack: &Stack,
    transport: Transport,
    prefix: &str,
    devices: usize,
    macs: usize,
    users: usize,
) -> Vec<SimDevice> {
    let spec = FleetSpec {
        devices,
        macs,
        users_per_mac: users,
        first: 0,
        udid_prefix: prefix.into(),
        concurrency: 4,
        resume_tls: false,
    };
    support::preissued_fleet(stack, &stack.device_url, transport, spec).await
}

/// Each device waits for its next push (after `seen` of them), wakes and runs a session, which
/// acknowledges the DeclarativeManagement command and syncs.
async fn wake(
    stack: &Stack,
    feed: &PushFeed,
    devices: Vec<SimDevice>,
    seen: usize,
) -> Vec<SimDevice> {
    futures::future::join_all(devices.into_iter().map(|mut device| async move {
        let pushed = feed
            .wait_for_push(&device.token_hex(), seen, DEADLINE)
            .await;
        assert!(pushed.is_some(), "{} was not pushed", device.udid());
        device.reconnect().expect("new connection");
        let handled = device
            .session()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", device.udid(), stack.logs()));
        assert!(
            handled
                .iter()
                .any(|h| h.request_type == "DeclarativeManagement"),
            "{} got {handled:?}",
            device.udid()
        );
        device
    }))
    .await
}

/// What a device holds of `identifier`: (ServerToken, active, valid).
fn held(device: &SimDevice, identifier: &str) -> Option<(String, bool, Validity)> {
    device
        .declarations()
        .into_iter()
        .find(|d| d.identifier == identifier)
        .map(|d| (d.server_token, d.active, d.valid))
}

/// The devices a declaration's status lists in `state`, by ID.
async fn devices_in(stack: &Stack, identifier: &str, state: &str) -> Vec<String> {
    let page = admin(
        stack,
        Method::GET,
        &format!("/v1/declarations/{identifier}/status?state={state}"),
        None,
    )
    .await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| s["device"].as_str().expect("device").to_owned())
        .collect()
}

async fn declarations_reach_devices_and_follow_changes(engine: Engine) {
    let Some(stack) = start(StackOptions::new(engine)).await else {
        return;
    };
    let devices = preissued(&stack, Transport::Mtls, "DDM-", 4, 1, 0).await;
    let ids: Vec<String> = devices.iter().map(SimDevice::enrollment_id).collect();
    let mac = devices
        .iter()
        .find(|d| d.facts.product_name.starts_with("Mac"))
        .expect("a Mac")
        .enrollment_id();
    let mut iphones: Vec<String> = ids.iter().filter(|id| **id != mac).cloned().collect();
    iphones.sort();

    // A wrong type for a key is refused, naming it; nothing is stored.
    let (status, problem) = call(
        &stack,
        Method::PUT,
        "/v1/declarations/passcode",
        Some(json!({"Type": "com.apple.configuration.passcode.settings",
                    "Payload": {"MinimumLength": "six"}})),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("Payload.MinimumLength"), "{problem}");
    let (status, _) = call(&stack, Method::GET, "/v1/declarations/passcode", None).await;
    assert_eq!(status, 404);

    // A passcode configuration, activated on iPhones only, in a set assigned to every device.
    let passcode = |length: i64| {
        json!({"Type": "com.apple.configuration.passcode.settings",
               "Payload": {"MinimumLength": length, "RequirePasscode": true}})
    };
    let first = admin(
        &stack,
        Method::PUT,
        "/v1/declarations/passcode",
        Some(passcode(6)),
    )
    .await;
    let first_token = first["declaration"]["server_token"]
        .as_str()
        .expect("token")
        .to_owned();
    admin(
        &stack,
        Method::PUT,
        "/v1/declarations/iphones-only",
        Some(json!({"Type": "com.apple.activation.simple",
                    "Payload": {"StandardConfigurations": ["passcode"],
                                "Predicate": "@status(device.model.family) == \"iPhone\""}})),
    )
    .await;
    admin(
        &stack,
        Method::PUT,
        "/v1/declaration-sets/baseline",
        Some(json!({"declarations": ["iphones-only", "passcode"]})),
    )
    .await;
    let feed = stack.apns.feed();
    let assigned = admin(
        &stack,
        Method::POST,
        "/v1/declaration-sets/baseline/devices",
        Some(json!({"assign": ids})),
    )
    .await;
    assert_eq!(assigned["sync"]["devices"], 4, "{assigned}");
    assert_eq!(
        assigned["sync"]["commands"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(assigned["set"]["devices"], 4);

    let devices = wake(&stack, feed, devices, 0).await;
    for device in &devices {
        let passcode = held(device, "passcode").expect("the configuration is held");
        assert_eq!(passcode.0, first_token);
        let is_mac = device.enrollment_id() == mac;
        // The Mac holds both, but its activation's predicate is false: nothing is in force.
        assert_eq!(passcode.1, !is_mac, "{}", device.udid());
        let activation = held(device, "iphones-only").expect("the activation is held");
        assert_eq!((activation.1, activation.2), (!is_mac, Validity::Valid));
    }
    // The devices' reports reached the server: the iPhones have it applied.
    assert_eq!(devices_in(&stack, "passcode", "applied").await, iphones);
    assert!(devices_in(&stack, "passcode", "pending").await.is_empty());
    let items = admin(
        &stack,
        Method::GET,
        &format!("/v1/devices/{}/status-items", iphones[0]),
        None,
    )
    .await;
    assert!(
        items["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["item"] == "device.model.family" && i["value"] == "iPhone"),
        "{items}"
    );
    assert!(items["full_report_at"].is_string(), "{items}");
    let history = admin(
        &stack,
        Method::GET,
        &format!(
            "/v1/devices/{}/status-items/history?item=device.model.family",
            iphones[0]
        ),
        None,
    )
    .await;
    assert_eq!(history["items"][0]["value"], "iPhone", "{history}");
    assert_eq!(
        history["items"].as_array().map(Vec::len),
        Some(1),
        "{history}"
    );

    // New content: a new ServerToken, every holder told once, and each reports the new version.
    let second = admin(
        &stack,
        Method::PUT,
        "/v1/declarations/passcode",
        Some(passcode(8)),
    )
    .await;
    let second_token = second["declaration"]["server_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_ne!(second_token, first_token);
    assert_eq!(second["sync"]["devices"], 4, "{second}");
    let same = admin(
        &stack,
        Method::PUT,
        "/v1/declarations/passcode",
        Some(passcode(8)),
    )
    .await;
    assert_eq!(same["changed"], false);
    assert_eq!(
        same["sync"]["devices"], 0,
        "the same content again tells nobody"
    );
    let devices = wake(&stack, feed, devices, 1).await;
    for device in &devices {
        let (token, _, _) = held(device, "passcode").expect("held");
        assert_eq!(token, second_token, "{}", device.udid());
    }
    assert_eq!(devices_in(&stack, "passcode", "applied").await, iphones);
    let states = admin(
        &stack,
        Method::GET,
        &format!("/v1/devices/{}/declarations", iphones[0]),
        None,
    )
    .await;
    let reported = &states["items"].as_array().expect("items")[1];
    assert_eq!(reported["identifier"], "passcode");
    assert_eq!(reported["reported"]["server_token"], second_token.as_str());
    assert_eq!(reported["applied"], true);

    // Taken back from one iPhone: only it is told, and its manifest is empty.
    let leaving = iphones[0].clone();
    let unassigned = admin(
        &stack,
        Method::POST,
        "/v1/declaration-sets/baseline/devices",
        Some(json!({"unassign": [leaving]})),
    )
    .await;
    assert_eq!(unassigned["sync"]["devices"], 1, "{unassigned}");
    let (leaver, others): (Vec<SimDevice>, Vec<SimDevice>) = devices
        .into_iter()
        .partition(|d| d.enrollment_id() == leaving);
    let leaver = wake(&stack, feed, leaver, 2).await;
    assert!(
        leaver[0].declarations().is_empty(),
        "{:?}",
        leaver[0].declarations()
    );
    for device in &others {
        assert_eq!(
            feed.pushes_to(&device.token_hex()),
            2,
            "{} was not told",
            device.udid()
        );
    }
    let listed = admin(
        &stack,
        Method::GET,
        &format!("/v1/devices/{leaving}/declarations"),
        None,
    )
    .await;
    assert_eq!(listed["items"], json!([]));
    assert_eq!(
        devices_in(&stack, "passcode", "applied").await,
        iphones[1..]
    );

    // A declaration a set holds cannot be deleted.
    let (status, problem) = call(&stack, Method::DELETE, "/v1/declarations/passcode", None).await;
    assert_eq!(status, 409, "{problem}");
}

/// Assignment by enrollment token: a blueprint limited to a token assigns its declaration set to
/// each device enrolled with it, which is told to sync and holds the set; a device enrolled with
/// another token gets nothing. A blueprint naming a set that does not exist is refused.
async fn a_blueprint_assigns_sets_by_enrollment_token(engine: Engine) {
    let Some(stack) = start(StackOptions {
        admin_env: vec![("MDM_ADMIN_EVENTS__POLL_MS", "100".into())],
        ..StackOptions::new(engine)
    })
    .await
    else {
        return;
    };
    admin(
        &stack,
        Method::PUT,
        "/v1/declarations/passcode",
        Some(json!({"Type": "com.apple.configuration.passcode.settings",
                    "Payload": {"MinimumLength": 6}})),
    )
    .await;
    admin(
        &stack,
        Method::PUT,
        "/v1/declarations/activation",
        Some(json!({"Type": "com.apple.activation.simple",
                    "Payload": {"StandardConfigurations": ["passcode"]}})),
    )
    .await;
    admin(
        &stack,
        Method::PUT,
        "/v1/declaration-sets/by-token",
        Some(json!({"declarations": ["activation", "passcode"]})),
    )
    .await;
    let (token_id, secret) = token(&stack, "DDM by token").await;
    let (_, other_secret) = token(&stack, "no declarations").await;
    let (status, problem) = call(
        &stack,
        Method::POST,
        "/v1/blueprints",
        Some(json!({"name": "unknown set", "commands": [], "declaration_sets": ["nope"]})),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("nope"),
        "{problem}"
    );
    let blueprint = admin(
        &stack,
        Method::POST,
        "/v1/blueprints",
        Some(json!({"name": "ddm by token", "commands": [],
                    "declaration_sets": ["by-token"], "enrollment_tokens": [token_id]})),
    )
    .await;
    assert_eq!(blueprint["declaration_sets"], json!(["by-token"]));

    let device = enrolled(&stack, &secret, "DDM-TOKEN-1", false).await;
    let other = enrolled(&stack, &other_secret, "DDM-TOKEN-2", false).await;
    let devices = wake(&stack, stack.apns.feed(), vec![device], 0).await;
    let passcode = held(&devices[0], "passcode").expect("the set's configuration is held");
    assert_eq!((passcode.1, passcode.2), (true, Validity::Valid));
    let assigned = admin(
        &stack,
        Method::GET,
        "/v1/declaration-sets/by-token/devices",
        None,
    )
    .await;
    assert_eq!(assigned["items"], json!(["DDM-TOKEN-1"]));
    assert_eq!(
        devices_in(&stack, "passcode", "applied").await,
        ["DDM-TOKEN-1"]
    );
    let none = admin(
        &stack,
        Method::GET,
        &format!("/v1/devices/{}/declarations", other.udid()),
        None,
    )
    .await;
    assert_eq!(none["items"], json!([]));
}

/// An asset the server keeps: its data is given once (never shown again), sealed; the server
/// makes the declaration that references it at the edge's asset proxy; a device that holds the
/// asset fetches it as itself and checks it against the declared size and digest; a device that
/// does not hold it is refused, as is any other identifier. On SQLite in mTLS mode, on
/// PostgreSQL with Mdm-Signature (a GET signs its empty body).
async fn an_asset_is_served_only_to_the_devices_that_hold_it(
    engine: Engine,
    mode: &'static str,
    transport: Transport,
) {
    let Some(stack) = start(StackOptions {
        device_mode: mode,
        ..StackOptions::new(engine)
    })
    .await
    else {
        return;
    };
    let mut devices = preissued(&stack, transport, "ASSET-", 2, 0, 0).await;
    let outsider = devices.pop().expect("two devices");

    let secret = br#"{"UserName": "mail-user", "Password": "s3cret"}"#;
    let stored = admin(
        &stack,
        Method::PUT,
        "/v1/declarations/mail-credential/asset",
        Some(json!({"type": "com.apple.asset.credential.userpassword",
                    "content_type": "application/json",
                    "data": base64::engine::general_purpose::STANDARD.encode(secret)})),
    )
    .await;
    let reference = &stored["declaration"]["payload"]["Reference"];
    let url = reference["DataURL"].as_str().expect("DataURL").to_owned();
    assert!(url.ends_with("/assets/mail-credential"), "{stored}");
    assert_eq!(reference["Size"], secret.len());
    assert_eq!(
        stored["declaration"]["payload"]["Authentication"]["Type"],
        "MDM"
    );
    let shown = admin(
        &stack,
        Method::GET,
        "/v1/declarations/mail-credential",
        None,
    )
    .await;
    assert!(
        !shown.to_string().contains("s3cret"),
        "the data is never shown: {shown}"
    );
    admin(
        &stack,
        Method::PUT,
        "/v1/declaration-sets/mail",
        Some(json!({"declarations": ["mail-credential"]})),
    )
    .await;
    let holder = devices[0].enrollment_id();
    admin(
        &stack,
        Method::POST,
        "/v1/declaration-sets/mail/devices",
        Some(json!({"assign": [holder]})),
    )
    .await;
    let devices = wake(&stack, stack.apns.feed(), devices, 0).await;
    let asset = devices[0]
        .declarations()
        .into_iter()
        .find(|d| d.identifier == "mail-credential")
        .expect("the asset is held");
    assert_eq!(asset.valid, Validity::Valid, "{asset:?}");
    assert_eq!(asset.asset_data.as_deref(), Some(&secret[..]));
    assert_eq!(
        devices_in(&stack, "mail-credential", "applied").await,
        [holder]
    );

    // Another managed device, with its own valid identity, gets nothing; nor does anyone for an
    // identifier that is no asset.
    let refused = outsider
        .get_as_device(&url, 1 << 20)
        .await
        .expect_err("not its asset");
    assert!(refused.to_string().contains("404"), "{refused}");
    let missing = url.replace("mail-credential", "nothing-here");
    let refused = devices[0]
        .get_as_device(&missing, 1 << 20)
        .await
        .expect_err("no such asset");
    assert!(refused.to_string().contains("404"), "{refused}");

    // New data: a new ServerToken, and the holder is told to sync.
    let changed = admin(
        &stack,
        Method::PUT,
        "/v1/declarations/mail-credential/asset",
        Some(json!({"type": "com.apple.asset.credential.userpassword",
                    "content_type": "application/json",
                    "data": base64::engine::general_purpose::STANDARD.encode(b"{}")})),
    )
    .await;
    assert_ne!(
        changed["declaration"]["server_token"],
        stored["declaration"]["server_token"]
    );
    assert_eq!(changed["sync"]["devices"], 1, "{changed}");
}

#[tokio::test]
async fn an_asset_is_served_only_to_the_devices_that_hold_it_on_sqlite() {
    an_asset_is_served_only_to_the_devices_that_hold_it(Engine::Sqlite, "mtls", Transport::Mtls)
        .await;
}

#[tokio::test]
async fn an_asset_is_served_only_to_the_devices_that_hold_it_on_postgres() {
    an_asset_is_served_only_to_the_devices_that_hold_it(
        Engine::Postgres,
        "signature",
        Transport::Signature,
    )
    .await;
}

/// The headline declarations from the API: a software update enforced to an OS version by a
/// date, activated by a predicate on a management property. Devices whose property matches hold
/// it active; after the property changes, none does.
async fn a_software_update_is_enforced_where_a_property_says(engine: Engine) {
    let Some(stack) = start(StackOptions::new(engine)).await else {
        return;
    };
    let devices = preissued(&stack, Transport::Mtls, "UPDATE-", 2, 0, 0).await;
    let properties = |group: &str| json!({"Type": "com.apple.management.properties", "Payload": {"update-group": group}});
    for (identifier, body) in [
        (
            "update-by-date",
            json!({"Type": "com.apple.configuration.softwareupdate.enforcement.specific",
                   "Payload": {"TargetOSVersion": "17.2", "TargetLocalDateTime": "2026-12-31T18:00:00"}}),
        ),
        ("properties", properties("early")),
        (
            "early-updates",
            json!({"Type": "com.apple.activation.simple",
                   "Payload": {"StandardConfigurations": ["update-by-date"],
                               "Predicate": "@property(update-group) == \"early\""}}),
        ),
    ] {
        admin(
            &stack,
            Method::PUT,
            &format!("/v1/declarations/{identifier}"),
            Some(body),
        )
        .await;
    }
    admin(
        &stack,
        Method::PUT,
        "/v1/declaration-sets/updates",
        Some(json!({"declarations": ["early-updates", "properties", "update-by-date"]})),
    )
    .await;
    let ids: Vec<String> = devices.iter().map(SimDevice::enrollment_id).collect();
    admin(
        &stack,
        Method::POST,
        "/v1/declaration-sets/updates/devices",
        Some(json!({"assign": ids})),
    )
    .await;
    let feed = stack.apns.feed();
    let devices = wake(&stack, feed, devices, 0).await;
    for device in &devices {
        let update = held(device, "update-by-date").expect("held");
        assert_eq!(
            (update.1, update.2),
            (true, Validity::Valid),
            "{}",
            device.udid()
        );
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(
        devices_in(&stack, "update-by-date", "applied").await,
        sorted
    );

    // The property changes: the predicate no longer holds, and the update is not in force.
    let changed = admin(
        &stack,
        Method::PUT,
        "/v1/declarations/properties",
        Some(properties("late")),
    )
    .await;
    assert_eq!(changed["sync"]["devices"], 2, "{changed}");
    let devices = wake(&stack, feed, devices, 1).await;
    for device in &devices {
        let update = held(device, "update-by-date").expect("held");
        assert!(!update.1, "{} still enforces the update", device.udid());
    }
    assert!(devices_in(&stack, "update-by-date", "applied")
        .await
        .is_empty());
}

#[tokio::test]
async fn a_software_update_is_enforced_where_a_property_says_on_sqlite() {
    a_software_update_is_enforced_where_a_property_says(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_software_update_is_enforced_where_a_property_says_on_postgres() {
    a_software_update_is_enforced_where_a_property_says(Engine::Postgres).await;
}

/// A Mac user's channel holds declarations of its own: a set assigned to `<UDID>:<UserID>`
/// reaches that channel (its check-ins carry the UserID), not the Mac's device channel.
async fn a_user_channel_holds_its_own_declarations(engine: Engine) {
    let Some(stack) = start(StackOptions::new(engine)).await else {
        return;
    };
    let mut channels = preissued(&stack, Transport::Mtls, "USER-DDM-", 1, 1, 1).await;
    let at = channels
        .iter()
        .position(|c| c.user.is_some())
        .expect("a user channel");
    let user = channels.remove(at);
    let mac = channels.pop().expect("the device channel");
    let user_id = user.enrollment_id();
    for (identifier, body) in [
        (
            "user-passcode",
            json!({"Type": "com.apple.configuration.passcode.settings", "Payload": {"MinimumLength": 4}}),
        ),
        (
            "user-activation",
            json!({"Type": "com.apple.activation.simple",
                   "Payload": {"StandardConfigurations": ["user-passcode"]}}),
        ),
    ] {
        admin(
            &stack,
            Method::PUT,
            &format!("/v1/declarations/{identifier}"),
            Some(body),
        )
        .await;
    }
    admin(
        &stack,
        Method::PUT,
        "/v1/declaration-sets/user",
        Some(json!({"declarations": ["user-activation", "user-passcode"]})),
    )
    .await;
    let assigned = admin(
        &stack,
        Method::POST,
        "/v1/declaration-sets/user/devices",
        Some(json!({"assign": [user_id]})),
    )
    .await;
    assert_eq!(assigned["sync"]["devices"], 1, "{assigned}");
    let user = wake(&stack, stack.apns.feed(), vec![user], 0).await;
    let passcode = held(&user[0], "user-passcode").expect("held by the user channel");
    assert_eq!((passcode.1, passcode.2), (true, Validity::Valid));
    assert_eq!(
        devices_in(&stack, "user-passcode", "applied").await,
        [user_id]
    );
    assert_eq!(
        stack.apns.feed().pushes_to(&mac.token_hex()),
        0,
        "the Mac itself was not told"
    );
    let none = admin(
        &stack,
        Method::GET,
        &format!("/v1/devices/{}/declarations", mac.enrollment_id()),
        None,
    )
    .await;
    assert_eq!(none["items"], json!([]));
}

#[tokio::test]
async fn a_user_channel_holds_its_own_declarations_on_sqlite() {
    a_user_channel_holds_its_own_declarations(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_user_channel_holds_its_own_declarations_on_postgres() {
    a_user_channel_holds_its_own_declarations(Engine::Postgres).await;
}

#[tokio::test]
async fn a_blueprint_assigns_sets_by_enrollment_token_on_sqlite() {
    a_blueprint_assigns_sets_by_enrollment_token(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_blueprint_assigns_sets_by_enrollment_token_on_postgres() {
    a_blueprint_assigns_sets_by_enrollment_token(Engine::Postgres).await;
}

#[tokio::test]
async fn declarations_reach_devices_and_follow_changes_on_sqlite() {
    declarations_reach_devices_and_follow_changes(Engine::Sqlite).await;
}

#[tokio::test]
async fn declarations_reach_devices_and_follow_changes_on_postgres() {
    declarations_reach_devices_and_follow_changes(Engine::Postgres).await;
}
