//! The command line of `mdm-devsim`. Everything about the server can come from the dev.json a
//! running `mdmctl dev` writes (`--dev-json`); flags given explicitly win.

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Simulated Apple devices for an MDM server: they enroll, sleep until pushed, fetch and answer
/// commands like real iPhones and Macs, and measure what they see.
#[derive(Debug, Parser)]
#[command(name = "mdm-devsim", version)]
pub struct Cli {
    /// What the devices do.
    #[command(subcommand)]
    pub mode: Mode,
}

/// The two modes.
#[derive(Debug, Subcommand)]
pub enum Mode {
    /// Enroll devices and keep them answering: each sleeps until its push arrives (from the
    /// mock APNs's feed) or its poll timer fires, then runs a session. Stops at Ctrl-C or
    /// after --for, then prints what the devices measured.
    Run(RunArgs),
    /// Enroll devices, queue commands to them through the admin API and drive sessions
    /// closed-loop or at a fixed rate; print latency per message type as a table or JSON.
    Bench(BenchArgs),
}

/// `mdm-devsim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The server and the fleet.
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// The mock APNs's push feed, `http://host:port` (`mock-apns --feed-listen`; from dev.json
    /// with --dev-json).
    #[arg(long)]
    pub push_feed: Option<String>,
    /// Also wake every device on this timer, in seconds (0: only pushes wake them).
    #[arg(long, default_value_t = 0)]
    pub poll_secs: u64,
    /// Stop after this many seconds (0: at Ctrl-C).
    #[arg(long = "for", default_value_t = 0)]
    pub run_for: u64,
    /// Write every channel's enrollment ID here, one per line, once enrolled (to queue
    /// commands to them).
    #[arg(long)]
    pub ids_file: Option<PathBuf>,
    /// Check every device out (unenroll) before stopping.
    #[arg(long)]
    pub check_out: bool,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `mdm-devsim bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The server and the fleet.
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Commands queued to every device before each round.
    #[arg(long, default_value_t = 1)]
    pub commands: usize,
    /// RequestType of those commands.
    #[arg(long, default_value = "SecurityInfo")]
    pub request_type: String,
    /// Rounds (each: queue, then one session per device).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Sessions in flight at once (closed loop; with --rate, the bound on sessions in flight).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Start sessions at this rate per second instead of closed-loop.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Share of sessions that open a new TLS connection (0..1). A device woken by a push opens
    /// one, then keeps it for the rest of the session's commands.
    #[arg(long, default_value_t = 1.0)]
    pub new_connections: f64,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

/// How devices get their identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnrollBy {
    /// Certificates issued here by the device CA (--device-ca-cert/--device-ca-key).
    Preissued,
    /// The direct enrollment profile, then SCEP.
    Profile,
    /// The over-the-air flow (Profile Service, SCEP twice); needs --apple-device-ca-*.
    Ota,
}

/// How devices authenticate their messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportArg {
    /// The identity certificate in the TLS handshake.
    Mtls,
    /// An `Mdm-Signature` header on every message.
    Signature,
}

/// The server, and the devices to simulate against it.
#[derive(Debug, Args)]
pub struct FleetArgs {
    /// Take the server's URLs, CA, admin token and device CAs from this dev.json (written by
    /// `mdmctl dev`, in its data directory).
    #[arg(long)]
    pub dev_json: Option<PathBuf>,
    /// The device listener, `https://host:port`.
    #[arg(long)]
    pub server: Option<String>,
    /// Path of the check-in endpoint.
    #[arg(long, default_value = "/checkin")]
    pub checkin_path: String,
    /// Path of the command endpoint (the ServerURL's path).
    #[arg(long, default_value = "/mdm")]
    pub server_path: String,
    /// PEM of the CA the server's certificates chain to.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// The push topic (preissued devices; enrolled ones take it from their profile).
    #[arg(long)]
    pub topic: Option<String>,
    /// The admin API, `https://host:port` (tokens for enrollment, commands for bench).
    #[arg(long)]
    pub admin_url: Option<String>,
    /// Bearer token of the admin API (or MDM_DEVSIM_ADMIN_TOKEN).
    #[arg(long, env = "MDM_DEVSIM_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// A file holding that token (a container stack's `/state/admin-token`).
    #[arg(long, value_name = "FILE", conflicts_with = "admin_token")]
    pub admin_token_file: Option<PathBuf>,
    /// The enrollment listener, `https://host:port`.
    #[arg(long)]
    pub enrollment_url: Option<String>,
    /// An enrollment token's secret (otherwise one is created through the admin API).
    #[arg(long)]
    pub enrollment_token: Option<String>,
    /// How devices get their identity.
    #[arg(long, value_enum, default_value_t = EnrollBy::Preissued)]
    pub enroll: EnrollBy,
    /// Device CA certificate (PEM) for preissued identities.
    #[arg(long)]
    pub device_ca_cert: Option<PathBuf>,
    /// Its key.
    #[arg(long)]
    pub device_ca_key: Option<PathBuf>,
    /// The CA standing in for Apple's device CA (OTA phase 2), certificate.
    #[arg(long)]
    pub apple_device_ca_cert: Option<PathBuf>,
    /// Its key.
    #[arg(long)]
    pub apple_device_ca_key: Option<PathBuf>,
    /// mTLS or Mdm-Signature.
    #[arg(long, value_enum, default_value_t = TransportArg::Mtls)]
    pub transport: TransportArg,
    /// Devices to simulate.
    #[arg(long, default_value_t = 10)]
    pub devices: usize,
    /// How many of them are Macs.
    #[arg(long, default_value_t = 0)]
    pub macs: usize,
    /// User channels on every Mac.
    #[arg(long, default_value_t = 0)]
    pub users_per_mac: usize,
    /// Share of commands answered NotNow (0..1).
    #[arg(long, default_value_t = 0.0)]
    pub not_now_rate: f64,
    /// Share of commands answered Error (0..1).
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Enrollments in flight at once.
    #[arg(long, default_value_t = 32)]
    pub enroll_concurrency: usize,
    /// Resume TLS sessions on new connections (abbreviated handshakes) rather than a full
    /// handshake each time.
    #[arg(long)]
    pub resume_tls: bool,
    /// Start of every UDID.
    #[arg(long, default_value = "SIM-")]
    pub udid_prefix: String,
}

