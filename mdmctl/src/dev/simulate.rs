//! `mdmctl dev simulate`: simulated devices (devsim's [`SimDevice`]) against the running
//! development server, the way real ones meet it: each gets an identity certificate from the
//! device CA (CN = a new UDID) and enrolls over mTLS (Authenticate, TokenUpdate);
//! DeviceInformation is queued to all of them through the admin API, which pushes them through
//! push-svc and the mock APNs; each device then opens sessions (Idle, the command, its answer)
//! until it has answered; the answers are read back through the admin API and printed.

use super::certs::{self, KeyedCert};
use super::info::{runs_as, DevInfo, LAUNCHER};
use super::layout::{Layout, PemPair};
use super::sim_report::{self, DeviceResult};
use super::specs::{self, MOCK_APNS};
use super::SimulateArgs;
use crate::cli::OutputFormat;
use crate::client::Api;
use crate::config::{parse_url, Connection};
use crate::devices::{filter::Filter, list_all};
use crate::exit::Failure;
use crate::output;
use anyhow::Context;
use devsim::sim::{SimConfig, SimDevice, Transport};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Pause between two rounds of sessions while devices still have not answered.
const POLL: Duration = Duration::from_millis(250);
/// How long to look for the devices' pushes in the mock APNs's log once they answered (it
/// prints its deliveries every 200 ms).
const PUSH_LOOKUP: Duration = Duration::from_secs(3);
/// What DeviceInformation asks.
const QUERIES: [&str; 4] = ["DeviceName", "OSVersion", "SerialNumber", "ModelName"];

/// Runs `mdmctl dev simulate`.
pub async fn run(args: SimulateArgs, format: OutputFormat) -> anyhow::Result<()> {
    let layout = Layout::new(&args.data_dir)?;
    let info = DevInfo::read(&layout.info_file())?;
    ensure_running(&info, &args.data_dir)?;
    let ca = KeyedCert::load(&PemPair {
        cert: info.device_ca_cert.clone(),
        key: info.device_ca_key.clone(),
    })
    .context("loading the device CA to issue device identities")?;
    let api = Api::new(Connection {
        url: parse_url(&info.admin_url).map_err(anyhow::Error::msg)?,
        token: info.admin_token.clone(),
        ca_file: Some(info.ca_file.clone()),
    })?;
    // Devices are numbered after those already enrolled, so that names stay distinct.
    let known = list_all(&api, None, 1000, &Filter::default())
        .await
        .context("listing the enrolled devices")?
        .len();

    let mut devices = enroll(&info, &ca, known + 1, usize::from(args.devices)).await?;
    let udids: Vec<String> = devices.iter().map(|d| d.udid().to_owned()).collect();
    eprintln!("enrolled {} simulated device(s)", devices.len());
    let body = json!({
        "devices": udids,
        "command": {"request_type": "DeviceInformation", "queries": QUERIES},
    });
    let queued = api
        .enqueue(&body)
        .await
        .context("queueing DeviceInformation")?;
    eprintln!(
        "queued DeviceInformation {} to them; waiting for their answers",
        queued.command_uuid
    );
    let timeout = Duration::from_secs(args.timeout);
    answer(&mut devices, &queued.command_uuid, timeout).await?;
    let command = api
        .command(&queued.command_uuid)
        .await
        .context("reading the command's results")?;
    let tokens: Vec<String> = devices.iter().map(SimDevice::token_hex).collect();
    let mock_log = info.logs_dir.join(format!("{MOCK_APNS}.log"));
    let pushed = pushes_seen(&mock_log, &tokens, PUSH_LOOKUP).await;
    let results = sim_report::results(&command, &udids, &pushed);
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

/// `count` devices with identities from `ca`, numbered from `first`, each enrolled.
async fn enroll(
    info: &DevInfo,
    ca: &KeyedCert,
    first: usize,
    count: usize,
) -> anyhow::Result<Vec<SimDevice>> {
    let config = Arc::new(SimConfig {
        server: info.device_url.clone(),
        checkin_path: specs::CHECKIN_PATH.into(),
        server_path: specs::SERVER_PATH.into(),
        server_ca_pem: std::fs::read_to_string(&info.ca_file)
            .with_context(|| format!("reading {}", info.ca_file.display()))?,
        transport: Transport::Mtls,
        topic: info.push_topic.clone(),
        not_now_rate: 0.0,
        error_rate: 0.0,
    });
    let mut devices = Vec::with_capacity(count);
    for index in first..first + count {
        let udid = uuid::Uuid::new_v4().to_string().to_uppercase();
        let identity = certs::device_identity(ca, &udid)?;
        let mut device = SimDevice::new(
            index,
            &udid,
            &identity.cert_pem()?,
            &identity.key_pem()?,
            Arc::clone(&config),
        )
        .with_context(|| format!("setting up simulated device {udid}"))?;
        device
            .enroll()
            .await
            .with_context(|| format!("enrolling simulated device {udid} at {}", info.device_url))?;
        devices.push(device);
    }
    Ok(devices)
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
