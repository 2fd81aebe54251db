//! `mdmctl dev`: the whole server on this machine for development, in one command, and
//! `mdmctl dev simulate`: simulated devices that enroll against it and answer a command.
//!
//! `mdmctl dev` generates what a first run needs into the data directory (a development CA and
//! a server certificate for localhost, an admin token, the services' secret keys, a mock APNs
//! with its own CA and a push certificate), reuses it on later runs, starts mock-apns, push-svc,
//! enroll-svc, command-svc, admin-svc and the proxy as child processes on loopback with SQLite
//! under the data directory, installs the push certificate through the admin API, prints the
//! URLs and the token and writes them to `<data-dir>/dev.json`. Ctrl-C stops everything.
//!
//! # Layout
//! - [`layout`]: the files under the data directory; [`files`]: writing them (keys 0600).
//! - [`certs`]: certificates made with OpenSSL; [`pki`]: the development PKI, made on the
//!   first run and reused after; [`secrets`]: the admin token and the services' keys.
//! - [`ports`]: the ports asked for, or free ones (`0`).
//! - [`specs`]: each process's command line and `MDM_*` environment.
//! - [`child`]: the child processes, their logs, stopping them; [`ready`]: waiting until each
//!   serves; [`signals`]: Ctrl-C, SIGTERM, SIGHUP.
//! - [`info`]: `dev.json`; [`upload`]: installing the push certificate; [`banner`]: what is
//!   printed once the server runs.
//! - [`launch`]: `mdmctl dev` from start to stop.
//! - [`simulate`] and [`sim_report`]: `mdmctl dev simulate` and its results table.

pub mod banner;
pub mod certs;
pub mod child;
pub mod files;
pub mod info;
pub mod launch;
pub mod layout;
pub mod pki;
pub mod ports;
pub mod ready;
pub mod secrets;
pub mod signals;
pub mod sim_report;
pub mod simulate;
pub mod specs;
pub mod upload;

use crate::cli::GlobalArgs;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// The data directory when `--data-dir` is not given (relative to the working directory).
pub const DEFAULT_DATA_DIR: &str = "data/dev";

/// `mdmctl dev [OPTIONS]` or `mdmctl dev simulate [OPTIONS]`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DevArgs {
    /// Without a verb: start the server.
    #[command(subcommand)]
    pub verb: Option<DevVerb>,
    /// How to start the server.
    #[command(flatten)]
    pub start: StartArgs,
}

/// The verbs of `mdmctl dev`.
#[derive(Debug, Subcommand)]
pub enum DevVerb {
    /// Enroll simulated devices and show a command round trip.
    ///
    /// Reads the running server's dev.json, gives each device an identity (by the direct
    /// enrollment profile, OTA, or issued up front: --enroll), enrolls it over mTLS, queues
    /// DeviceInformation to all of them through the admin API, lets them answer, and prints
    /// what each answered (`-o json`: an array). Exit code 1 when a device did not acknowledge
    /// in time.
    Simulate(SimulateArgs),
}

/// Options of `mdmctl dev` (start the server).
#[derive(Debug, Clone, Args)]
pub struct StartArgs {
    /// Where certificates, keys, databases, logs and dev.json are kept; created on first run
    /// and reused after.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// Port of the device listener (ServerURL, CheckInURL; mTLS); 0 picks a free one.
    #[arg(long, value_name = "PORT", default_value_t = 8443)]
    pub device_port: u16,
    /// Port of the admin API (admin-svc); 0 picks a free one.
    #[arg(long, value_name = "PORT", default_value_t = 9443)]
    pub admin_port: u16,
    /// Port of the enrollment listener (profiles, SCEP); 0 picks a free one.
    #[arg(long, value_name = "PORT", default_value_t = 8444)]
    pub enrollment_port: u16,
    /// Directory of the server's binaries (proxy, enroll-svc, command-svc, push-svc,
    /// admin-svc, mock-apns). Default: the directory of this mdmctl, where `cargo build --release --bins`
    /// puts them.
    #[arg(long, value_name = "DIR")]
    pub bin_dir: Option<PathBuf>,
}

/// Options of `mdmctl dev simulate`.
#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// The data directory of the running `mdmctl dev`.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// How many devices to enroll.
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub devices: u16,
    /// How each device gets its identity: `profile` (the direct enrollment profile, then
    /// SCEP), `ota` (OTA enrollment, signed by a simulated Apple device certificate) or
    /// `preissued` (issued by the device CA, no enrollment flow).
    #[arg(long, value_enum, value_name = "HOW", default_value_t = simulate::EnrollMethod::Profile)]
    pub enroll: simulate::EnrollMethod,
    /// Seconds the devices have to answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

/// Runs `mdmctl dev ...`.
pub async fn run(args: DevArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    match args.verb {
        None => launch::run(args.start).await,
        Some(DevVerb::Simulate(simulate)) => simulate::run(simulate, global.output).await,
    }
}
