//! `mdmctl blueprints create|list|show|enable|disable|delete|runs`: commands every new device
//! (or those enrolled with some enrollment tokens) gets when it finishes enrolling, followed by
//! DeviceConfigured for a device waiting in Setup Assistant. Making one needs the `commands`
//! scope and those its commands need; destructive commands are refused, here and by the server,
//! since a blueprint runs on devices nobody picked.
//!
//! - [`commands`]: `--command` and `--commands-file`, checked before anything is sent.
//! - [`render`]: blueprints and their runs as text.

pub mod commands;
pub mod render;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::{Api, Span};
use crate::config::Env;
use crate::output;
use crate::record;
use anyhow::Context;
use clap::{Args, Subcommand};
use commands::CommandSource;
use mdm_api::blueprints::{BlueprintRequest, RunQuery, TokenIdText};

/// `mdmctl blueprints ...`
#[derive(Debug, Args)]
pub struct BlueprintsArgs {
    /// What to do.
    #[command(subcommand)]
    pub verb: BlueprintsVerb,
}

/// The verbs of `mdmctl blueprints`.
#[derive(Debug, Subcommand)]
pub enum BlueprintsVerb {
    /// Make a blueprint: the commands devices get, in order, when they finish enrolling.
    Create(CreateArgs),
    /// List every blueprint, by name.
    List,
    /// Show every field of one blueprint, its commands as given.
    Show {
        /// The blueprint's ID (from `blueprints list`).
        id: String,
    },
    /// Apply a blueprint to devices that enroll from now on.
    Enable {
        /// The blueprint's ID.
        id: String,
    },
    /// Stop applying a blueprint to devices that enroll from now on (runs under way go on).
    Disable {
        /// The blueprint's ID.
        id: String,
    },
    /// Remove a blueprint; its runs under way stop (commands already queued stay queued).
    Delete {
        /// The blueprint's ID.
        id: String,
    },
    /// List a blueprint's latest runs, newest first: which devices got it and how far each is.
    Runs(RunsArgs),
}

/// Options of `blueprints create`.
#[derive(Debug, Default, Args)]
pub struct CreateArgs {
    /// Its unique name (A-Z a-z 0-9 . _ - and spaces); the commands it queues are requested by
    /// `blueprint:<name>`.
    pub name: String,
    /// What it is for.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// The commands.
    #[command(flatten)]
    pub commands: CommandSource,
    /// Only devices enrolled with this enrollment token (its ID); repeat for more. Every new
    /// device without any.
    #[arg(long = "enrollment-token", value_name = "ID")]
    pub enrollment_tokens: Vec<String>,
    /// Assign this declaration set (DDM) to each device it runs on, before its commands;
    /// repeat for more. With `--enrollment-token`, this assigns sets by enrollment token.
    #[arg(long = "declaration-set", value_name = "NAME")]
    pub declaration_sets: Vec<String>,
    /// Do not send DeviceConfigured after the commands: a device waiting in Setup Assistant
    /// stays there until something else releases it.
    #[arg(long)]
    pub no_device_configured: bool,
    /// Make it disabled: no device gets it until `blueprints enable`.
    #[arg(long)]
    pub disabled: bool,
}

/// Options of `blueprints runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// The blueprint's ID.
    pub id: String,
    /// Only this device's runs (one per enrollment).
    #[arg(long, value_name = "ID")]
    pub device: Option<String>,
    /// How many to list, newest first (the server answers at most 1000).
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
}

