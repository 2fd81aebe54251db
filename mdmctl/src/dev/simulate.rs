//! `mdmctl dev simulate`: simulated devices (devsim's [`SimDevice`]) against the running
//! development server, the way real ones meet it. Each gets its identity certificate one of
//! three ways ([`EnrollMethod`]): through the direct enrollment profile and SCEP, through OTA
//! enrollment (phase 2 signed by a certificate from the simulated Apple device CA), or issued
//! up front by the device CA (CN = a new UDID); the first two use one enrollment token created
//! through the admin API. Each then enrolls over mTLS (Authenticate, TokenUpdate);
//! DeviceInformation is queued to all of them through the admin API, which pushes them through
//! push-svc and the mock APNs; each device sleeps until the mock APNs's push feed reports its
//! push, then opens a session (Idle, the command, its answer), as a phone does; the answers are
//! read back through the admin API and printed. (Against a server whose dev.json names no push
//! feed, devices poll with sessions instead.)

use super::certs::KeyedCert;
use super::info::{runs_as, DevInfo, LAUNCHER};
use super::layout::{Layout, PemPair};
use super::sim_report::{self, DeviceResult};
use super::specs::{self, MOCK_APNS};
use super::SimulateArgs;
use crate::cli::OutputFormat;
use crate::client::{Api, Span};
use crate::config::{parse_url, Connection};
use crate::devices::list_all;
use crate::duration::ttl;
use crate::exit::Failure;
use crate::output;
use anyhow::Context;
use devsim::sim::fleet::{self, FleetSpec, Provisioning};
use devsim::sim::{EnrollmentServer, SimConfig, SimDevice, Stats, Transport};
use mdm_api::commands::{DeliveryQuery, EnqueueRequest};
use mdm_api::devices::DeviceQuery;
use mdm_api::enrollment::EnrollmentTokenRequest;
use mock_apns::PushFeed;
use serde_json::{json, Map};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Pause between two rounds of sessions while devices still have not answered.
const POLL: Duration = Duration::from_millis(250);
/// How long to look for the devices' pushes in the mock APNs's log once they answered (it
/// prints its deliveries every 200 ms).
const PUSH_LOOKUP: Duration = Duration::from_secs(3);
/// Enrollments in flight at once.
const ENROLLMENTS_IN_FLIGHT: usize = 8;
/// What DeviceInformation asks.
const QUERIES: [&str; 4] = ["DeviceName", "OSVersion", "SerialNumber", "ModelName"];

/// How a simulated device gets its identity certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EnrollMethod {
    /// The direct enrollment profile (`/enroll/profile?token=`), then SCEP.
    Profile,
    /// OTA enrollment through the Profile Service, signed by a certificate from the simulated
    /// Apple device CA, then SCEP twice.
    Ota,
    /// Issued up front by the device CA (CN = the UDID); no enrollment flow.
    Preissued,
}

impl std::fmt::Display for EnrollMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EnrollMethod::Profile => "the direct profile",
            EnrollMethod::Ota => "OTA",
            EnrollMethod::Preissued => "a preissued identity",
        })
    }
}

