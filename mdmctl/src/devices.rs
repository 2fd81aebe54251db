//! `mdmctl devices list|show`: enrollments as enroll-svc knows them.
//!
//! - [`filter`]: the filters the API does not apply itself (OS version, last seen).
//! - [`render`]: tables of enrollments.

pub mod filter;
pub mod render;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::model::Enrollment;
use crate::client::Api;
use crate::config::Env;
use crate::duration::parse_duration;
use crate::output;
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use filter::Filter;
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
    /// `-o json`, an array of the API's Enrollment objects.
    List(ListArgs),
    /// Show every field of one enrollment.
    Show {
        /// Enrollment ID: UDID, EnrollmentID, or `<device>:<user>` for a user channel.
        id: String,
    },
}

/// Filters of `devices list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only enrollments in this state.
    #[arg(long, value_enum)]
    pub status: Option<Status>,
    /// Only devices whose OS version starts with these whole components: `17` matches 17.0 and
    /// 17.4.1, `17.4` matches 17.4 and 17.4.1 but not 17.40.
    #[arg(long, value_name = "VERSION")]
    pub os: Option<String>,
    /// Only devices that contacted the server within this long, e.g. 30m, 24h, 7d.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub last_seen_within: Option<Duration>,
    /// Enrollments fetched per request; every page is fetched either way.
    #[arg(long, value_name = "N", default_value_t = 500,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub page_size: u32,
}

/// An enrollment state, as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Status {
    /// Authenticate received, no TokenUpdate yet.
    Authenticated,
    /// Enrolled and reachable by push.
    Enrolled,
    /// The device checked out (unenrolled).
    CheckedOut,
}

impl Status {
    /// The API's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Authenticated => "authenticated",
            Status::Enrolled => "enrolled",
            Status::CheckedOut => "checked_out",
        }
    }
}

/// Runs `mdmctl devices ...`.
pub async fn run(args: DevicesArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let api = Api::connect(global, env)?;
    match args.verb {
        DevicesVerb::List(list) => {
            let now = SystemTime::now();
            let filter = Filter {
                os_prefix: list.os.clone(),
                seen_since: list.last_seen_within.and_then(|d| now.checked_sub(d)),
            };
            let status = list.status.map(Status::as_str);
            let devices = list_all(&api, status, list.page_size, &filter)
                .await
                .context("listing devices")?;
            match global.output {
                OutputFormat::Json => output::json(&devices),
                OutputFormat::Table => {
                    if devices.is_empty() {
                        eprintln!("no devices match");
                    }
                    output::text(&render::list(&devices, now).to_string())
                }
            }
        }
        DevicesVerb::Show { id } => {
            let device = api
                .device(&id)
                .await
                .with_context(|| format!("reading device {id}"))?;
            match global.output {
                OutputFormat::Json => output::json(&device),
                OutputFormat::Table => output::text(&render::show(&device).to_string()),
            }
        }
    }
}

/// Every enrollment in `status` (all when `None`) that passes `filter`, following `next_after`
/// page by page.
pub async fn list_all(
    api: &Api,
    status: Option<&str>,
    page_size: u32,
    filter: &Filter,
) -> anyhow::Result<Vec<Enrollment>> {
    let mut devices = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = api
            .devices_page(status, after.as_deref(), page_size)
            .await?;
        devices.extend(page.devices.into_iter().filter(|d| filter.matches(d)));
        match page.next_after {
            // A server that hands back the cursor it was given would loop forever.
            Some(next) if after.as_deref() != Some(next.as_str()) => after = Some(next),
            _ => return Ok(devices),
        }
    }
}
