//! The command to send, from the request type and flags (`--query`, `--pin`, `--set KEY=VALUE`,
//! ...) or from a plist file (`--plist`). Every request type of Apple's device-management schema
//! can be sent, and everything is checked here against that schema (`mdm_core::catalogue`),
//! before anything is sent, as the server checks it.

use crate::exit::UsageError;
use anyhow::Context;
use base64::Engine as _;
use clap::Args;
use mdm_core::catalogue::{
    catalogue, server_supplied, CommandSchema, KeySchema, KeyType, Platform,
};
use mdm_core::commands::{
    api_command, parse_command_plist, parse_full_command, request_type_of,
    DEFAULT_DEVICE_INFORMATION_QUERIES,
};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// The flags named after a command key, and the keys each sets: a flag applies to every request
/// type whose schema has one of its keys (`--identifier` to RemoveProfile, RemoveApplication,
/// InstallApplication...), and is refused for the others.
const KEY_FLAGS: [(&str, &[&str]); 8] = [
    ("--query", &["Queries"]),
    ("--identifier", &["Identifier"]),
    ("--pin", &["PIN"]),
    ("--message", &["Message"]),
    ("--phone-number", &["PhoneNumber"]),
    ("--preserve-data-plan", &["PreserveDataPlan"]),
    ("--managed-only", &["ManagedAppsOnly", "ManagedOnly"]),
    ("--bundle-id", &["Identifiers"]),
];

/// The flags that shape the command itself.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Command")]
pub struct CommandFlags {
    /// Queries: a query to ask for, e.g. OSVersion (repeatable); without any, DeviceInformation
    /// asks for a default inventory set.
    #[arg(long = "query", value_name = "NAME")]
    pub queries: Vec<String>,
    /// The file the command carries: the .mobileconfig of InstallProfile, the .mobileprovision of
    /// InstallProvisioningProfile (the request type's data key).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Identifier: the profile's PayloadIdentifier (RemoveProfile), an app's bundle ID...
    #[arg(long, value_name = "ID")]
    pub identifier: Option<String>,
    /// PIN: six digits (DeviceLock, EraseDevice; on a Mac, the code that unlocks it).
    #[arg(long)]
    pub pin: Option<String>,
    /// Message: shown on the lock screen (DeviceLock, EnableLostMode).
    #[arg(long)]
    pub message: Option<String>,
    /// PhoneNumber: shown on the lock screen (DeviceLock, EnableLostMode).
    #[arg(long, value_name = "NUMBER")]
    pub phone_number: Option<String>,
    /// PreserveDataPlan: keep the cellular data plan (EraseDevice).
    #[arg(long)]
    pub preserve_data_plan: bool,
    /// ManagedAppsOnly / ManagedOnly: list only what this server manages.
    #[arg(long)]
    pub managed_only: bool,
    /// Identifiers: a bundle identifier (repeatable).
    #[arg(long = "bundle-id", value_name = "ID")]
    pub bundle_ids: Vec<String>,
    /// Any key of the request type, as Apple spells it (repeatable), typed by the schema:
    /// text, a number, true/false, @FILE or base64 for data, an RFC 3339 time for a date; an
    /// array key takes one element per --set, or a JSON array; a dictionary key a JSON object.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Any request type: the Command dictionary (RequestType and its keys) as a plist file;
    /// the request type named must match its RequestType.
    #[arg(long, value_name = "FILE", conflicts_with_all = [
        "queries", "file", "identifier", "pin", "message", "phone_number",
        "preserve_data_plan", "managed_only", "bundle_ids", "set",
    ])]
    pub plist: Option<PathBuf>,
}

/// A command ready for the `command` field of `POST /v1/commands`.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    /// The RequestType as Apple spells it.
    pub request_type: String,
    /// The JSON `command`: with Apple's keys (`RequestType`) or raw (`plist`).
    pub command: Map<String, Value>,
}

