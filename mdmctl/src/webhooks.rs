//! `mdmctl webhooks create|list|show|update|rotate-secret|delete|deliveries|replay`: endpoints
//! admin-svc posts the services' events to (the `webhooks` scope: a webhook receives command
//! results too), how far behind each is, and its dead letters. A webhook's secret, which the
//! receiver checks `Mdm-Signature` with, is shown once: when it is made or replaced.
//!
//! - [`request`]: the options as the API's request bodies.
//! - [`render`]: webhooks and deliveries as text.

pub mod render;
pub mod request;

use crate::cli::{api_enum, GlobalArgs, OutputFormat};
use crate::client::{Api, Span};
use crate::config::Env;
use crate::output;
use crate::record;
use anyhow::Context;
use clap::{Args, Subcommand};
use mdm_api::webhooks::{DeliveryQuery, DeliveryState, ReplayRequest, WebhookFormat};

/// `mdmctl webhooks ...`
#[derive(Debug, Args)]
pub struct WebhooksArgs {
    /// What to do.
    #[command(subcommand)]
    pub verb: WebhooksVerb,
}

/// The verbs of `mdmctl webhooks`.
#[derive(Debug, Subcommand)]
pub enum WebhooksVerb {
    /// Register an endpoint; its signing secret is shown this once.
    Create(CreateArgs),
    /// List every webhook with its backlog (pending and dead deliveries) and last error.
    List,
    /// Show every field of one webhook: how far behind it is, when it is retried, what failed.
    Show {
        /// The webhook's ID (from `webhooks list`).
        id: String,
    },
    /// Change a webhook's endpoint, events, format or description, or pause and resume it
    /// (resuming retries at once).
    Update(UpdateArgs),
    /// Replace a webhook's secret; the new one signs every delivery from now on and is shown
    /// this once.
    RotateSecret {
        /// The webhook's ID.
        id: String,
    },
    /// Remove a webhook and its deliveries.
    Delete {
        /// The webhook's ID.
        id: String,
    },
    /// List a webhook's deliveries, newest first: waiting, delivered, and given up on (dead).
    Deliveries(DeliveriesArgs),
    /// Send a webhook's dead deliveries again, from the first attempt: every one, or those
    /// named.
    Replay {
        /// The webhook's ID.
        id: String,
        /// A dead delivery to send again (its ID from `webhooks deliveries`); repeat for more.
        /// Without any, every dead one.
        #[arg(long = "delivery", value_name = "N")]
        deliveries: Vec<i64>,
    },
}

/// Options of `webhooks create`.
#[derive(Debug, Default, Args)]
pub struct CreateArgs {
    /// Where events are posted: http or https (redirects are not followed). Not `--url`, which
    /// is the admin API's own.
    pub endpoint: String,
    /// Which events (repeatable): `*`, a family such as `command.*`, or a type such as
    /// `enrollment.authenticated`. Every event when none is given.
    #[arg(long = "event", value_name = "PATTERN")]
    pub events: Vec<String>,
    /// The body: mdm (every event type) or micromdm (MicroMDM's, for its consumers: check-ins
    /// and command answers only). The server's default is mdm.
    #[arg(long, value_name = "FORMAT", value_parser = api_enum::<WebhookFormat>)]
    pub format: Option<WebhookFormat>,
    /// What it is for.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// The signing secret (16 characters or more); one is made when absent. Prefer letting the
    /// server make it: a flag is visible to other users in the process list.
    #[arg(long, value_name = "SECRET")]
    pub secret: Option<String>,
    /// Register it paused: events are kept for it but not delivered until `webhooks update
    /// --enable`.
    #[arg(long)]
    pub disabled: bool,
}

/// Options of `webhooks update`: only what is given changes.
#[derive(Debug, Default, Args)]
pub struct UpdateArgs {
    /// The webhook's ID.
    pub id: String,
    /// A new endpoint URL (`--url` is the admin API's own).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// New event patterns, replacing the old ones (repeatable).
    #[arg(long = "event", value_name = "PATTERN")]
    pub events: Vec<String>,
    /// A new body format: mdm or micromdm.
    #[arg(long, value_name = "FORMAT", value_parser = api_enum::<WebhookFormat>)]
    pub format: Option<WebhookFormat>,
    /// A new description.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Resume deliveries (waiting ones are retried at once).
    #[arg(long, conflicts_with = "disable")]
    pub enable: bool,
    /// Pause deliveries: events are kept for it, not delivered.
    #[arg(long)]
    pub disable: bool,
}

