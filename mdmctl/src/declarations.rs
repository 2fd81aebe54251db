//! `mdmctl declarations put|list|show|delete|status` and `mdmctl declaration-sets ...`:
//! Declarative Device Management. Declarations (Apple's JSON, checked against Apple's schema of
//! their type here and by the server) are grouped in sets, and sets are assigned to devices;
//! every change that alters what devices hold tells exactly those devices to sync (the
//! `DeclarativeManagement` command), and devices report each declaration's state by themselves.
//! Changing needs the `commands` scope, reading `read`.
//!
//! - [`file`]: the declaration file of `put`, checked before anything is sent.
//! - [`sets`]: `declaration-sets put|list|show|delete|assign|unassign|devices|sync`.
//! - [`device`]: `devices declarations|status-items`, one device's side.
//! - [`render`]: declarations, sets, states and changes as text.

pub mod device;
pub mod file;
pub mod render;
pub mod sets;

use crate::cli::{api_enum, GlobalArgs, OutputFormat};
use crate::client::{Api, Span};
use crate::config::Env;
use crate::output;
use crate::record;
use anyhow::Context;
use base64::Engine;
use clap::{Args, Subcommand};
use mdm_api::declarations::{AssetRequest, DeclarationStateFilter, StateQuery, Sync};
use std::path::PathBuf;

/// `mdmctl declarations ...`
#[derive(Debug, Args)]
pub struct DeclarationsArgs {
    /// What to do.
    #[command(subcommand)]
    pub verb: DeclarationsVerb,
}

/// The verbs of `mdmctl declarations`.
#[derive(Debug, Subcommand)]
pub enum DeclarationsVerb {
    /// Make or replace a declaration from a JSON file, checked against Apple's schema first.
    ///
    /// The file holds the declaration in Apple's form, `{"Type": ..., "Identifier": ...,
    /// "Payload": {...}}`, checked against Apple's schema of its Type before anything is sent (a
    /// mistake is exit 2, naming the key). New content gets a new ServerToken and every enrolled
    /// device holding it (through a set) is told to sync; the same content again changes
    /// nothing. With `-o json`, the API's DeclarationChange.
    Put(PutArgs),
    /// Make or replace an asset whose data the server keeps (a credential, an identity, a file).
    ///
    /// The data is sealed at rest and served only to the devices that hold the asset,
    /// authenticated as themselves; the server makes the asset declaration that references it
    /// (with the data's size and SHA-256), which sets hold like any other. The data is never
    /// shown again. With `-o json`, the API's DeclarationChange.
    Asset(AssetArgs),
    /// List every declaration, by identifier, with the sets that hold it. With `-o json`, an
    /// array of the API's Declaration objects.
    List(PageArgs),
    /// Show every field of one declaration, its payload included.
    Show {
        /// The declaration's Identifier.
        identifier: String,
    },
    /// Remove a declaration. Refused while a set holds it: take it out of the set (or delete
    /// the set) first.
    Delete {
        /// The declaration's Identifier.
        identifier: String,
    },
    /// List the devices a declaration is served to, each with what it reported.
    ///
    /// One row per device, by ID: applied (active and valid on the version served now), the
    /// ServerToken it reported on (`(old)` when it is not the one served now), active, valid,
    /// and the first reason's code when it is not. With `-o json`, an array of the API's
    /// DeclarationState objects.
    Status(StatusArgs),
}

/// Options of `declarations put`.
#[derive(Debug, Args)]
pub struct PutArgs {
    /// The declaration's JSON file (`-` reads stdin).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Its Identifier, instead of (or in the absence of) the file's.
    #[arg(long, value_name = "ID")]
    pub identifier: Option<String>,
}

/// Options of `declarations asset`.
#[derive(Debug, Args)]
pub struct AssetArgs {
    /// The asset declaration's Identifier.
    pub identifier: String,
    /// Its type: an asset type whose payload has a Reference.
    #[arg(
        long = "type",
        value_name = "TYPE",
        default_value = "com.apple.asset.credential.userpassword"
    )]
    pub asset_type: String,
    /// The data's media type.
    #[arg(long, value_name = "TYPE", default_value = "application/json")]
    pub content_type: String,
    /// The file holding the data (`-` reads stdin), at most 1 MiB.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
}

/// Options of `declarations status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The declaration's Identifier.
    pub identifier: String,
    /// The state filter.
    #[command(flatten)]
    pub state: StateArgs,
    /// Paging.
    #[command(flatten)]
    pub page: PageArgs,
}

/// `--state`, of the status listings.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct StateArgs {
    /// Only these: applied (active and valid on the version served now), pending (not
    /// reported on it yet) or failed (reported invalid).
    #[arg(long, value_name = "STATE", value_parser = api_enum::<DeclarationStateFilter>)]
    pub state: Option<DeclarationStateFilter>,
}

impl StateArgs {
    /// The API's query.
    pub fn query(self) -> StateQuery {
        StateQuery {
            state: self.state,
            ..StateQuery::default()
        }
    }
}

/// `--page-size`, of the lists (every page is read).
#[derive(Debug, Clone, Copy, Args)]
pub struct PageArgs {
    /// Items fetched per request; every page is fetched either way.
    #[arg(long, value_name = "N", default_value_t = 500,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub page_size: u32,
}

impl PageArgs {
    /// Every item, `--page-size` per request.
    pub fn span(self) -> Span {
        Span::all(self.page_size)
    }
}

