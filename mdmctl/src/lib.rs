//! `mdmctl`: the administrator's command line over the MDM server's admin REST API (admin-svc,
//! `admin-svc/openapi.json`), speaking its documents through the shared `mdm-api` crate. It
//! lists devices, queues commands and follows their results, with output for people (tables) and
//! for scripts (`-o json`: what the server sent; stable exit codes).
//!
//! # Layout
//! One module per noun of the command line, plus what they share:
//! - [`cli`]: the command tree ([`Cli`]) and the options every command takes.
//! - [`config`]: where the server URL, token and CA file come from (flags > `MDM_*` > file), and
//!   `mdmctl config set|show`.
//! - [`devices`]: `devices list|show|apps|declarations|status-items`.
//! - [`commands`]: `commands send|show|list|cancel`, confirmation of destructive commands,
//!   `--wait`.
//! - [`push`]: `push DEVICE...`, wake devices now.
//! - [`push_cert`]: `push-cert show|upload`, the MDM push certificate.
//! - [`enroll`]: `enroll token create|list|revoke` and `enroll profile`.
//! - [`admin_tokens`]: `admin-tokens create|list|revoke`, the API's own tokens.
//! - [`audit`]: `audit`, the audit log.
//! - [`webhooks`]: `webhooks create|list|show|update|rotate-secret|delete|deliveries|replay`.
//! - [`events`]: `events list|show`, the events webhooks are sent.
//! - [`blueprints`]: `blueprints create|list|show|enable|disable|delete|runs`, the commands new
//!   devices get.
//! - [`declarations`]: `declarations put|list|show|delete|status` and `declaration-sets
//!   put|list|show|delete|assign|unassign|devices|sync`, Declarative Device Management.
//! - [`completions`]: shell completion scripts.
//! - [`dev`]: `mdmctl dev`, the whole server on this machine with development certificates,
//!   and `mdmctl dev simulate`, simulated devices against it.
//! - [`client`]: the HTTP client of the admin API (one method per route, pages followed), and
//!   its failures with the hint that goes with each.
//! - [`table`], [`record`], [`output`], [`duration`]: column tables, one document as
//!   `field value` rows, printing, durations and ages.
//! - [`exit`]: exit codes (0 ok, 1 failure, 2 usage) and how an error is reported.
//!
//! - [`stack`]: `mdmctl stack init`, the certificates, secrets and service configuration a
//!   container stack (`docker-compose.yml`) shares.
//! - [`doctor`]: `doctor`, every check of a running deployment with its fix.
//! - [`signature`]: `inspect-signature`, the Mdm-Signature check an operator runs by hand.

pub mod admin_tokens;
pub mod audit;
pub mod blueprints;
pub mod cli;
pub mod client;
pub mod commands;
pub mod completions;
pub mod config;
pub mod declarations;
pub mod dev;
pub mod devices;
pub mod doctor;
pub mod duration;
pub mod enroll;
pub mod events;
pub mod exit;
pub mod identities;
pub mod output;
pub mod push;
pub mod push_cert;
pub mod record;
pub mod signature;
pub mod stack;
pub mod table;
pub mod webhooks;

pub use cli::Cli;

use cli::Noun;
use config::Env;

/// Runs one parsed command line to completion. `env` is the process environment as read once
/// by `main` (tests of the pieces pass their own).
pub async fn run(cli: Cli, env: Env) -> anyhow::Result<()> {
    let global = cli.global;
    match cli.noun {
        Noun::Config(args) => config::command::run(args, &global, &env),
        Noun::Devices(args) => devices::run(args, &global, &env).await,
        Noun::Commands(args) => commands::run(args, &global, &env).await,
        Noun::Push(args) => push::run(args, &global, &env).await,
        Noun::PushCert(args) => push_cert::run(args, &global, &env).await,
        Noun::Enroll(args) => enroll::run(args, &global, &env).await,
        Noun::AdminTokens(args) => admin_tokens::run(args, &global, &env).await,
        Noun::Audit(args) => audit::run(args, &global, &env).await,
        Noun::Webhooks(args) => webhooks::run(args, &global, &env).await,
        Noun::Events(args) => events::run(args, &global, &env).await,
        Noun::Blueprints(args) => blueprints::run(args, &global, &env).await,
        Noun::Declarations(args) => declarations::run(args, &global, &env).await,
        Noun::DeclarationSets(args) => declarations::sets::run(args, &global, &env).await,
        Noun::Identities(args) => identities::run(args, &global, &env).await,
        Noun::Completions(args) => completions::run(&args),
        Noun::Dev(args) => dev::run(args, &global).await,
        Noun::Stack(args) => stack::run(args),
        Noun::InspectSignature(args) => signature::run(&args),
        Noun::Doctor(args) => doctor::run(args, &global, &env).await,
    }
}
