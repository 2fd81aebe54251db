//! Which devices a command goes to: `--device` (repeatable), `--devices-file`, or `--all`.

use crate::client::Api;
use crate::exit::{Failure, UsageError};
use anyhow::Context;
use clap::Args;
use mdm_api::devices::{DeviceQuery, EnrollmentStatus};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The target options of `commands send`; at least one is required.
#[derive(Debug, Clone, Default, Args)]
#[group(id = "targets", required = true, multiple = true)]
#[command(next_help_heading = "Targets")]
pub struct Targets {
    /// A device's enrollment ID (UDID, EnrollmentID, or `<device>:<user>` for a user channel);
    /// repeat for more.
    #[arg(long = "device", value_name = "ID")]
    pub devices: Vec<String>,
    /// A file of enrollment IDs, one per line; blank lines and lines starting with `#` are
    /// skipped.
    #[arg(long, value_name = "FILE")]
    pub devices_file: Option<PathBuf>,
    /// Every enrolled device (device channels; user channels are left out).
    #[arg(long, conflicts_with_all = ["devices", "devices_file"])]
    pub all: bool,
}

impl Targets {
    /// The enrollment IDs, each once. `--all` asks the server for the enrolled devices.
    pub async fn resolve(&self, api: &Api) -> anyhow::Result<Vec<String>> {
        if self.all {
            return all_enrolled(api).await;
        }
        named_devices(&self.devices, self.devices_file.as_deref())
    }
}

/// The enrollment IDs of `--device` flags and a `--devices-file`, each once: a repeat, an empty
/// ID or a file naming no device is a usage error that says where.
pub fn named_devices(
    devices: &[String],
    devices_file: Option<&Path>,
) -> anyhow::Result<Vec<String>> {
    let mut named: Vec<(String, String)> = devices
        .iter()
        .map(|id| (id.trim().to_owned(), "--device".to_owned()))
        .collect();
    if let Some(path) = devices_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading devices file {}", path.display()))?;
        let ids = parse_devices_file(&text);
        if ids.is_empty() {
            return Err(UsageError::new(format!("{} names no device", path.display())).into());
        }
        named.extend(ids.into_iter().map(|(line, id)| (id, origin(path, line))));
    }
    unique(named).map_err(|message| UsageError::new(message).into())
}

fn origin(path: &Path, line: usize) -> String {
    format!("line {line} of {}", path.display())
}

/// The IDs of a devices file with their line numbers.
pub fn parse_devices_file(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(n, line)| (n, line.to_owned()))
        .collect()
}

/// The IDs in order, or which one is named twice and where. A repeat is refused, as the server
/// does, because it usually means the list is not the one the administrator thinks it is.
pub fn unique(named: Vec<(String, String)>) -> Result<Vec<String>, String> {
    let mut first: HashMap<String, String> = HashMap::with_capacity(named.len());
    let mut ids = Vec::with_capacity(named.len());
    for (id, origin) in named {
        if id.is_empty() {
            return Err(format!("an empty device ID ({origin})"));
        }
        if let Some(earlier) = first.get(&id) {
            return Err(format!(
                "device {id} is named twice ({earlier} and {origin})"
            ));
        }
        first.insert(id.clone(), origin);
        ids.push(id);
    }
    Ok(ids)
}

async fn all_enrolled(api: &Api) -> anyhow::Result<Vec<String>> {
    let enrolled = DeviceQuery {
        status: Some(EnrollmentStatus::Enrolled),
        ..DeviceQuery::default()
    };
    let devices = crate::devices::list_all(api, &enrolled, 1000)
        .await
        .context("listing the enrolled devices for --all")?;
    let ids: Vec<String> = devices
        .items
        .into_iter()
        .filter(|d| d.user_id.is_none())
        .map(|d| d.enrollment_id)
        .collect();
    if ids.is_empty() {
        return Err(Failure {
            message: "--all: no device is enrolled".into(),
            hint: Some("`mdmctl devices list` shows every enrollment and its status".into()),
        }
        .into());
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_devices_file_skips_blanks_and_comments() {
        let text = "# fleet A\nUDID-1\n\n  UDID-2  \n#UDID-3\n";
        assert_eq!(
            parse_devices_file(text),
            vec![(2, "UDID-1".to_owned()), (4, "UDID-2".to_owned())]
        );
    }

    #[test]
    fn a_repeated_device_names_both_places() {
        let named = vec![
            ("UDID-1".to_owned(), "--device".to_owned()),
            ("UDID-2".to_owned(), "line 1 of f".to_owned()),
            ("UDID-1".to_owned(), "line 2 of f".to_owned()),
        ];
        let error = unique(named).expect_err("repeat");
        assert!(
            error.contains("UDID-1") && error.contains("--device") && error.contains("line 2 of f"),
            "{error}"
        );
        let ids = unique(vec![("A".into(), "x".into()), ("B".into(), "y".into())]);
        assert_eq!(ids.expect("distinct"), ["A", "B"]);
    }
}
