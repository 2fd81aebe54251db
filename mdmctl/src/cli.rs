//! The command tree: `mdmctl [OPTIONS] <NOUN> <VERB> ...`. Doc comments here are the `--help`
//! text. Each noun's arguments live in its own module.

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::de::DeserializeOwned;
use std::path::PathBuf;

/// Administer the MDM server through its admin REST API.
///
/// The server and credentials come from flags, else the environment (MDM_URL, MDM_TOKEN,
/// MDM_CA_FILE), else the config file (`mdmctl config set ...`).
///
/// Exit codes: 0 success, 1 failure (the server refused, could not be reached, a device answered
/// with an error, --wait timed out), 2 usage error.
#[derive(Debug, Parser)]
#[command(name = "mdmctl", version, propagate_version = true)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to act on.
    #[command(subcommand)]
    pub noun: Noun,
}

/// Where the server is, how to authenticate, how to print.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Base URL of the admin API, e.g. https://mdm.example.com:9443 [env: MDM_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,

    /// Bearer token for the admin API. Prefer MDM_TOKEN or the config file: a flag is visible
    /// to other users in the process list [env: MDM_TOKEN]
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,

    /// PEM file of the CA that signed the server's certificate, trusted in addition to the
    /// public roots [env: MDM_CA_FILE]
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Config file to read and write instead of $XDG_CONFIG_HOME/mdmctl/config.toml
    /// [env: MDM_CONFIG]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Output format.
    #[arg(short, long, global = true, value_enum, value_name = "FORMAT",
          default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// How results are printed on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people.
    Table,
    /// The API's JSON, for scripts.
    Json,
}

/// The nouns.
#[derive(Debug, Subcommand)]
pub enum Noun {
    /// Show or change the config file (server URL, token, CA file).
    Config(crate::config::command::ConfigArgs),
    /// List and inspect enrolled devices.
    Devices(crate::devices::DevicesArgs),
    /// Queue MDM commands, follow their results, cancel them.
    Commands(crate::commands::CommandsArgs),
    /// Wake devices now with an MDM push; one line per device with its outcome (exit 1 if any
    /// was not delivered).
    Push(crate::push::PushArgs),
    /// Show or install the MDM push certificate.
    PushCert(crate::push_cert::PushCertArgs),
    /// Enrollment tokens and the direct enrollment profile.
    Enroll(crate::enroll::EnrollArgs),
    /// Make, list and revoke the admin API's own tokens (needs the `admin` scope).
    AdminTokens(crate::admin_tokens::AdminTokensArgs),
    /// Read the audit log: destructive commands, refused and approved re-enrollments, admin
    /// tokens made and revoked; newest first.
    Audit(crate::audit::AuditArgs),
    /// Register webhooks that the services' events are posted to, follow their deliveries,
    /// replay dead ones (needs the `webhooks` scope).
    Webhooks(crate::webhooks::WebhooksArgs),
    /// Read the events the services emitted, oldest first: what webhooks are sent.
    Events(crate::events::EventsArgs),
    /// Commands new devices get when they finish enrolling, and how far each device is.
    Blueprints(crate::blueprints::BlueprintsArgs),
    /// Declarative Device Management declarations, checked against Apple's schema, and what
    /// devices report of them.
    Declarations(crate::declarations::DeclarationsArgs),
    /// Sets of declarations, assigned to devices; every change tells exactly the devices it
    /// alters to sync.
    DeclarationSets(crate::declarations::sets::DeclarationSetsArgs),
    /// Device identity renewals: which certificates near expiry were renewed, and which failed.
    Identities(crate::identities::IdentitiesArgs),
    /// Print a shell completion script.
    Completions(crate::completions::CompletionsArgs),
    /// Run the whole server on this machine for development; simulated devices against it.
    ///
    /// `mdmctl dev` makes development certificates, an admin token and secret keys on its first
    /// run (kept in --data-dir and reused after), starts mock-apns, push-svc, enroll-svc,
    /// command-svc, admin-svc and the proxy on loopback with SQLite, installs a push certificate,
    /// prints the URLs and the admin token and writes them to <data-dir>/dev.json. Each process
    /// logs to <data-dir>/logs/. Ctrl-C stops everything (exit 0); if a process dies, the others
    /// are stopped and mdmctl exits 1 naming it.
    Dev(crate::dev::DevArgs),
    /// What a container stack shares: `mdmctl stack init` makes its certificates, secrets and
    /// each service's configuration in a volume on the first start, and reuses them after
    /// (the `init` service of docker-compose.yml).
    Stack(crate::stack::StackArgs),
    /// Check a running deployment as devices will meet it and from the server's own view:
    /// TLS certificates, the enrollment listener, /MDMServiceConfig, SCEP, push certificates
    /// and their topic, APNs, clocks, services and databases. One line per check (✓ ok,
    /// ! to watch, ✗ failing with its fix, - not run); exit 1 when a check fails.
    ///
    /// Needs a token with the `read` scope. Changes nothing and sends no push.
    Doctor(crate::doctor::DoctorArgs),
    /// Check an Mdm-Signature header against a body: does it verify, who signed it, and why not
    /// (for debugging a load balancer that terminates TLS).
    InspectSignature(crate::signature::InspectSignatureArgs),
}

/// The value parser of an enum of the API (a status, a scope), by the name the API gives each
/// value, so that the command line takes exactly what the server does: `--status checked_out`.
/// A wrong name is a usage error that lists the right ones.
pub fn api_enum<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn api_enums_are_read_by_their_api_names() {
        use mdm_api::devices::EnrollmentStatus;
        assert_eq!(
            api_enum::<EnrollmentStatus>("checked_out"),
            Ok(EnrollmentStatus::CheckedOut)
        );
        let error = api_enum::<EnrollmentStatus>("lost").expect_err("unknown");
        assert!(error.contains("`enrolled`"), "{error}");
    }
}
