//! `mdmctl dev` from start to stop: prepare the data directory (secrets, PKI), start mock-apns,
//! push-svc, enroll-svc, command-svc, admin-svc and the proxy one after the other, each waited
//! for until it serves, install the push certificate through admin-svc, write dev.json and
//! print the banner; then watch the children until a stopping signal (exit 0) or a child's exit
//! (exit 1, naming it), and stop them all either way.

use super::banner;
use super::child::Children;
use super::info::{DevInfo, LAUNCHER};
use super::layout::Layout;
use super::pki::{DevPki, SERVER_NAMES};
use super::ports::Ports;
use super::ready::{self, STARTUP};
use super::secrets::Secrets;
use super::signals::Signals;
use super::specs::{self, Inputs, ProcessSpec, BINARIES};
use super::upload;
use super::StartArgs;
use crate::client::Api;
use crate::config::{parse_url, Connection};
use crate::exit::Failure;
use crate::output;
use anyhow::Context;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long children have between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(5);
/// How often the children are checked while the server runs.
const WATCH: Duration = Duration::from_millis(200);

/// Runs `mdmctl dev`.
pub async fn run(args: StartArgs) -> anyhow::Result<()> {
    // First of all: a Ctrl-C from here on stops the children instead of orphaning them.
    let mut signals = Signals::install()?;
    let layout = Layout::new(&args.data_dir)?;
    let bin_dir = bin_dir(args.bin_dir.as_deref())?;
    refuse_if_running(&layout)?;
    // Busy ports are reported before anything is made.
    let ports = Ports::choose(args.device_port, args.admin_port, args.enrollment_port)?;
    layout.create()?;
    // A dev.json present from here on describes this run, once it is ready.
    remove_if_present(&layout.info_file())?;
    let (secrets, pki) = prepare(&layout)?;
    let inputs = Inputs {
        layout: &layout,
        bin_dir: &bin_dir,
        ports: &ports,
        secrets: &secrets,
        topic: &pki.topic,
    };

    let mut children = Children::new();
    let started = tokio::select! {
        started = start(&inputs, &pki, &mut children) => started,
        name = signals.next() => {
            eprintln!("{name}: stopping");
            shutdown(&mut children, &mut signals).await;
            return Ok(());
        }
    };
    let mut info = match started {
        Ok(info) => info,
        Err(error) => {
            shutdown(&mut children, &mut signals).await;
            return Err(error);
        }
    };
    let outcome = match announce(&info, &layout, &args.data_dir) {
        Ok(()) => supervise(&mut children, &mut signals).await,
        Err(error) => Err(error),
    };
    shutdown(&mut children, &mut signals).await;
    info.pids.clear();
    let cleared = info.write(&layout.info_file());
    if outcome.is_ok() {
        eprintln!(
            "stopped; {} keeps the URLs and the token",
            layout.info_file().display()
        );
    }
    outcome.and(cleared)
}

/// The secrets and the PKI: made on the first run, reused after; says which.
fn prepare(layout: &Layout) -> anyhow::Result<(Secrets, DevPki)> {
    let (secrets, new_secrets) = Secrets::load_or_create(&layout.secrets_file())?;
    let pki = DevPki::load_or_create(layout, &SERVER_NAMES)?;
    let mut made = pki.made.clone();
    if new_secrets {
        made.push("admin token and secret keys");
    }
    if made.is_empty() {
        eprintln!(
            "reusing the certificates and secrets in {}",
            layout.root().display()
        );
    } else {
        eprintln!("made in {}: {}", layout.root().display(), made.join(", "));
    }
    Ok((secrets, pki))
}

