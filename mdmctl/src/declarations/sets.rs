//! `mdmctl declaration-sets put|list|show|delete|assign|unassign|devices|sync`: sets of
//! declarations, assigned to devices. Every change that alters what devices hold (the set's
//! declarations, its devices, the set itself) tells exactly those enrolled devices to sync, once.

use super::render;
use super::{warn, PageArgs};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::Api;
use crate::commands::targets::named_devices;
use crate::config::Env;
use crate::output;
use crate::record;
use crate::table::Table;
use anyhow::Context;
use clap::{Args, Subcommand};
use mdm_api::declarations::{AssignmentRequest, DeclarationSetRequest};
use std::path::PathBuf;

/// `mdmctl declaration-sets ...`
#[derive(Debug, Args)]
pub struct DeclarationSetsArgs {
    /// What to do.
    #[command(subcommand)]
    pub verb: DeclarationSetsVerb,
}

/// The verbs of `mdmctl declaration-sets`.
#[derive(Debug, Subcommand)]
pub enum DeclarationSetsVerb {
    /// Make a set, or replace its declarations (each must exist). The enrolled devices it is
    /// assigned to are told to sync when its declarations changed.
    Put(PutArgs),
    /// List every set, by name, with its declarations and how many devices it is assigned to.
    /// With `-o json`, an array of the API's DeclarationSet objects.
    List(PageArgs),
    /// Show every field of one set.
    Show {
        /// The set's name.
        name: String,
    },
    /// Remove a set and its assignments: its enrolled devices are told to sync and remove its
    /// declarations (unless another set holds them). With `-o json`, the API's Sync.
    Delete {
        /// The set's name.
        name: String,
    },
    /// Assign a set to devices (each must be known to the server); those it was not assigned to
    /// yet, if enrolled, are told to sync.
    Assign(AssignArgs),
    /// Take a set back from devices; those it was assigned to, if enrolled, are told to sync and
    /// remove its declarations (unless another set holds them).
    Unassign(AssignArgs),
    /// List the devices a set is assigned to, by enrollment ID. With `-o json`, an array of IDs.
    Devices {
        /// The set's name.
        name: String,
        /// Paging.
        #[command(flatten)]
        page: PageArgs,
    },
    /// Tell every device a set is assigned to to sync again: the remedy when a change was saved
    /// but its devices could not be told (the error said so). With `-o json`, the API's Sync.
    Sync {
        /// The set's name.
        name: String,
    },
}

/// Options of `declaration-sets put`.
#[derive(Debug, Default, Args)]
pub struct PutArgs {
    /// Its name (printable, at most 128 bytes, without `/`).
    pub name: String,
    /// A declaration's Identifier; repeat for more. The set holds exactly these afterwards.
    #[arg(
        long = "declaration",
        value_name = "ID",
        required_unless_present = "empty"
    )]
    pub declarations: Vec<String>,
    /// Hold no declaration: its devices remove every declaration it held (unless another set
    /// holds them), and it stays assigned.
    #[arg(long, conflicts_with = "declarations")]
    pub empty: bool,
}

/// Options of `declaration-sets assign|unassign`.
#[derive(Debug, Default, Args)]
pub struct AssignArgs {
    /// The set's name.
    pub name: String,
    /// The devices.
    #[command(flatten)]
    pub devices: Devices,
}

/// The devices of `assign|unassign`; at least one is required.
#[derive(Debug, Clone, Default, Args)]
#[group(id = "which_devices", required = true, multiple = true)]
pub struct Devices {
    /// A device's enrollment ID (UDID, EnrollmentID, or `<device>:<user>` for a user channel);
    /// repeat for more.
    #[arg(long = "device", value_name = "ID")]
    pub devices: Vec<String>,
    /// A file of enrollment IDs, one per line; blank lines and lines starting with `#` are
    /// skipped.
    #[arg(long, value_name = "FILE")]
    pub devices_file: Option<PathBuf>,
}

impl Devices {
    /// The enrollment IDs, each once (a repeat is a usage error, as for `commands send`).
    pub fn read(&self) -> anyhow::Result<Vec<String>> {
        named_devices(&self.devices, self.devices_file.as_deref())
    }
}