/// Runs `mdmctl declarations ...`.
pub async fn run(args: DeclarationsArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    // Connected in each verb, after its own options are checked: a usage error needs no server.
    let api = || Api::connect(global, env);
    match args.verb {
        DeclarationsVerb::Put(put) => {
            // Read and checked before connecting: a mistake is a usage error, nothing sent.
            let checked = file::read(&put.file, put.identifier.as_deref())?;
            let identifier = &checked.identifier;
            let change = api()?
                .put_declaration(identifier, &checked.request)
                .await
                .with_context(|| format!("storing declaration {identifier}"))?;
            warn(&change.value.sync);
            match global.output {
                OutputFormat::Json => output::json(&change.json),
                OutputFormat::Table => output::line(&render::put(&change.value)),
            }
        }
        DeclarationsVerb::Asset(asset) => {
            // Read before connecting: a missing file is a usage error, nothing sent.
            let data = file::read_bytes(&asset.data)?;
            let body = AssetRequest {
                asset_type: asset.asset_type,
                content_type: asset.content_type,
                data: base64::engine::general_purpose::STANDARD.encode(data),
            };
            let identifier = &asset.identifier;
            let change = api()?
                .put_asset(identifier, &body)
                .await
                .with_context(|| format!("storing asset {identifier}"))?;
            warn(&change.value.sync);
            match global.output {
                OutputFormat::Json => output::json(&change.json),
                OutputFormat::Table => output::line(&render::put(&change.value)),
            }
        }
        DeclarationsVerb::List(page) => {
            let declarations = api()?
                .declarations(page.span())
                .await
                .context("listing declarations")?;
            match global.output {
                OutputFormat::Json => output::json(&declarations.json),
                OutputFormat::Table => {
                    if declarations.is_empty() {
                        eprintln!("no declarations");
                    }
                    output::text(&render::list(&declarations.items).to_string())
                }
            }
        }
        DeclarationsVerb::Show { identifier } => {
            let declaration = api()?
                .declaration(&identifier)
                .await
                .with_context(|| format!("reading declaration {identifier}"))?;
            match global.output {
                OutputFormat::Json => output::json(&declaration.json),
                OutputFormat::Table => {
                    output::text(&record::rows(&declaration.json, render::SHOWN_FIRST).to_string())
                }
            }
        }
        DeclarationsVerb::Delete { identifier } => {
            api()?
                .delete_declaration(&identifier)
                .await
                .with_context(|| format!("removing declaration {identifier}"))?;
            // The API answers 204 without a document: `-o json` prints nothing.
            match global.output {
                OutputFormat::Json => Ok(()),
                OutputFormat::Table => output::line(&format!("deleted declaration {identifier}")),
            }
        }
        DeclarationsVerb::Status(status) => {
            let identifier = &status.identifier;
            let states = api()?
                .declaration_status(identifier, &status.state.query(), status.page.span())
                .await
                .with_context(|| format!("listing the status of declaration {identifier}"))?;
            match global.output {
                OutputFormat::Json => output::json(&states.json),
                OutputFormat::Table => {
                    if states.is_empty() {
                        eprintln!("{}", no_states(identifier, status.state.state));
                    }
                    output::text(&render::device_states(&states.items).to_string())
                }
            }
        }
    }
}

/// Why `declarations status` lists nothing.
fn no_states(identifier: &str, state: Option<DeclarationStateFilter>) -> String {
    match state {
        Some(_) => "no devices match".to_owned(),
        None => format!(
            "declaration {identifier} is served to no device: put it in a set and assign the set (`declaration-sets assign`)"
        ),
    }
}

/// The warnings of a sync, on stderr: devices told although Apple's schema says they cannot run
/// `DeclarativeManagement` (each names the device and why).
fn warn(sync: &Sync) {
    for warning in &sync.warnings {
        eprintln!("warning: told to sync anyway: {warning}");
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Noun};
    use clap::Parser;
    use mdm_api::declarations::DeclarationStateFilter;

    #[test]
    fn put_takes_a_file_or_stdin_and_an_identifier() {
        let cli = Cli::try_parse_from(["mdmctl", "declarations", "put", "-", "--identifier", "p"])
            .expect("parses");
        let Noun::Declarations(args) = cli.noun else {
            panic!("declarations: {cli:?}");
        };
        let super::DeclarationsVerb::Put(put) = args.verb else {
            panic!("put: {args:?}");
        };
        assert_eq!(
            (put.file.to_str(), put.identifier.as_deref()),
            (Some("-"), Some("p"))
        );
        assert!(Cli::try_parse_from(["mdmctl", "declarations", "put"]).is_err());
    }

    #[test]
    fn status_takes_the_apis_states() {
        let cli = Cli::try_parse_from([
            "mdmctl",
            "declarations",
            "status",
            "passcode",
            "--state",
            "failed",
            "--page-size",
            "2",
        ])
        .expect("parses");
        let Noun::Declarations(args) = cli.noun else {
            panic!("declarations: {cli:?}");
        };
        let super::DeclarationsVerb::Status(status) = args.verb else {
            panic!("status: {args:?}");
        };
        assert_eq!(
            status.state.query().state,
            Some(DeclarationStateFilter::Failed)
        );
        assert_eq!(status.page.page_size, 2);
        let error = Cli::try_parse_from([
            "mdmctl",
            "declarations",
            "status",
            "passcode",
            "--state",
            "broken",
        ])
        .expect_err("not a state");
        assert!(error.to_string().contains("`applied`"), "{error}");
        assert!(
            Cli::try_parse_from(["mdmctl", "declarations", "list", "--page-size", "0"]).is_err()
        );
    }
}