/// Starts every process in dependency order, installs the push certificate, and returns
/// dev.json's contents.
async fn start(
    inputs: &Inputs<'_>,
    pki: &DevPki,
    children: &mut Children,
) -> anyhow::Result<DevInfo> {
    let layout = inputs.layout;
    let probes = upload::https_client(&pki.device_ca.cert_pem()?)?;
    let (apns_addr, feed_addr) = start_mock_apns(children, inputs).await?;
    let mock_apns_url = format!("https://{apns_addr}");
    let metrics_urls = start_services(children, inputs, &mock_apns_url, &probes).await?;
    let health_url = start_proxy(children, inputs, &probes).await?;

    let ports = inputs.ports;
    let admin_url = specs::https_url(ports.admin);
    let device_ca = layout.device_ca();
    let admin = Api::new(Connection {
        url: parse_url(&admin_url).map_err(anyhow::Error::msg)?,
        token: inputs.secrets.admin_token.clone(),
        ca_file: Some(device_ca.cert.clone()),
    })?;
    upload::install(children, layout, &admin, &pki.push.identity_pem()?).await?;
    eprintln!("installed the push certificate for {}", pki.topic);

    let device_url = specs::https_url(ports.device);
    let apple_device_ca = layout.apple_device_ca();
    let mut pids = children.pids();
    pids.insert(LAUNCHER.to_owned(), std::process::id());
    Ok(DevInfo {
        data_dir: layout.root().to_path_buf(),
        server_url: format!("{device_url}{}", specs::SERVER_PATH),
        checkin_url: format!("{device_url}{}", specs::CHECKIN_PATH),
        device_url,
        enrollment_url: specs::https_url(ports.enrollment),
        admin_url,
        admin_token: inputs.secrets.admin_token.clone(),
        ca_file: device_ca.cert.clone(),
        device_ca_cert: device_ca.cert,
        device_ca_key: device_ca.key,
        device_ca_sha256: pki.device_ca.sha256_hex()?,
        apple_device_ca_cert: apple_device_ca.cert,
        apple_device_ca_key: apple_device_ca.key,
        push_topic: pki.topic.clone(),
        mock_apns_url,
        push_feed_url: format!("http://{feed_addr}"),
        health_url,
        metrics_urls,
        logs_dir: layout.logs_dir(),
        pids,
    })
}

/// Starts the mock APNs; answers the addresses of its APNs listener and of its push feed.
async fn start_mock_apns(
    children: &mut Children,
    inputs: &Inputs<'_>,
) -> anyhow::Result<(SocketAddr, SocketAddr)> {
    let mock = inputs.mock_apns();
    let log = inputs.layout.log_file(mock.name);
    spawn(children, &mock, inputs.layout)?;
    let apns = logged_addr(children, &log, "mock-apns to listen", "mock-apns listening").await?;
    let feed = logged_addr(children, &log, "mock-apns's push feed", "mock-apns feed").await?;
    Ok((apns, feed))
}

/// The address in the first line of `log` with `needle`, once it is there.
async fn logged_addr(
    children: &mut Children,
    log: &Path,
    what: &str,
    needle: &str,
) -> anyhow::Result<SocketAddr> {
    ready::until(children, what, log, STARTUP, || {
        let found = ready::logged_addr(log, needle);
        async move { found }
    })
    .await
}

/// Starts push-svc, enroll-svc, command-svc and admin-svc, then waits until each is ready;
/// answers each one's `/metrics` URL by name. enroll-svc and command-svc call each other, so
/// readiness (which includes reaching the services a service calls) is awaited once all of
/// them listen.
async fn start_services(
    children: &mut Children,
    inputs: &Inputs<'_>,
    mock_apns_url: &str,
    probes: &reqwest::Client,
) -> anyhow::Result<BTreeMap<String, String>> {
    let layout = inputs.layout;
    let mut metrics_urls = BTreeMap::new();
    for spec in [
        inputs.push_svc(mock_apns_url),
        inputs.enroll_svc(),
        inputs.command_svc(),
        inputs.admin_svc(),
    ] {
        let metrics = start_service(children, &spec, layout).await?;
        metrics_urls.insert(spec.name.to_owned(), format!("http://{metrics}/metrics"));
    }
    for (name, url) in &metrics_urls {
        let readyz = url.replace("/metrics", "/readyz");
        let log = layout.log_file(name);
        ready::until(
            children,
            &format!("{name} to be ready"),
            &log,
            STARTUP,
            || ready::http_ok(probes, &readyz),
        )
        .await?;
    }
    Ok(metrics_urls)
}

