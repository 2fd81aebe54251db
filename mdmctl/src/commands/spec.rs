//! The command to send, from the request type and its typed flags (`--query`, `--pin`, ...) or
//! from a plist file (`--plist`). Everything is validated here, before anything is sent, with
//! the same rules the server applies (`mdm_core::commands`).

use crate::exit::UsageError;
use anyhow::Context;
use clap::Args;
use mdm_core::commands::{parse_command_plist, parse_full_command, request_type_of, CommandSpec};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The request types with typed flags, as Apple spells them.
pub const TYPED: [&str; 14] = [
    "DeviceInformation",
    "SecurityInfo",
    "ProfileList",
    "InstalledApplicationList",
    "CertificateList",
    "ProvisioningProfileList",
    "InstallProfile",
    "RemoveProfile",
    "InstallProvisioningProfile",
    "DeviceLock",
    "EraseDevice",
    "ClearPasscode",
    "RestartDevice",
    "ShutDownDevice",
];

/// Each typed flag and the request types it belongs to.
const FLAG_USES: [(&str, &[&str]); 9] = [
    ("--query", &["DeviceInformation"]),
    ("--file", &["InstallProfile", "InstallProvisioningProfile"]),
    ("--identifier", &["RemoveProfile"]),
    ("--pin", &["DeviceLock", "EraseDevice"]),
    ("--message", &["DeviceLock"]),
    ("--phone-number", &["DeviceLock"]),
    ("--preserve-data-plan", &["EraseDevice"]),
    ("--managed-only", &["InstalledApplicationList"]),
    ("--bundle-id", &["InstalledApplicationList"]),
];

/// The flags that shape the command itself.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Command")]
pub struct CommandFlags {
    /// DeviceInformation: a query to ask for, e.g. OSVersion (repeatable); without any, the
    /// server asks for a default inventory set.
    #[arg(long = "query", value_name = "NAME")]
    pub queries: Vec<String>,
    /// InstallProfile: the .mobileconfig to install; InstallProvisioningProfile: the
    /// .mobileprovision.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// RemoveProfile: the PayloadIdentifier of the profile to remove.
    #[arg(long, value_name = "ID")]
    pub identifier: Option<String>,
    /// DeviceLock, EraseDevice: six-digit PIN (on a Mac, the code that unlocks it).
    #[arg(long)]
    pub pin: Option<String>,
    /// DeviceLock: message shown on the lock screen.
    #[arg(long)]
    pub message: Option<String>,
    /// DeviceLock: phone number shown on the lock screen.
    #[arg(long, value_name = "NUMBER")]
    pub phone_number: Option<String>,
    /// EraseDevice: keep the cellular data plan (eSIM).
    #[arg(long)]
    pub preserve_data_plan: bool,
    /// InstalledApplicationList: list only apps this server manages.
    #[arg(long)]
    pub managed_only: bool,
    /// InstalledApplicationList: list only this bundle identifier (repeatable).
    #[arg(long = "bundle-id", value_name = "ID")]
    pub bundle_ids: Vec<String>,
    /// Any request type: the Command dictionary (RequestType and its keys) as a plist file;
    /// the request type named must match its RequestType.
    #[arg(long, value_name = "FILE", conflicts_with_all = [
        "queries", "file", "identifier", "pin", "message", "phone_number",
        "preserve_data_plan", "managed_only", "bundle_ids",
    ])]
    pub plist: Option<PathBuf>,
}

/// A command ready for the `command` field of `POST /v1/commands`.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    /// The RequestType as Apple spells it.
    pub request_type: String,
    /// The JSON `command`: typed (`request_type`) or raw (`plist`).
    pub command: Map<String, Value>,
}

/// Builds the command named `request_type` from `flags`.
pub fn build(request_type: &str, flags: &CommandFlags) -> anyhow::Result<Built> {
    if let Some(path) = &flags.plist {
        return from_plist_file(request_type, path);
    }
    let Some(canonical) = TYPED
        .iter()
        .find(|t| t.eq_ignore_ascii_case(request_type.trim()))
    else {
        return Err(UsageError::with_hint(
            format!("{request_type} has no typed flags"),
            format!(
                "give its Command dictionary with --plist FILE, or use one of: {}",
                TYPED.join(", ")
            ),
        )
        .into());
    };
    check_flags_apply(canonical, flags)?;
    let spec = typed(canonical, flags)?;
    // The server validates again; checking here gives a usage error before anything is sent.
    spec.to_command()
        .map_err(|e| UsageError::new(format!("{canonical}: {e}")))?;
    let Value::Object(command) = serde_json::to_value(&spec).context("serializing the command")?
    else {
        anyhow::bail!("{canonical} did not serialize as a JSON object");
    };
    Ok(Built {
        request_type: (*canonical).to_owned(),
        command,
    })
}