/// Runs `mdmctl dev simulate`.
pub async fn run(args: SimulateArgs, format: OutputFormat) -> anyhow::Result<()> {
    let layout = Layout::new(&args.data_dir)?;
    let info = DevInfo::read(&layout.info_file())?;
    ensure_running(&info, &args.data_dir)?;
    let api = Api::new(Connection {
        url: parse_url(&info.admin_url).map_err(anyhow::Error::msg)?,
        token: info.admin_token.clone(),
        ca_file: Some(info.ca_file.clone()),
    })?;
    // Devices are numbered after those already enrolled, so that names stay distinct.
    let known = list_all(&api, &DeviceQuery::default(), 1000)
        .await
        .context("listing the enrolled devices")?
        .len();

    let count = usize::from(args.devices);
    let provisioning = provisioning(&info, &api, args.enroll, count).await?;
    let mut devices = enroll(&info, &provisioning, known + 1, count).await?;
    let udids: Vec<String> = devices.iter().map(|d| d.udid().to_owned()).collect();
    eprintln!(
        "enrolled {} simulated device(s) by {}",
        devices.len(),
        args.enroll
    );
    // Followed before the command is queued; every push since the mock started counts anyway.
    let feed = (!info.push_feed_url.is_empty()).then(|| PushFeed::follow(&info.push_feed_url));
    let queued = api
        .enqueue(&device_information(udids.clone()))
        .await
        .context("queueing DeviceInformation")?;
    let uuid = queued.value.command_uuid;
    eprintln!("queued DeviceInformation {uuid} to them; waiting for their answers");
    let timeout = Duration::from_secs(args.timeout);
    match &feed {
        Some(feed) => answer_when_pushed(&mut devices, feed, &uuid, timeout).await?,
        None => answer(&mut devices, &uuid, timeout).await?,
    }
    let deliveries = api
        .deliveries(&uuid, &DeliveryQuery::default(), Span::first(count))
        .await
        .context("reading the command's results")?;
    let tokens: Vec<String> = devices.iter().map(SimDevice::token_hex).collect();
    let pushed = match &feed {
        Some(feed) => tokens.iter().map(|t| feed.pushes_to(t) > 0).collect(),
        None => {
            let mock_log = info.logs_dir.join(format!("{MOCK_APNS}.log"));
            pushes_seen(&mock_log, &tokens, PUSH_LOOKUP).await
        }
    };
    let results = sim_report::results(&deliveries.items, &udids, &pushed);
    match format {
        OutputFormat::Json => output::json(&results)?,
        OutputFormat::Table => output::text(&sim_report::table(&results).to_string())?,
    }
    check_answered(&results, timeout, &info)
}

/// A failure unless the server's launcher still runs.
fn ensure_running(info: &DevInfo, data_dir: &Path) -> anyhow::Result<()> {
    let launcher = info.pids.get(LAUNCHER).copied();
    if launcher.is_some_and(|pid| runs_as(pid, LAUNCHER)) {
        return Ok(());
    }
    Err(Failure {
        message: format!(
            "the development server of {} is not running",
            data_dir.display()
        ),
        hint: Some(format!(
            "start it in another terminal: mdmctl dev --data-dir {}",
            data_dir.display()
        )),
    }
    .into())
}

/// Where the simulated devices get their identities (`method`), with the CA it needs loaded
/// and, for an enrollment flow, a token created for `count` enrollments.
async fn provisioning(
    info: &DevInfo,
    api: &Api,
    method: EnrollMethod,
    count: usize,
) -> anyhow::Result<Provisioning> {
    let apple_device_ca = match method {
        EnrollMethod::Preissued => {
            let ca = KeyedCert::load(&PemPair {
                cert: info.device_ca_cert.clone(),
                key: info.device_ca_key.clone(),
            })
            .context("loading the device CA to issue device identities")?;
            return Ok(Provisioning::Preissued {
                ca: Arc::new((ca.cert, ca.key)),
            });
        }
        EnrollMethod::Profile => None,
        EnrollMethod::Ota => Some(apple_device_ca(info)?),
    };
    let token = api
        .create_enrollment_token(&token_request(count))
        .await
        .context("creating an enrollment token for the simulated devices")?
        .value
        .secret;
    let server = EnrollmentServer {
        enrollment_url: info.enrollment_url.clone(),
        server_ca_pem: read_ca(info)?,
    };
    Ok(match apple_device_ca {
        Some(ca) => Provisioning::Ota {
            server,
            token,
            apple_device_ca: Arc::new((ca.cert, ca.key)),
        },
        None => Provisioning::DirectProfile { server, token },
    })
}

/// The body of the enrollment token the simulated devices share: one use each, for an hour.
fn token_request(count: usize) -> EnrollmentTokenRequest {
    EnrollmentTokenRequest {
        description: "mdmctl dev simulate".into(),
        user_name: None,
        max_uses: Some(u32::try_from(count).unwrap_or(u32::MAX)),
        unlimited: false,
        expiry: Some(ttl(Duration::from_secs(3600))),
    }
}