/// Starts the proxy and waits until it is ready and its device and enrollment listeners
/// accept connections; answers the URL of its health listener.
async fn start_proxy(
    children: &mut Children,
    inputs: &Inputs<'_>,
    probes: &reqwest::Client,
) -> anyhow::Result<String> {
    let proxy = inputs.proxy();
    let log = inputs.layout.log_file(proxy.name);
    spawn(children, &proxy, inputs.layout)?;
    let health_url = format!("http://{}", Ports::addr(inputs.ports.health));
    let readyz = format!("{health_url}/readyz");
    ready::until(children, "the proxy to be ready", &log, STARTUP, || {
        ready::http_ok(probes, &readyz)
    })
    .await?;
    for port in [inputs.ports.device, inputs.ports.enrollment] {
        let what = format!("the proxy to listen on port {port}");
        ready::until(children, &what, &log, STARTUP, || {
            ready::tcp(Ports::addr(port))
        })
        .await?;
    }
    Ok(health_url)
}

/// Starts a service and waits for its "<name> listening" line; returns its metrics address.
async fn start_service(
    children: &mut Children,
    spec: &ProcessSpec,
    layout: &Layout,
) -> anyhow::Result<SocketAddr> {
    let log = layout.log_file(spec.name);
    spawn(children, spec, layout)?;
    let listening = format!("{} listening", spec.name);
    let metrics = format!("{} metrics listening", spec.name);
    let what = format!("{} to listen", spec.name);
    ready::until(children, &what, &log, STARTUP, || {
        // The metrics line comes first; the API's line says the service is about to serve.
        let found =
            ready::logged_addr(&log, &listening).and_then(|_| ready::logged_addr(&log, &metrics));
        async move { found }
    })
    .await
}

fn spawn(children: &mut Children, spec: &ProcessSpec, layout: &Layout) -> anyhow::Result<()> {
    eprintln!("starting {}", spec.name);
    children.spawn(spec, &layout.log_file(spec.name), layout.root())
}

/// Writes dev.json and prints the banner.
fn announce(info: &DevInfo, layout: &Layout, data_dir: &Path) -> anyhow::Result<()> {
    info.write(&layout.info_file())?;
    output::text(&banner::ready(info, &banner::this_mdmctl(), data_dir))
}

/// Waits for a stopping signal (Ok) or a child's exit (the error naming it).
async fn supervise(children: &mut Children, signals: &mut Signals) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(WATCH);
    loop {
        tokio::select! {
            name = signals.next() => {
                eprintln!("\n{name}: stopping the MDM server");
                return Ok(());
            }
            _ = tick.tick() => children.check("unexpectedly")?,
        }
    }
}

async fn shutdown(children: &mut Children, signals: &mut Signals) {
    let killed = children.stop(GRACE, signals).await;
    if !killed.is_empty() {
        eprintln!(
            "killed {} (still running {}s after SIGTERM)",
            killed.join(", "),
            GRACE.as_secs()
        );
    }
}

