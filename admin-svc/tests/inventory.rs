//! The device record follows what devices answer: a DeviceInformation, SecurityInfo or
//! InstalledApplicationList result reaches enroll-svc through command-svc's outbox, and the
//! admin API shows and filters on it. And a large fleet pages without repeats or gaps.

mod support;

use enroll_svc::store::{Authentication, ChannelKind, DeviceFacts, EnrollmentStore};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use service_kit::db::{DatabaseConfig, Db};
use std::collections::HashSet;
use support::{answer, device_when, start, Admin};
use testkit::{Engine, Stack, TestDevice};

async fn answers_fold_into_the_device_record(engine: Engine) {
    let Some(stack) = start(engine).await else {
        return;
    };
    let ops = Admin::ops(&stack);
    let device = TestDevice::enroll(&stack, "UDID-INVENTORY")
        .await
        .expect("enrolls");
    let before = ops
        .get("/v1/devices/UDID-INVENTORY")
        .await
        .expect(StatusCode::OK);
    assert_eq!(before["os_version"], "11.3.1", "from Authenticate");

    answer(
        &stack,
        &device,
        json!({"request_type": "DeviceInformation", "queries": ["OSVersion", "BuildVersion", "DeviceName"]}),
        "<key>QueryResponses</key><dict>\
           <key>OSVersion</key><string>18.2</string>\
           <key>BuildVersion</key><string>22C152</string>\
           <key>DeviceName</key><string>Kiosk 7</string>\
           <key>BatteryLevel</key><real>0.5</real>\
           <key>IsSupervised</key><true/>\
           <key>DeviceCapacity</key><real>64</real>\
           <key>AvailableDeviceCapacity</key><real>12.5</real>\
         </dict>",
    )
    .await;
    let after = device_when(&stack, "UDID-INVENTORY", |d| d["os_version"] == "18.2").await;
    assert_eq!(after["build_version"], "22C152");
    assert_eq!(after["device_name"], "Kiosk 7");
    assert_eq!(
        after["serial_number"], "C39TEST0001",
        "what the answer did not say is kept"
    );
    assert_eq!(after["inventory"]["battery_level"], 0.5);
    assert_eq!(after["inventory"]["supervised"], true);
    assert_eq!(after["inventory"]["available_gb"], 12.5);

    // The filters find it by what it answered, server-side.
    let ids = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|d| d["enrollment_id"].as_str().map(str::to_owned))
            .collect()
    };
    let found = ops
        .get("/v1/devices?os_version=18")
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(found), ["UDID-INVENTORY"]);
    let missing = ops
        .get("/v1/devices?os_version=11")
        .await
        .expect(StatusCode::OK);
    assert!(ids(missing).is_empty());
    let by_name = ops
        .get("/v1/devices?name=kiosk")
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        ids(by_name),
        ["UDID-INVENTORY"],
        "names match ignoring case"
    );
    let by_serial = ops
        .get("/v1/devices?serial=C39TEST0001&status=enrolled")
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(by_serial), ["UDID-INVENTORY"]);

    answer(
        &stack,
        &device,
        json!({"request_type": "SecurityInfo"}),
        "<key>SecurityInfo</key><dict>\
           <key>PasscodePresent</key><true/>\
           <key>HardwareEncryptionCaps</key><integer>3</integer>\
         </dict>",
    )
    .await;
    let secured = device_when(&stack, "UDID-INVENTORY", |d| {
        d["inventory"]["passcode_present"] == true
    })
    .await;
    assert_eq!(secured["inventory"]["encrypted"], true);
    assert_eq!(
        secured["os_version"], "18.2",
        "a SecurityInfo does not erase the OS version"
    );

    answer(
        &stack,
        &device,
        json!({"request_type": "InstalledApplicationList"}),
        "<key>InstalledApplicationList</key><array>\
           <dict><key>Identifier</key><string>com.example.b</string><key>Name</key><string>B</string>\
                 <key>ShortVersion</key><string>2.0</string><key>BundleSize</key><integer>2048</integer></dict>\
           <dict><key>Identifier</key><string>com.example.a</string><key>Name</key><string>A</string></dict>\
         </array>",
    )
    .await;
    device_when(&stack, "UDID-INVENTORY", |d| {
        d["inventory"]["app_count"] == 2
    })
    .await;
    let apps = ops.all("/v1/devices/UDID-INVENTORY/apps", 1).await;
    let identifiers: Vec<&str> = apps
        .iter()
        .filter_map(|a| a["identifier"].as_str())
        .collect();
    assert_eq!(identifiers, ["com.example.a", "com.example.b"]);
    assert_eq!(apps[1]["version"], "2.0");
    assert_eq!(apps[1]["size_bytes"], 2048);
}

#[tokio::test]
async fn answers_fold_into_the_device_record_on_sqlite() {
    answers_fold_into_the_device_record(Engine::Sqlite).await;
}