/// The names of the typed flags given.
fn given(flags: &CommandFlags) -> Vec<&'static str> {
    let present = [
        !flags.queries.is_empty(),
        flags.file.is_some(),
        flags.identifier.is_some(),
        flags.pin.is_some(),
        flags.message.is_some(),
        flags.phone_number.is_some(),
        flags.preserve_data_plan,
        flags.managed_only,
        !flags.bundle_ids.is_empty(),
    ];
    FLAG_USES
        .iter()
        .zip(present)
        .filter(|(_, present)| *present)
        .map(|((flag, _), _)| *flag)
        .collect()
}

/// A flag for another request type is refused rather than ignored: `--pin` on a RestartDevice
/// is a sign the administrator meant another command.
fn check_flags_apply(request_type: &str, flags: &CommandFlags) -> Result<(), UsageError> {
    for flag in given(flags) {
        let uses = FLAG_USES
            .iter()
            .find(|(name, _)| *name == flag)
            .map_or(&[][..], |(_, uses)| *uses);
        if !uses.contains(&request_type) {
            return Err(UsageError::new(format!(
                "{flag} does not apply to {request_type} (it is for {})",
                uses.join(", ")
            )));
        }
    }
    Ok(())
}

fn typed(request_type: &str, f: &CommandFlags) -> anyhow::Result<CommandSpec> {
    let needs =
        |flag: &str, what: &str| UsageError::new(format!("{request_type} needs {flag} ({what})"));
    Ok(match request_type {
        "DeviceInformation" => CommandSpec::DeviceInformation {
            queries: f.queries.clone(),
        },
        "SecurityInfo" => CommandSpec::SecurityInfo {},
        "ProfileList" => CommandSpec::ProfileList {},
        "InstalledApplicationList" => CommandSpec::InstalledApplicationList {
            managed_apps_only: f.managed_only.then_some(true),
            identifiers: f.bundle_ids.clone(),
        },
        "CertificateList" => CommandSpec::CertificateList {},
        "ProvisioningProfileList" => CommandSpec::ProvisioningProfileList {},
        "InstallProfile" => {
            let path = f
                .file
                .as_ref()
                .ok_or_else(|| needs("--file", "the .mobileconfig"))?;
            CommandSpec::InstallProfile {
                payload: read(path)?.into(),
            }
        }
        "RemoveProfile" => CommandSpec::RemoveProfile {
            identifier: f
                .identifier
                .clone()
                .ok_or_else(|| needs("--identifier", "the profile's PayloadIdentifier"))?,
        },
        "InstallProvisioningProfile" => {
            let path = f
                .file
                .as_ref()
                .ok_or_else(|| needs("--file", "the .mobileprovision"))?;
            CommandSpec::InstallProvisioningProfile {
                profile: read(path)?.into(),
            }
        }
        "DeviceLock" => CommandSpec::DeviceLock {
            pin: f.pin.clone(),
            message: f.message.clone(),
            phone_number: f.phone_number.clone(),
        },
        "EraseDevice" => CommandSpec::EraseDevice {
            pin: f.pin.clone(),
            preserve_data_plan: f.preserve_data_plan.then_some(true),
        },
        "ClearPasscode" => CommandSpec::ClearPasscode {},
        "RestartDevice" => CommandSpec::RestartDevice {},
        "ShutDownDevice" => CommandSpec::ShutDownDevice {},
        other => return Err(UsageError::new(format!("{other} has no typed flags")).into()),
    })
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// A raw command from a plist file: a bare Command dictionary, or the whole `{Command,
/// CommandUUID}` document (its CommandUUID is dropped: the server assigns one). XML or binary;
/// it is sent as XML, the only form JSON can carry as text.
fn from_plist_file(request_type: &str, path: &Path) -> anyhow::Result<Built> {
    let bytes = read(path)?;
    let dictionary = parse_command_plist(&bytes)
        .or_else(|bare| parse_full_command(&bytes).map(|(c, _)| c).map_err(|_| bare))
        .with_context(|| format!("{} is not a Command dictionary plist", path.display()))?;
    let found = request_type_of(&dictionary).unwrap_or_default().to_owned();
    // Named on the command line as well, so that the confirmation of a destructive command
    // never depends on a file the administrator did not look into.
    if !found.eq_ignore_ascii_case(request_type.trim()) {
        return Err(UsageError::new(format!(
            "{} holds a {found} command, not {request_type}",
            path.display()
        ))
        .into());
    }
    let mut xml = Vec::new();
    plist::Value::Dictionary(dictionary)
        .to_writer_xml(&mut xml)
        .with_context(|| format!("{} cannot be written as an XML plist", path.display()))?;
    let xml = String::from_utf8(xml).context("the XML plist is not UTF-8")?;
    Ok(Built {
        request_type: found,
        command: Map::from_iter([("plist".to_owned(), Value::String(xml))]),
    })
}

#[cfg(test)]
mod tests;