/// Runs `mdmctl declaration-sets ...`.
pub async fn run(args: DeclarationSetsArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    // Connected in each verb, after its own options are checked: a usage error needs no server.
    let api = || Api::connect(global, env);
    match args.verb {
        DeclarationSetsVerb::Put(put) => {
            let body = DeclarationSetRequest {
                declarations: put.declarations,
            };
            let name = &put.name;
            let change = api()?
                .put_declaration_set(name, &body)
                .await
                .with_context(|| format!("storing declaration set {name}"))?;
            warn(&change.value.sync);
            match global.output {
                OutputFormat::Json => output::json(&change.json),
                OutputFormat::Table => output::line(&render::set_change(&change.value, "stored")),
            }
        }
        DeclarationSetsVerb::List(page) => {
            let sets = api()?
                .declaration_sets(page.span())
                .await
                .context("listing declaration sets")?;
            match global.output {
                OutputFormat::Json => output::json(&sets.json),
                OutputFormat::Table => {
                    if sets.is_empty() {
                        eprintln!("no declaration sets");
                    }
                    output::text(&render::sets(&sets.items).to_string())
                }
            }
        }
        DeclarationSetsVerb::Show { name } => {
            let set = api()?
                .declaration_set(&name)
                .await
                .with_context(|| format!("reading declaration set {name}"))?;
            match global.output {
                OutputFormat::Json => output::json(&set.json),
                OutputFormat::Table => {
                    output::text(&record::rows(&set.json, render::SET_SHOWN_FIRST).to_string())
                }
            }
        }
        DeclarationSetsVerb::Delete { name } => {
            let sync = api()?
                .delete_declaration_set(&name)
                .await
                .with_context(|| format!("removing declaration set {name}"))?;
            warn(&sync.value);
            match global.output {
                OutputFormat::Json => output::json(&sync.json),
                OutputFormat::Table => output::line(&format!(
                    "deleted declaration set {name}\n{}",
                    render::synced(&sync.value)
                )),
            }
        }
        DeclarationSetsVerb::Assign(assign) => {
            let body = AssignmentRequest {
                assign: assign.devices.read()?,
                unassign: Vec::new(),
            };
            change_assignments(&api()?, &assign.name, &body, global).await
        }
        DeclarationSetsVerb::Unassign(unassign) => {
            let body = AssignmentRequest {
                assign: Vec::new(),
                unassign: unassign.devices.read()?,
            };
            change_assignments(&api()?, &unassign.name, &body, global).await
        }
        DeclarationSetsVerb::Devices { name, page } => {
            let devices = api()?
                .declaration_set_devices(&name, page.span())
                .await
                .with_context(|| format!("listing the devices of declaration set {name}"))?;
            match global.output {
                OutputFormat::Json => output::json(&devices.json),
                OutputFormat::Table => {
                    if devices.is_empty() {
                        eprintln!("declaration set {name} is assigned to no device");
                    }
                    let mut table = Table::new(["DEVICE"]);
                    for id in devices.items {
                        table.row([id]);
                    }
                    output::text(&table.to_string())
                }
            }
        }
        DeclarationSetsVerb::Sync { name } => {
            let sync = api()?.sync_declaration_set(&name).await.with_context(|| {
                format!("telling the devices of declaration set {name} to sync")
            })?;
            warn(&sync.value);
            match global.output {
                OutputFormat::Json => output::json(&sync.json),
                OutputFormat::Table => output::line(&render::synced(&sync.value)),
            }
        }
    }
}

/// `declaration-sets assign|unassign`.
async fn change_assignments(
    api: &Api,
    name: &str,
    body: &AssignmentRequest,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let change = api
        .assign_declaration_set(name, body)
        .await
        .with_context(|| format!("changing the devices of declaration set {name}"))?;
    warn(&change.value.sync);
    match global.output {
        OutputFormat::Json => output::json(&change.json),
        OutputFormat::Table => output::line(&render::set_change(&change.value, "changed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Noun};
    use crate::exit::UsageError;
    use clap::Parser;

    fn verb(args: &[&str]) -> Result<DeclarationSetsVerb, clap::Error> {
        let cli = Cli::try_parse_from(["mdmctl", "declaration-sets"].iter().chain(args))?;
        match cli.noun {
            Noun::DeclarationSets(sets) => Ok(sets.verb),
            other => panic!("declaration-sets: {other:?}"),
        }
    }

    #[test]
    fn put_needs_declarations_or_empty() {
        let Ok(DeclarationSetsVerb::Put(put)) = verb(&[
            "put",
            "base",
            "--declaration",
            "passcode",
            "--declaration",
            "activation",
        ]) else {
            panic!("put");
        };
        assert_eq!(put.declarations, ["passcode", "activation"]);
        let Ok(DeclarationSetsVerb::Put(put)) = verb(&["put", "base", "--empty"]) else {
            panic!("put --empty");
        };
        assert!(put.declarations.is_empty() && put.empty);
        assert!(verb(&["put", "base"]).is_err());
        assert!(verb(&["put", "base", "--empty", "--declaration", "p"]).is_err());
    }

    #[test]
    fn assign_needs_devices_each_once() {
        let Ok(DeclarationSetsVerb::Assign(assign)) =
            verb(&["assign", "base", "--device", "U1", "--device", " U2 "])
        else {
            panic!("assign");
        };
        assert_eq!(assign.devices.read().expect("two"), ["U1", "U2"]);
        assert!(verb(&["unassign", "base"]).is_err());
        let Ok(DeclarationSetsVerb::Unassign(unassign)) =
            verb(&["unassign", "base", "--device", "U1", "--device", "U1"])
        else {
            panic!("unassign");
        };
        let error = unassign.devices.read().expect_err("twice");
        let usage = error.downcast_ref::<UsageError>().expect("a usage error");
        assert!(usage.message.contains("named twice"), "{usage}");
    }

    #[test]
    fn a_devices_file_is_read_with_the_flags() {
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("ids");
        std::fs::write(&path, "# lab\nU2\n\nU3\n").expect("written");
        let devices = Devices {
            devices: vec!["U1".into()],
            devices_file: Some(path.clone()),
        };
        assert_eq!(devices.read().expect("three"), ["U1", "U2", "U3"]);
        std::fs::write(&path, "# nothing\n").expect("written");
        let error = devices.read().expect_err("empty");
        assert!(error.to_string().ends_with("names no device"), "{error}");
    }
}
