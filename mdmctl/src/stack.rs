//! `mdmctl stack init`: what a stack of containers (`docker-compose.yml`) shares, made on its
//! first start and reused after, in one directory (a volume mounted at `/state`):
//!
//! ```text
//! /state/
//!   secrets.json           admin token and the services' secret keys
//!   postgres-password      PostgreSQL's password (POSTGRES_PASSWORD_FILE)
//!   admin-token            the admin token alone, to read with `docker compose exec`
//!   mdmctl.toml            mdmctl's config inside the stack (MDM_CONFIG): URL, token, CA
//!   pki/                   the development PKI of `mdmctl dev` (device CA, server
//!                          certificate for the stack's names, mock APNs, push certificate)
//!   config/<service>.toml  each service's secrets and settings derived from them
//! ```
//!
//! The services read their file with `--config`; the compose file's `MDM_*` variables (the
//! addresses of the stack) and any an operator adds override it. Secrets and the PKI are made
//! once; the configuration files are written on every start from the settings given, so that
//! changing the host name or the ports takes one restart.
//!
//! - [`state`]: the directory's files; [`service_configs`]: each service's file.

pub mod service_configs;
pub mod state;

use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `mdmctl stack ...`.
#[derive(Debug, Args)]
pub struct StackArgs {
    /// What to do.
    #[command(subcommand)]
    pub verb: StackVerb,
}

/// The verbs of `mdmctl stack`.
#[derive(Debug, Subcommand)]
pub enum StackVerb {
    /// Make (first start) or check and reuse (later ones) the certificates, secrets and service
    /// configuration a container stack shares; print where the admin API and its token are.
    Init(InitArgs),
}

/// Options of `mdmctl stack init`; each has an environment variable, as compose passes them.
#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// The directory the stack's containers share.
    #[arg(
        long,
        value_name = "DIR",
        env = "MDM_STATE_DIR",
        default_value = "/state"
    )]
    pub state_dir: PathBuf,
    /// The name devices reach the server by: in the ServerURL, CheckInURL and enrollment URLs,
    /// and in the server certificate.
    #[arg(long, value_name = "NAME", env = "MDM_HOSTNAME")]
    pub hostname: String,
    /// The port devices connect to for commands and check-ins (the proxy's device listener).
    #[arg(
        long,
        value_name = "PORT",
        env = "MDM_DEVICE_PORT",
        default_value_t = 8443
    )]
    pub device_port: u16,
    /// The port of enrollment (profiles, SCEP; the proxy's enrollment listener).
    #[arg(
        long,
        value_name = "PORT",
        env = "MDM_ENROLLMENT_PORT",
        default_value_t = 8444
    )]
    pub enrollment_port: u16,
    /// A directory that may hold your own server certificate, `server.pem` (with its chain)
    /// and `server.key`; without them one is issued by the stack's device CA.
    #[arg(long, value_name = "DIR", env = "MDM_TLS_DIR")]
    pub tls_dir: Option<PathBuf>,
    /// The push topic profiles name (your push certificate's UID); by default the topic of the
    /// development push certificate, which only the mock APNs accepts.
    #[arg(long, value_name = "TOPIC", env = "MDM_PUSH_TOPIC")]
    pub push_topic: Option<String>,
    /// PayloadOrganization of the profiles and O of the identities the stack issues.
    #[arg(
        long,
        value_name = "NAME",
        env = "MDM_ORGANIZATION",
        default_value = "mdm-server"
    )]
    pub organization: String,
    /// Also believe OTA enrollments signed by the simulated Apple device CA of the state's
    /// PKI, besides Apple's own (the simulated devices of deploy/sim.env). Never in production:
    /// whoever reads the state could then enroll devices of their own making by OTA.
    #[arg(long, env = "MDM_TRUST_SIMULATED_APPLE_CA")]
    pub trust_simulated_apple_ca: bool,
    /// PostgreSQL's host in the stack; each service has a database of its own there.
    #[arg(long, value_name = "HOST", default_value = "postgres")]
    pub postgres_host: String,
    /// The PostgreSQL user (POSTGRES_USER).
    #[arg(long, value_name = "USER", default_value = "mdm")]
    pub postgres_user: String,
    /// The admin API's URL inside the stack, for mdmctl.toml.
    #[arg(long, value_name = "URL", default_value = "https://admin-svc:9443")]
    pub admin_url: String,
}

/// Runs `mdmctl stack ...`.
pub fn run(args: StackArgs) -> anyhow::Result<()> {
    match args.verb {
        StackVerb::Init(init) => crate::output::text(&state::init(&init)?),
    }
}
