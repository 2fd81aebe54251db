//! `mdmctl devices list|show|apps|declarations|status-items`: enrollments as enroll-svc knows
//! them, filtered by the server, with their inventory, push state, installed apps, and their
//! side of Declarative Device Management ([`crate::declarations::device`]).
//!
//! - [`filter`]: the `list` filters as the API's query, and the OS version refinement.
//! - [`render`]: tables of devices and apps.

pub mod filter;
pub mod render;

use crate::cli::{api_enum, GlobalArgs, OutputFormat};
use crate::client::{Api, Listing, Span};
use crate::config::Env;
use crate::duration::parse_duration;
use crate::output;
use crate::record;
use anyhow::Context;
use clap::{Args, Subcommand};
use mdm_api::devices::{Device, DeviceQuery, DeviceSort, EnrollmentStatus};
use std::time::{Duration, SystemTime};

/// `mdmctl devices ...`
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// What to do.
    #[command(subcommand)]
    pub verb: DevicesVerb,
}

/// The verbs of `mdmctl devices`.
#[derive(Debug, Subcommand)]
pub enum DevicesVerb {
    /// List enrollments (devices and user channels) in enrollment-ID order, every page. With
    /// `-o json`, an array of the API's Device objects.
    List(ListArgs),
    /// Show every field of one enrollment, with its inventory and push state.
    Show {
        /// Enrollment ID: UDID, EnrollmentID, or `<device>:<user>` for a user channel.
        id: String,
    },
    /// List the apps a device reported in its last InstalledApplicationList answer.
    Apps {
        /// Enrollment ID.
        id: String,
    },
    /// List the declarations served to a device, each with what it reported.
    ///
    /// One row per declaration its declaration sets hold, by identifier: applied (active and
    /// valid on the version served now), the ServerToken it reported on (`(old)` when it is not
    /// the one served now), active, valid, and the first reason's code when it is not. With
    /// `-o json`, an array of the API's DeclarationState objects.
    Declarations(crate::declarations::device::DeclarationsArgs),
    /// List the Declarative Device Management status items a device reported (their latest
    /// values), and when it last sent a full report.
    StatusItems {
        /// Enrollment ID.
        id: String,
    },
}

/// Filters of `devices list`, applied by the server.
#[derive(Debug, Clone, Default, Args)]
pub struct ListArgs {
    /// Only enrollments in this state: authenticated, enrolled or checked_out.
    #[arg(long, value_name = "STATUS", value_parser = api_enum::<EnrollmentStatus>)]
    pub status: Option<EnrollmentStatus>,
    /// Only the device with this serial number.
    #[arg(long, value_name = "SERIAL")]
    pub serial: Option<String>,
    /// Only this model: a ProductName (iPhone15,2), Model or ModelName (iPhone).
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// Only devices whose OS version starts with these whole components: `17` matches 17.0 and
    /// 17.4.1, `17.4` matches 17.4 and 17.4.1 but not 17.40.
    #[arg(long, visible_alias = "os", value_name = "VERSION")]
    pub os_version: Option<String>,
    /// Only devices whose name starts with this, ignoring case.
    #[arg(long, value_name = "PREFIX")]
    pub name: Option<String>,
    /// Only devices that contacted the server within this long, e.g. 30m, 24h, 7d.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub last_seen_within: Option<Duration>,
    /// Only devices that have not contacted the server for this long (never-seen ones are left
    /// out), e.g. 30d.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub not_seen_within: Option<Duration>,
    /// The order: id (the default), name (ignoring case) or last_seen (oldest contact first).
    #[arg(long, value_name = "ORDER", value_parser = api_enum::<DeviceSort>)]
    pub sort: Option<DeviceSort>,
    /// Backwards: Z to A, most recently seen first.
    #[arg(long)]
    pub descending: bool,
    /// Enrollments fetched per request; every page is fetched either way.
    #[arg(long, value_name = "N", default_value_t = 500,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub page_size: u32,
}

/// Runs `mdmctl devices ...`.
pub async fn run(args: DevicesArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let api = Api::connect(global, env)?;
    match args.verb {
        DevicesVerb::List(list) => {
            let now = SystemTime::now();
            let devices = list_all(&api, &filter::query(&list, now), list.page_size)
                .await
                .context("listing devices")?;
            match global.output {
                OutputFormat::Json => output::json(&devices.json),
                OutputFormat::Table => {
                    if devices.is_empty() {
                        eprintln!("no devices match");
                    }
                    output::text(&render::list(&devices.items, now).to_string())
                }
            }
        }
        DevicesVerb::Show { id } => {
            let device = api
                .device(&id)
                .await
                .with_context(|| format!("reading device {id}"))?;
            match global.output {
                OutputFormat::Json => output::json(&device.json),
                OutputFormat::Table => {
                    output::text(&record::rows(&device.json, render::SHOWN_FIRST).to_string())
                }
            }
        }
        DevicesVerb::Apps { id } => {
            let apps = api
                .device_apps(&id, Span::all(1000))
                .await
                .with_context(|| format!("listing the apps of {id}"))?;
            match global.output {
                OutputFormat::Json => output::json(&apps.json),
                OutputFormat::Table => {
                    if apps.is_empty() {
                        eprintln!(
                            "{id} has reported no apps (queue InstalledApplicationList to ask)"
                        );
                    }
                    output::text(&render::apps(&apps.items).to_string())
                }
            }
        }
        DevicesVerb::Declarations(list) => {
            crate::declarations::device::declarations(&api, list, global).await
        }
        DevicesVerb::StatusItems { id } => {
            crate::declarations::device::status_items(&api, &id, global).await
        }
    }
}

/// Every enrollment `query` matches, following the pages.
pub async fn list_all(
    api: &Api,
    query: &DeviceQuery,
    page_size: u32,
) -> anyhow::Result<Listing<Device>> {
    Ok(api.devices(query, Span::all(page_size)).await?)
}