#[tokio::test]
async fn answers_fold_into_the_device_record_on_postgres() {
    answers_fold_into_the_device_record(Engine::Postgres).await;
}

/// Writes `count` enrollments straight into the stack's enroll-svc database (the API has no
/// bulk enrollment, and 10,000 devices through TLS would test the wrong thing).
async fn seed(stack: &Stack, count: usize) {
    let url = stack
        .enroll_env()
        .iter()
        .find(|(key, _)| key == "MDM_ENROLL_DATABASE__URL")
        .map(|(_, url)| url.clone())
        .expect("enroll-svc's database");
    let db = Db::connect(&DatabaseConfig::default(), &url)
        .await
        .expect("connect");
    let store = EnrollmentStore::open(db).await.expect("open");
    // Several at once on PostgreSQL: one commit each, and its commits wait for the disk. One at
    // a time on SQLite, which has one writer: sixteen queued behind enroll-svc's own writes
    // waited out the busy timeout on a loaded CI machine ("database is locked").
    let concurrency = if url.starts_with("sqlite") { 1 } else { 16 };
    futures::stream::iter(0..count)
        .for_each_concurrent(concurrency, |i| {
            let store = store.clone();
            async move {
                let id = format!("UDID-{i:05}");
                let facts = DeviceFacts {
                    serial_number: Some(format!("SN{i:05}")),
                    os_version: Some(if i % 2 == 0 { "17.5" } else { "18.1" }.into()),
                    model_name: Some("iPad".into()),
                    // A hundred devices share each name, in both cases: ties go by ID.
                    device_name: Some(format!(
                        "{} {:02}",
                        if i % 3 == 0 { "ipad" } else { "iPad" },
                        i % 100
                    )),
                    ..Default::default()
                };
                store
                    .authenticate(&Authentication {
                        id: &id,
                        channel: ChannelKind::Device,
                        cert_sha256: &sha(&id),
                        cert_common_name: &id,
                        topic: Some(testkit::messages::TOPIC),
                        facts: &facts,
                        message: b"",
                    })
                    .await
                    .expect("seeded");
            }
        })
        .await;
}

fn sha(text: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).to_vec()
}

async fn ten_thousand_devices_page_without_repeats_or_gaps(engine: Engine) {
    let Some(stack) = start(engine).await else {
        return;
    };
    const DEVICES: usize = 10_000;
    seed(&stack, DEVICES).await;
    let ops = Admin::ops(&stack);
    for limit in [1000, 333] {
        let devices = ops.all("/v1/devices", limit).await;
        let ids: Vec<&str> = devices
            .iter()
            .filter_map(|d| d["enrollment_id"].as_str())
            .collect();
        assert_eq!(ids.len(), DEVICES, "limit {limit}");
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), DEVICES, "limit {limit}: a device repeated");
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted, "limit {limit}: not in enrollment-ID order");
    }
    // A filtered list pages the same way.
    let newer = ops.all("/v1/devices?os_version=18", 777).await;
    assert_eq!(newer.len(), DEVICES / 2);
    assert!(newer.iter().all(|d| d["os_version"] == "18.1"));
    let one = ops
        .get("/v1/devices?serial=SN04242")
        .await
        .expect(StatusCode::OK);
    assert_eq!(one["items"][0]["enrollment_id"], "UDID-04242");
    assert_eq!(one["next_cursor"], Value::Null);

    // Sorted by name (ignoring case, ties by ID) from Z to A, paged: each device once, in order.
    let by_name = ops.all("/v1/devices?sort=name&descending=true", 777).await;
    let keys: Vec<(String, String)> = by_name
        .iter()
        .map(|d| {
            let name = d["device_name"].as_str().unwrap_or_default().to_lowercase();
            (
                name,
                d["enrollment_id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(keys.len(), DEVICES);
    assert!(
        keys.windows(2).all(|w| w[0] > w[1]),
        "not strictly Z to A by (name, ID)"
    );
    assert_eq!(keys[0].0, "ipad 99");
    let by_contact = ops
        .all("/v1/devices?sort=last_seen&descending=true", 1000)
        .await;
    let unique: HashSet<&str> = by_contact
        .iter()
        .filter_map(|d| d["enrollment_id"].as_str())
        .collect();
    assert_eq!(unique.len(), DEVICES, "by last contact: each device once");
    // A cursor continues only the order it was made in.
    let page = ops
        .get("/v1/devices?sort=name&limit=10")
        .await
        .expect(StatusCode::OK);
    let cursor = page["next_cursor"].as_str().expect("a cursor");
    let answer = ops.get(&format!("/v1/devices?cursor={cursor}")).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn ten_thousand_devices_page_without_repeats_or_gaps_on_sqlite() {
    ten_thousand_devices_page_without_repeats_or_gaps(Engine::Sqlite).await;
}

#[tokio::test]
async fn ten_thousand_devices_page_without_repeats_or_gaps_on_postgres() {
    ten_thousand_devices_page_without_repeats_or_gaps(Engine::Postgres).await;
}