impl FleetArgs {
    /// Fills what was not given: the admin token from the first line of --admin-token-file,
    /// then the rest from --dev-json, which is answered for the caller's own keys.
    fn complete(&mut self) -> anyhow::Result<Option<DevJson>> {
        if let Some(path) = &self.admin_token_file {
            self.admin_token = read(path)?
                .lines()
                .next()
                .map(|line| line.trim().to_owned());
        }
        let dev = DevJson::of(self)?;
        if let Some(dev) = &dev {
            self.fill_from(dev);
        }
        Ok(dev)
    }

    /// Fills what was not given from `dev`.
    fn fill_from(&mut self, dev: &DevJson) {
        let file = |key: &str| dev.text(key).map(PathBuf::from);
        fill(&mut self.server, dev.text("device_url"));
        fill(&mut self.ca_file, file("ca_file"));
        fill(&mut self.topic, dev.text("push_topic"));
        fill(&mut self.admin_url, dev.text("admin_url"));
        fill(&mut self.admin_token, dev.text("admin_token"));
        fill(&mut self.enrollment_url, dev.text("enrollment_url"));
        fill(&mut self.device_ca_cert, file("device_ca_cert"));
        fill(&mut self.device_ca_key, file("device_ca_key"));
        fill(&mut self.apple_device_ca_cert, file("apple_device_ca_cert"));
        fill(&mut self.apple_device_ca_key, file("apple_device_ca_key"));
    }
}

impl RunArgs {
    /// Fills what was not given from --admin-token-file and --dev-json, the push feed included.
    pub fn with_dev_json(mut self) -> anyhow::Result<RunArgs> {
        if let Some(dev) = self.fleet.complete()? {
            fill(&mut self.push_feed, dev.text("push_feed_url"));
        }
        Ok(self)
    }
}

impl BenchArgs {
    /// Fills what was not given from --admin-token-file and --dev-json.
    pub fn with_dev_json(mut self) -> anyhow::Result<BenchArgs> {
        self.fleet.complete()?;
        Ok(self)
    }
}

/// The dev.json a running `mdmctl dev` writes, read once.
struct DevJson(Value);

impl DevJson {
    /// The file --dev-json names, if any.
    fn of(fleet: &FleetArgs) -> anyhow::Result<Option<DevJson>> {
        let Some(path) = &fleet.dev_json else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!("reading {}: {e} (is `mdmctl dev` running?)", path.display())
        })?;
        let dev = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is not dev.json: {e}", path.display()))?;
        Ok(Some(DevJson(dev)))
    }

    /// A text field, `None` when absent or empty.
    fn text(&self, key: &str) -> Option<String> {
        self.0[key]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }
}

fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// `value` or an error naming the flag that gives it.
pub fn required<'a, T>(value: &'a Option<T>, flag: &str) -> anyhow::Result<&'a T> {
    value.as_ref().ok_or_else(|| {
        anyhow::anyhow!("{flag} is required (or --dev-json of a running `mdmctl dev`)")
    })
}

/// A PEM file's text.
pub fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
}
