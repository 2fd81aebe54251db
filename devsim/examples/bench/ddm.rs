//! `ddm`: Declarative Device Management at fleet scale. A set (a passcode configuration and the
//! activation that applies it) is assigned to all N devices in one request; each device sleeps
//! until the mock APNs's feed reports its push, wakes, acknowledges `DeclarativeManagement`,
//! syncs (tokens, manifest, two declarations) and reports the configuration active. The figure is
//! the time from the assignment request to the last device's report stored; the API's count of
//! devices with the configuration applied is checked afterwards.

use devsim::admin::AdminApi;
use devsim::sim::SimDevice;
use mock_apns::PushFeed;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The configuration every device gets.
const PASSCODE: &str = "bench-passcode";

/// What a run did: the devices back, the seconds from assignment to the last report, the
/// failures.
pub struct Outcome {
    pub devices: Vec<SimDevice>,
    pub seconds: f64,
    pub failures: Vec<String>,
}

/// Makes the set (not measured), assigns it to every device and waits for all to report.
pub async fn run(
    admin: &AdminApi,
    feed: &PushFeed,
    devices: Vec<SimDevice>,
    concurrency: usize,
) -> anyhow::Result<Outcome> {
    admin
        .put(
            &format!("/v1/declarations/{PASSCODE}"),
            json!({"Type": "com.apple.configuration.passcode.settings",
                   "Payload": {"MinimumLength": 6, "RequirePasscode": true}}),
        )
        .await?;
    admin
        .put(
            "/v1/declarations/bench-activation",
            json!({"Type": "com.apple.activation.simple",
                   "Payload": {"StandardConfigurations": [PASSCODE]}}),
        )
        .await?;
    admin
        .put(
            "/v1/declaration-sets/bench",
            json!({"declarations": ["bench-activation", PASSCODE]}),
        )
        .await?;
    let ids: Vec<String> = devices.iter().map(SimDevice::enrollment_id).collect();
    let seen: Vec<usize> = devices
        .iter()
        .map(|d| feed.pushes_to(&d.token_hex()))
        .collect();
    let started = Instant::now();
    let assigned = admin
        .post("/v1/declaration-sets/bench/devices", json!({"assign": ids}))
        .await?;
    anyhow::ensure!(
        assigned["sync"]["devices"] == json!(devices.len()),
        "the assignment told {} devices, not {}",
        assigned["sync"]["devices"],
        devices.len()
    );
    let gate = Arc::new(Semaphore::new(concurrency));
    let results =
        futures::future::join_all(devices.into_iter().zip(seen).map(|(mut device, seen)| {
            let gate = Arc::clone(&gate);
            async move {
                let outcome = async {
                    let pushed = feed
                        .wait_for_push(&device.token_hex(), seen, Duration::from_secs(900))
                        .await;
                    anyhow::ensure!(pushed.is_some(), "{} was never pushed", device.udid());
                    let _permit = gate.acquire().await?;
                    device.reconnect()?;
                    device.session().await?;
                    let active = device
                        .declarations()
                        .iter()
                        .any(|d| d.identifier == PASSCODE && d.active);
                    anyhow::ensure!(
                        active,
                        "{} does not hold the configuration active",
                        device.udid()
                    );
                    Ok(())
                }
                .await;
                (device, outcome)
            }
        }))
        .await;
    let seconds = started.elapsed().as_secs_f64();
    let mut failures = Vec::new();
    let mut devices = Vec::with_capacity(results.len());
    for (device, outcome) in results {
        if let Err(error) = outcome {
            failures.push(error.to_string());
        }
        devices.push(device);
    }
    let applied = applied(admin).await?;
    if applied != devices.len() {
        failures.push(format!(
            "the API lists {applied} of {} devices with the configuration applied",
            devices.len()
        ));
    }
    Ok(Outcome {
        devices,
        seconds,
        failures,
    })
}

/// How many devices the API lists with the configuration applied (every page).
async fn applied(admin: &AdminApi) -> anyhow::Result<usize> {
    let mut count = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/declarations/{PASSCODE}/status?state=applied&limit=1000");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page = admin.get(&path).await?;
        count += page["items"].as_array().map_or(0, Vec::len);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(count),
        }
    }
}