/// DeviceInformation with [`QUERIES`] for `devices`.
fn device_information(devices: Vec<String>) -> EnqueueRequest {
    let command = Map::from_iter([
        ("request_type".to_owned(), json!("DeviceInformation")),
        ("queries".to_owned(), json!(QUERIES)),
    ]);
    EnqueueRequest {
        devices,
        command,
        priority: 0,
        expiry: None,
        idempotency_key: None,
        reason: None,
        push: None,
        allow_unknown: None,
        allow_unsupported: None,
    }
}

/// The simulated Apple device CA, or how to get one.
fn apple_device_ca(info: &DevInfo) -> anyhow::Result<KeyedCert> {
    if info.apple_device_ca_cert.as_os_str().is_empty() {
        return Err(Failure {
            message: "this development server has no simulated Apple device CA for OTA".into(),
            hint: Some(
                "restart `mdmctl dev` with this mdmctl (it makes one), or use --enroll profile"
                    .into(),
            ),
        }
        .into());
    }
    KeyedCert::load(&PemPair {
        cert: info.apple_device_ca_cert.clone(),
        key: info.apple_device_ca_key.clone(),
    })
    .context("loading the simulated Apple device CA")
}

fn read_ca(info: &DevInfo) -> anyhow::Result<String> {
    std::fs::read_to_string(&info.ca_file)
        .with_context(|| format!("reading {}", info.ca_file.display()))
}

/// `count` devices with identities from `provisioning`, numbered from `first`, each enrolled
/// (devsim's fleet: the enrollment flow if any, then Authenticate and TokenUpdate over mTLS).
async fn enroll(
    info: &DevInfo,
    provisioning: &Provisioning,
    first: usize,
    count: usize,
) -> anyhow::Result<Vec<SimDevice>> {
    let base = Arc::new(SimConfig {
        server: info.device_url.clone(),
        checkin_path: specs::CHECKIN_PATH.into(),
        server_path: specs::SERVER_PATH.into(),
        server_ca_pem: read_ca(info)?,
        transport: Transport::Mtls,
        topic: info.push_topic.clone(),
        not_now_rate: 0.0,
        error_rate: 0.0,
    });
    let spec = FleetSpec {
        devices: count,
        macs: 0,
        users_per_mac: 0,
        first,
        udid_prefix: "SIM-".into(),
        concurrency: ENROLLMENTS_IN_FLIGHT,
        resume_tls: false,
    };
    let (devices, failures) =
        fleet::enroll_fleet(&spec, provisioning, &base, &Stats::default()).await;
    if let Some(first) = failures.first() {
        anyhow::bail!(
            "enrolling simulated devices at {}: {} of {count} failed; the first: {first}",
            info.device_url,
            failures.len()
        );
    }
    Ok(devices)
}

/// Every device sleeps until the feed reports a push to it, then runs a session on a new
/// connection, until it has answered `command_uuid` or `timeout` has passed (those still
/// waiting show as pending in the results).
async fn answer_when_pushed(
    devices: &mut [SimDevice],
    feed: &PushFeed,
    command_uuid: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    let end = Instant::now() + timeout;
    let woken = devices.iter_mut().map(|device| async move {
        let token = device.token_hex();
        let mut seen = 0;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let Some(count) = feed.wait_for_push(&token, seen, left).await else {
                return anyhow::Ok(());
            };
            seen = count;
            device.reconnect()?;
            let handled = device
                .session()
                .await
                .with_context(|| format!("session of simulated device {}", device.udid()))?;
            if handled.iter().any(|h| h.command_uuid == command_uuid) {
                return Ok(());
            }
        }
    });
    for result in futures::future::join_all(woken).await {
        result?;
    }
    Ok(())
}