/// Options of `webhooks deliveries`.
#[derive(Debug, Args)]
pub struct DeliveriesArgs {
    /// The webhook's ID.
    pub id: String,
    /// Only deliveries in this state: pending, delivered or dead.
    #[arg(long, value_name = "STATUS", value_parser = api_enum::<DeliveryState>)]
    pub status: Option<DeliveryState>,
    /// How many to list, newest first.
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: u32,
    /// Every one, however many pages.
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
}

/// Runs `mdmctl webhooks ...`.
pub async fn run(args: WebhooksArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    // Connected in each verb, after its own options are checked: a usage error needs no server.
    let api = || Api::connect(global, env);
    match args.verb {
        WebhooksVerb::Create(create) => {
            let webhook = api()?
                .create_webhook(&request::create(create))
                .await
                .context("registering a webhook")?;
            eprintln!("the secret is shown this once: keep it now (the receiver verifies Mdm-Signature with it)");
            match global.output {
                OutputFormat::Json => output::json(&webhook.json),
                OutputFormat::Table => output::text(&render::created(&webhook.value).to_string()),
            }
        }
        WebhooksVerb::List => {
            let webhooks = api()?.webhooks().await.context("listing webhooks")?;
            match global.output {
                OutputFormat::Json => output::json(&webhooks.json),
                OutputFormat::Table => {
                    if webhooks.is_empty() {
                        eprintln!("no webhooks");
                    }
                    output::text(&render::list(&webhooks.items).to_string())
                }
            }
        }
        WebhooksVerb::Show { id } => {
            let webhook = api()?
                .webhook(&id)
                .await
                .with_context(|| format!("reading webhook {id}"))?;
            match global.output {
                OutputFormat::Json => output::json(&webhook.json),
                OutputFormat::Table => {
                    output::text(&record::rows(&webhook.json, render::SHOWN_FIRST).to_string())
                }
            }
        }
        WebhooksVerb::Update(update) => {
            let patch = request::patch(&update)?;
            let id = update.id;
            let webhook = api()?
                .update_webhook(&id, &patch)
                .await
                .with_context(|| format!("changing webhook {id}"))?;
            match global.output {
                OutputFormat::Json => output::json(&webhook.json),
                OutputFormat::Table => output::line(&render::updated(&webhook.value)),
            }
        }
        WebhooksVerb::RotateSecret { id } => {
            let webhook = api()?
                .rotate_webhook_secret(&id)
                .await
                .with_context(|| format!("replacing the secret of webhook {id}"))?;
            eprintln!("the new secret is shown this once: give it to the receiver now");
            match global.output {
                OutputFormat::Json => output::json(&webhook.json),
                OutputFormat::Table => output::text(&render::created(&webhook.value).to_string()),
            }
        }
        WebhooksVerb::Delete { id } => {
            api()?
                .delete_webhook(&id)
                .await
                .with_context(|| format!("removing webhook {id}"))?;
            // The API answers 204 without a document: `-o json` prints nothing.
            match global.output {
                OutputFormat::Json => Ok(()),
                OutputFormat::Table => output::line(&format!("deleted webhook {id}")),
            }
        }
        WebhooksVerb::Deliveries(list) => deliveries(&api()?, list, global).await,
        WebhooksVerb::Replay { id, deliveries } => {
            let body = ReplayRequest {
                deliveries: (!deliveries.is_empty()).then_some(deliveries),
            };
            let replayed = api()?
                .replay_webhook(&id, &body)
                .await
                .with_context(|| format!("replaying the dead deliveries of webhook {id}"))?;
            match global.output {
                OutputFormat::Json => output::json(&replayed.json),
                OutputFormat::Table => output::line(&render::replayed(&id, &replayed.value)),
            }
        }
    }
}

async fn deliveries(api: &Api, args: DeliveriesArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    let query = DeliveryQuery {
        status: args.status,
        ..DeliveryQuery::default()
    };
    let span = if args.all {
        Span::all(1000)
    } else {
        Span::first(usize::try_from(args.limit).unwrap_or(usize::MAX))
    };
    let id = &args.id;
    let deliveries = api
        .webhook_deliveries(id, &query, span)
        .await
        .with_context(|| format!("listing the deliveries of webhook {id}"))?;
    match global.output {
        OutputFormat::Json => output::json(&deliveries.json),
        OutputFormat::Table => {
            if deliveries.is_empty() {
                eprintln!("no deliveries match");
            } else if deliveries.more {
                eprintln!(
                    "the {} newest are shown: --limit N for more, --all for every one",
                    deliveries.len()
                );
            }
            output::text(&render::deliveries(&deliveries.items).to_string())
        }
    }
}