/// Builds the command named `request_type` from `flags`, checked against Apple's schema.
pub fn build(request_type: &str, flags: &CommandFlags) -> anyhow::Result<Built> {
    if let Some(path) = &flags.plist {
        return from_plist_file(request_type, path);
    }
    let schema = schema_of(request_type)?;
    let name = schema.request_type.as_str();
    let mut command = Map::new();
    command.insert("RequestType".into(), json!(name));
    for (flag, keys, values) in key_flags(flags) {
        let key = keys.iter().find_map(|k| key_of(schema, k)).ok_or_else(|| {
            UsageError::new(format!(
                "{flag} does not apply to {name} (it has no such key)"
            ))
        })?;
        for value in values {
            put(&mut command, name, key, &value)?;
        }
    }
    if let Some(path) = &flags.file {
        let key = data_key(schema).ok_or_else(|| {
            UsageError::new(format!(
                "--file does not apply to {name} (it carries no file)"
            ))
        })?;
        let bytes = read(path)?;
        command.insert(key.key.clone(), data(&bytes));
    }
    for setting in &flags.set {
        let (key, value) = setting
            .split_once('=')
            .ok_or_else(|| UsageError::new(format!("--set {setting:?}: write KEY=VALUE")))?;
        let schema_key = key_of(schema, key.trim()).ok_or_else(|| {
            UsageError::new(format!(
                "--set: {name} has no key {:?} (its keys: {})",
                key.trim(),
                key_names(schema)
            ))
        })?;
        put(&mut command, name, schema_key, value)?;
    }
    if name == "DeviceInformation" && !command.contains_key("Queries") {
        command.insert("Queries".into(), json!(DEFAULT_DEVICE_INFORMATION_QUERIES));
    }
    if let Some(missing) = schema
        .keys
        .iter()
        .find(|k| k.required && !command.contains_key(&k.key) && !server_supplied(name, &k.key))
    {
        return Err(UsageError::new(format!(
            "{name} needs {} ({})",
            missing.key,
            how_to_give(schema, missing)
        ))
        .into());
    }
    // The server checks again; checking here gives a usage error before anything is sent.
    api_command(&command).map_err(UsageError::new)?;
    Ok(Built {
        request_type: name.to_owned(),
        command,
    })
}

/// The schema of a request type named in any case, or a usage error naming the closest.
pub fn schema_of(request_type: &str) -> Result<&'static CommandSchema, UsageError> {
    let catalogue = catalogue();
    if let Some(name) = catalogue.canonical(request_type) {
        return Ok(&catalogue.commands[name]);
    }
    let close = match catalogue.closest(request_type) {
        Some(close) => format!(" (did you mean {close}?)"),
        None => String::new(),
    };
    Err(UsageError::with_hint(
        format!("{request_type} is not a request type of Apple's device-management schema{close}"),
        "`mdmctl commands send --help` lists every request type",
    ))
}

fn key_of<'s>(schema: &'s CommandSchema, key: &str) -> Option<&'s KeySchema> {
    schema.keys.iter().find(|k| k.key == key)
}

/// The key `--file` fills: the request type's one data key (required first).
fn data_key(schema: &CommandSchema) -> Option<&KeySchema> {
    let data: Vec<&KeySchema> = schema
        .keys
        .iter()
        .filter(|k| k.kind == KeyType::Data)
        .collect();
    match data.as_slice() {
        [one] => Some(one),
        several => several.iter().copied().find(|k| k.required),
    }
}

/// The flag that gives `key`: its own flag, `--file` for the data key, or `--set`.
fn how_to_give(schema: &CommandSchema, key: &KeySchema) -> String {
    if let Some((flag, _)) = KEY_FLAGS
        .iter()
        .find(|(_, keys)| keys.contains(&key.key.as_str()))
    {
        return format!("{flag} ...");
    }
    if data_key(schema).is_some_and(|data| data.key == key.key) {
        return "--file FILE".into();
    }
    let value = match key.kind {
        KeyType::Array | KeyType::Dictionary => "JSON",
        _ => "...",
    };
    format!("--set {}={value}", key.key)
}