/// Sessions, round after round, until every device has answered `command_uuid` or `timeout`
/// has passed (those still waiting show as pending in the results).
async fn answer(
    devices: &mut [SimDevice],
    command_uuid: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    let end = Instant::now() + timeout;
    let mut waiting: Vec<usize> = (0..devices.len()).collect();
    loop {
        let mut still = Vec::new();
        for index in waiting {
            let Some(device) = devices.get_mut(index) else {
                continue;
            };
            // A new connection per session, as a device opens after a push.
            device.reconnect()?;
            let handled = device
                .session()
                .await
                .with_context(|| format!("session of simulated device {}", device.udid()))?;
            if !handled.iter().any(|h| h.command_uuid == command_uuid) {
                still.push(index);
            }
        }
        waiting = still;
        if waiting.is_empty() || Instant::now() >= end {
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// For each token, whether the mock APNs logged a push to it (`push token=<hex> ...`), looking
/// for up to `deadline` until all are there.
async fn pushes_seen(log: &Path, tokens: &[String], deadline: Duration) -> Vec<bool> {
    let end = Instant::now() + deadline;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let seen: Vec<bool> = tokens
            .iter()
            .map(|token| text.contains(&format!("push token={token} ")))
            .collect();
        if seen.iter().all(|s| *s) || Instant::now() >= end {
            return seen;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A failure naming the devices that did not acknowledge.
fn check_answered(
    results: &[DeviceResult],
    timeout: Duration,
    info: &DevInfo,
) -> anyhow::Result<()> {
    let missing: Vec<&str> = results
        .iter()
        .filter(|r| !r.acknowledged())
        .map(|r| r.udid.as_str())
        .collect();
    if missing.is_empty() {
        eprintln!("every device answered");
        return Ok(());
    }
    Err(Failure {
        message: format!(
            "{} of {} device(s) did not acknowledge within {}s: {}",
            missing.len(),
            results.len(),
            timeout.as_secs(),
            missing.join(", ")
        ),
        hint: Some(format!(
            "the server's logs are in {}",
            info.logs_dir.display()
        )),
    }
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Noun};
    use clap::Parser;

    fn simulate_args(extra: &[&str]) -> SimulateArgs {
        let argv = ["mdmctl", "dev", "simulate"].iter().chain(extra);
        let cli = Cli::try_parse_from(argv).expect("parses");
        match cli.noun {
            Noun::Dev(super::super::DevArgs {
                verb: Some(super::super::DevVerb::Simulate(args)),
                ..
            }) => args,
            other => panic!("not dev simulate: {other:?}"),
        }
    }

    #[test]
    fn the_enrollment_flow_is_chosen_by_flag() {
        assert_eq!(simulate_args(&[]).enroll, EnrollMethod::Profile);
        for (flag, method) in [
            ("ota", EnrollMethod::Ota),
            ("profile", EnrollMethod::Profile),
            ("preissued", EnrollMethod::Preissued),
        ] {
            assert_eq!(simulate_args(&["--enroll", flag]).enroll, method);
        }
        assert!(Cli::try_parse_from(["mdmctl", "dev", "simulate", "--enroll", "dep"]).is_err());
    }

    #[test]
    fn one_token_serves_every_device() {
        let body = serde_json::to_value(token_request(5)).expect("json");
        assert_eq!(body["max_uses"], 5);
        assert_eq!(body["unlimited"], false);
        assert_eq!(body["expiry"], json!({"ttl_seconds": 3600}));
        let command = serde_json::to_value(device_information(vec!["U1".into()])).expect("json");
        assert_eq!(command["command"]["request_type"], "DeviceInformation");
        assert_eq!(command["devices"], json!(["U1"]));
    }

    #[test]
    fn ota_against_an_older_server_says_to_restart_it() {
        let info: DevInfo = serde_json::from_value(json!({
            "data_dir": "/x", "device_url": "", "server_url": "", "checkin_url": "",
            "enrollment_url": "", "admin_url": "", "admin_token": "", "ca_file": "",
            "device_ca_cert": "", "device_ca_key": "", "device_ca_sha256": "", "push_topic": "",
            "mock_apns_url": "", "push_feed_url": "", "health_url": "", "metrics_urls": {}, "logs_dir": "",
            "pids": {}
        }))
        .expect("an older dev.json");
        let error = apple_device_ca(&info).expect_err("no simulated Apple device CA");
        let hint = crate::exit::hint_of(&error).unwrap_or_default();
        assert!(hint.contains("restart `mdmctl dev`"), "{hint}");
    }
}