/// The directory holding the binaries: `asked`, else this mdmctl's own; every binary must be
/// there.
fn bin_dir(asked: Option<&Path>) -> anyhow::Result<PathBuf> {
    let dir = match asked {
        Some(dir) => dir.to_path_buf(),
        None => std::env::current_exe()
            .context("finding the mdmctl executable")?
            .parent()
            .map(Path::to_path_buf)
            .context("the mdmctl executable has no directory")?,
    };
    let missing: Vec<&str> = BINARIES
        .iter()
        .copied()
        .filter(|name| {
            !dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
                .is_file()
        })
        .collect();
    if missing.is_empty() {
        return Ok(dir);
    }
    let release = dir.file_name().is_some_and(|name| name == "release");
    let build = if release {
        "cargo build --release --bins"
    } else {
        "cargo build --bins"
    };
    Err(Failure {
        message: format!(
            "{} not found in {}",
            missing.join(", "),
            dir.display()
        ),
        hint: Some(match asked {
            Some(_) => format!(
                "--bin-dir must name the directory with the server's binaries; build them with `{build}` (target/{})",
                if release { "release" } else { "debug" }
            ),
            None => format!("build them first: `{build}` (or run ./dev.sh, which builds and starts)"),
        }),
    }
    .into())
}

/// Refuses to start over a data directory another run still uses: its launcher still runs, or
/// its children outlived a launcher that was killed (they hold the ports and the databases).
fn refuse_if_running(layout: &Layout) -> anyhow::Result<()> {
    let Ok(previous) = DevInfo::read(&layout.info_file()) else {
        return Ok(());
    };
    let running = previous.still_running();
    if running.is_empty() {
        return Ok(());
    }
    let dir = layout.root().display();
    if let Some((_, pid)) = running.iter().find(|(name, _)| name == LAUNCHER) {
        return Err(Failure {
            message: format!("another `mdmctl dev` (pid {pid}) is running on {dir}"),
            hint: Some(format!(
                "stop it (Ctrl-C in its terminal, or `kill {pid}`), or pass another --data-dir"
            )),
        }
        .into());
    }
    let list: Vec<String> = running
        .iter()
        .map(|(name, pid)| format!("{name} (pid {pid})"))
        .collect();
    let pids: Vec<String> = running.iter().map(|(_, pid)| pid.to_string()).collect();
    Err(Failure {
        message: format!(
            "processes of an earlier `mdmctl dev` on {dir} are still running: {}",
            list.join(", ")
        ),
        hint: Some(format!("stop them first: kill {}", pids.join(" "))),
    }
    .into())
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binaries_are_named_with_the_build_command() {
        let dir = tempfile::tempdir().expect("tempdir");
        let release = dir.path().join("release");
        std::fs::create_dir(&release).expect("dir");
        std::fs::write(release.join("proxy"), "").expect("write");
        let error = bin_dir(Some(&release)).expect_err("missing");
        let text = error.to_string();
        assert!(
            text.starts_with("mock-apns, push-svc, enroll-svc, command-svc, admin-svc not found"),
            "{text}"
        );
        let hint = crate::exit::hint_of(&error).unwrap_or_default();
        assert!(hint.contains("cargo build --release --bins"), "{hint}");
    }

    #[test]
    fn a_live_launcher_on_the_data_dir_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::new(dir.path()).expect("layout");
        assert!(refuse_if_running(&layout).is_ok(), "no dev.json yet");
        let own_name = std::fs::read_to_string("/proc/self/comm")
            .map(|c| c.trim_end().to_owned())
            .unwrap_or_default();
        if own_name.is_empty() {
            return;
        }
        let info = serde_json::json!({
            "data_dir": "/x", "device_url": "", "server_url": "", "checkin_url": "",
            "enrollment_url": "", "admin_url": "", "admin_token": "", "ca_file": "",
            "device_ca_cert": "", "device_ca_key": "", "device_ca_sha256": "", "push_topic": "",
            "mock_apns_url": "", "push_feed_url": "", "health_url": "", "metrics_urls": {}, "logs_dir": "",
            "pids": { own_name.clone(): std::process::id() }
        });
        std::fs::write(layout.info_file(), info.to_string()).expect("write");
        let error = refuse_if_running(&layout).expect_err("refused");
        assert!(error.to_string().contains("still running"), "{error}");
    }
}