fn key_names(schema: &CommandSchema) -> String {
    if schema.keys.is_empty() {
        return "none".into();
    }
    schema
        .keys
        .iter()
        .map(|k| k.key.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The key flags given: each with the keys it may set and its values as typed.
fn key_flags(flags: &CommandFlags) -> Vec<(&'static str, &'static [&'static str], Vec<String>)> {
    let one = |v: &Option<String>| v.iter().cloned().collect::<Vec<_>>();
    let on = |b: bool| {
        if b {
            vec!["true".to_owned()]
        } else {
            Vec::new()
        }
    };
    // In the order of KEY_FLAGS.
    let values = [
        flags.queries.clone(),
        one(&flags.identifier),
        one(&flags.pin),
        one(&flags.message),
        one(&flags.phone_number),
        on(flags.preserve_data_plan),
        on(flags.managed_only),
        flags.bundle_ids.clone(),
    ];
    KEY_FLAGS
        .iter()
        .zip(values)
        .filter(|(_, values)| !values.is_empty())
        .map(|((flag, keys), values)| (*flag, *keys, values))
        .collect()
}

/// Sets `key` from the text `value`, typed by its schema; an array key gathers one element per
/// value, unless the value is a whole JSON array.
fn put(
    command: &mut Map<String, Value>,
    request_type: &str,
    key: &KeySchema,
    value: &str,
) -> Result<(), UsageError> {
    let wrong = |why: String| UsageError::new(format!("{request_type}: {}: {why}", key.key));
    if key.kind == KeyType::Array {
        let whole = value.trim_start().starts_with('[');
        if whole {
            let array = serde_json::from_str(value).map_err(|e| wrong(format!("not JSON: {e}")))?;
            command.insert(key.key.clone(), array);
            return Ok(());
        }
        let element = match key.subkeys.as_slice() {
            [element] => typed(element, value).map_err(wrong)?,
            _ => json!(value),
        };
        match command.entry(key.key.clone()).or_insert_with(|| json!([])) {
            Value::Array(items) => items.push(element),
            _ => return Err(wrong("given both as a whole array and by element".into())),
        }
        return Ok(());
    }
    command.insert(key.key.clone(), typed(key, value).map_err(wrong)?);
    Ok(())
}

/// `text` as a value of `key`'s type, in the API's JSON form.
fn typed(key: &KeySchema, text: &str) -> Result<Value, String> {
    Ok(match key.kind {
        KeyType::String => json!(text),
        KeyType::Integer => json!(text
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("{text:?} is not an integer"))?),
        KeyType::Real => json!(text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|r| r.is_finite())
            .ok_or_else(|| format!("{text:?} is not a number"))?),
        KeyType::Boolean => json!(match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            _ => return Err(format!("{text:?} is not true or false")),
        }),
        KeyType::Date => json!({"$date": text.trim()}),
        KeyType::Data => match text.strip_prefix('@') {
            Some(path) => data(&std::fs::read(path).map_err(|e| format!("reading {path}: {e}"))?),
            None => json!({"$data": text.trim()}),
        },
        KeyType::Array | KeyType::Dictionary | KeyType::Any => {
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?
        }
    })
}

fn data(bytes: &[u8]) -> Value {
    json!({"$data": base64::engine::general_purpose::STANDARD.encode(bytes)})
}

/// The help's list of every request type the schema knows, where it runs, and its keys
/// (required ones marked `*`).
pub fn request_types_help() -> String {
    let catalogue = catalogue();
    let mut text = format!(
        "Request types ({}; * marks a required key):\n",
        catalogue.source
    );
    for schema in catalogue.commands.values() {
        let platforms: Vec<String> = Platform::ALL
            .iter()
            .filter_map(|p| {
                let support = schema.platforms.get(p)?;
                let supervised = if support.supervised {
                    " supervised"
                } else {
                    ""
                };
                Some(format!("{p} {}{supervised}", support.introduced))
            })
            .collect();
        text.push_str(&format!(
            "  {}  ({})\n",
            schema.request_type,
            platforms.join(", ")
        ));
        if !schema.keys.is_empty() {
            let keys: Vec<String> = schema
                .keys
                .iter()
                .map(|k| format!("{}{}", k.key, if k.required { "*" } else { "" }))
                .collect();
            text.push_str(&format!("      keys: {}\n", keys.join(", ")));
        }
    }
    text.push_str(
        "`mdmctl commands describe TYPE` shows a request type's keys, types and allowed values.\n",
    );
    text
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
    let command = Map::from_iter([("plist".to_owned(), Value::String(xml))]);
    api_command(&command).map_err(|why| UsageError::new(format!("{}: {why}", path.display())))?;
    Ok(Built {
        request_type: found,
        command,
    })
}

#[cfg(test)]
mod tests;