/// Runs `mdmctl blueprints ...`.
pub async fn run(args: BlueprintsArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    match args.verb {
        BlueprintsVerb::Create(create) => {
            // Read and checked before connecting: a bad command is a usage error, nothing sent.
            let body = create_body(create)?;
            let api = Api::connect(global, env)?;
            let blueprint = api
                .create_blueprint(&body)
                .await
                .with_context(|| format!("making blueprint {}", body.name))?;
            match global.output {
                OutputFormat::Json => output::json(&blueprint.json),
                OutputFormat::Table => {
                    output::text(&record::rows(&blueprint.json, render::SHOWN_FIRST).to_string())
                }
            }
        }
        BlueprintsVerb::List => {
            let api = Api::connect(global, env)?;
            let blueprints = api.blueprints().await.context("listing blueprints")?;
            match global.output {
                OutputFormat::Json => output::json(&blueprints.json),
                OutputFormat::Table => {
                    if blueprints.is_empty() {
                        eprintln!("no blueprints");
                    }
                    output::text(&render::list(&blueprints.items).to_string())
                }
            }
        }
        BlueprintsVerb::Show { id } => {
            let api = Api::connect(global, env)?;
            let blueprint = api
                .blueprint(&id)
                .await
                .with_context(|| format!("reading blueprint {id}"))?;
            match global.output {
                OutputFormat::Json => output::json(&blueprint.json),
                OutputFormat::Table => {
                    output::text(&record::rows(&blueprint.json, render::SHOWN_FIRST).to_string())
                }
            }
        }
        BlueprintsVerb::Enable { id } => set_enabled(&id, true, global, env).await,
        BlueprintsVerb::Disable { id } => set_enabled(&id, false, global, env).await,
        BlueprintsVerb::Delete { id } => {
            let api = Api::connect(global, env)?;
            api.delete_blueprint(&id)
                .await
                .with_context(|| format!("removing blueprint {id}"))?;
            // The API answers 204 without a document: `-o json` prints nothing.
            match global.output {
                OutputFormat::Json => Ok(()),
                OutputFormat::Table => output::line(&format!("deleted blueprint {id}")),
            }
        }
        BlueprintsVerb::Runs(runs) => {
            let api = Api::connect(global, env)?;
            let query = RunQuery {
                device: runs.device,
                ..RunQuery::default()
            };
            let span = Span::first(usize::try_from(runs.limit).unwrap_or(usize::MAX));
            let id = &runs.id;
            let listed = api
                .blueprint_runs(id, &query, span)
                .await
                .with_context(|| format!("listing the runs of blueprint {id}"))?;
            match global.output {
                OutputFormat::Json => output::json(&listed.json),
                OutputFormat::Table => {
                    if listed.is_empty() {
                        eprintln!("no runs match: no device has got blueprint {id} yet");
                    }
                    output::text(&render::runs(&listed.items).to_string())
                }
            }
        }
    }
}

/// `blueprints enable|disable ID`.
async fn set_enabled(
    id: &str,
    enabled: bool,
    global: &GlobalArgs,
    env: &Env,
) -> anyhow::Result<()> {
    let api = Api::connect(global, env)?;
    let verb = if enabled { "enabled" } else { "disabled" };
    let blueprint = api
        .set_blueprint_enabled(id, enabled)
        .await
        .with_context(|| format!("changing blueprint {id}"))?;
    match global.output {
        OutputFormat::Json => output::json(&blueprint.json),
        OutputFormat::Table => output::line(&format!(
            "{verb} blueprint {} ({})",
            blueprint.value.id, blueprint.value.name
        )),
    }
}

/// The `POST /v1/blueprints` body: only what was given, the server's defaults for the rest.
pub fn create_body(args: CreateArgs) -> anyhow::Result<BlueprintRequest> {
    let tokens: Vec<TokenIdText> = args
        .enrollment_tokens
        .into_iter()
        .map(TokenIdText)
        .collect();
    Ok(BlueprintRequest {
        commands: args.commands.read()?,
        name: args.name,
        description: args.description,
        enrollment_tokens: (!tokens.is_empty()).then_some(tokens),
        declaration_sets: (!args.declaration_sets.is_empty()).then_some(args.declaration_sets),
        device_configured: args.no_device_configured.then_some(false),
        enabled: args.disabled.then_some(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn create_sends_only_what_was_given() {
        let args = CreateArgs {
            name: "base".into(),
            commands: CommandSource {
                commands: vec![r#"{"RequestType":"ProfileList"}"#.into()],
                commands_file: None,
            },
            ..CreateArgs::default()
        };
        assert_eq!(
            serde_json::to_value(create_body(args).expect("a body")).expect("json"),
            json!({"name": "base", "description": null,
                   "commands": [{"RequestType": "ProfileList"}], "enrollment_tokens": null,
                   "device_configured": null, "enabled": null})
        );
        let args = CreateArgs {
            name: "lab".into(),
            commands: CommandSource {
                commands: vec![r#"{"request_type":"SecurityInfo"}"#.into()],
                commands_file: None,
            },
            enrollment_tokens: vec!["T1".into()],
            no_device_configured: true,
            disabled: true,
            ..CreateArgs::default()
        };
        let body = serde_json::to_value(create_body(args).expect("a body")).expect("json");
        assert_eq!(
            (
                &body["enrollment_tokens"],
                &body["device_configured"],
                &body["enabled"]
            ),
            (&json!(["T1"]), &json!(false), &json!(false))
        );
    }
}
