//! The commands of `blueprints create`: `--command JSON` (repeatable) or `--commands-file FILE`
//! (a JSON array), each in any form `POST /v1/commands` takes: typed (`request_type`), Apple's
//! keys (`RequestType`) or the raw XML (`plist`). Each is read here with the parsers the server
//! uses (`mdm_core::commands::api_command`, Apple's schema included), so that a mistake is a usage error naming the command before
//! anything is sent, not a 400 about `commands[3]` after.

use crate::exit::UsageError;
use anyhow::Context;
use clap::Args;
use mdm_core::commands::{api_command, is_destructive, request_type_of};
use serde_json::{Map, Value};
use std::io::Read;
use std::path::PathBuf;

/// Where the commands come from; one of the two is required.
#[derive(Debug, Clone, Default, Args)]
#[group(id = "command_source", required = true, multiple = false)]
pub struct CommandSource {
    /// A command as a JSON object, in any form `POST /v1/commands` takes, e.g.
    /// '{"request_type":"DeviceInformation"}' or '{"RequestType":"ProfileList"}'; repeat for
    /// more, in the order devices get them.
    #[arg(long = "command", value_name = "JSON")]
    pub commands: Vec<String>,
    /// A file holding a JSON array of such commands (`-` reads stdin).
    #[arg(long, value_name = "FILE")]
    pub commands_file: Option<PathBuf>,
}

impl CommandSource {
    /// The commands, each checked.
    pub fn read(&self) -> anyhow::Result<Vec<Map<String, Value>>> {
        let commands = match &self.commands_file {
            Some(path) => from_file(&read_file(path)?, &path.display().to_string())?,
            None => self
                .commands
                .iter()
                .enumerate()
                .map(|(i, text)| from_flag(i + 1, text))
                .collect::<Result<_, _>>()?,
        };
        for (i, command) in commands.iter().enumerate() {
            check(i + 1, command)?;
        }
        Ok(commands)
    }
}

fn read_file(path: &PathBuf) -> anyhow::Result<String> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the commands from stdin")?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("reading commands file {}", path.display()))?;
    }
    Ok(text)
}

/// The `n`th `--command`.
fn from_flag(n: usize, text: &str) -> Result<Map<String, Value>, UsageError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(command)) => Ok(command),
        Ok(_) => Err(UsageError::new(format!(
            "--command {n} is not a JSON object"
        ))),
        Err(e) => Err(UsageError::new(format!("--command {n} is not JSON: {e}"))),
    }
    .map_err(|e| {
        UsageError::with_hint(
            e.message,
            r#"quote it for the shell: --command '{"request_type":"DeviceInformation"}'"#,
        )
    })
}

/// The commands of a file named `name`: a JSON array of objects.
fn from_file(text: &str, name: &str) -> Result<Vec<Map<String, Value>>, UsageError> {
    let items = match serde_json::from_str(text) {
        Ok(Value::Array(items)) if !items.is_empty() => items,
        Ok(Value::Array(_)) => return Err(UsageError::new(format!("{name} holds no command"))),
        Ok(_) => {
            return Err(UsageError::new(format!(
                "{name} is not a JSON array of commands"
            )))
        }
        Err(e) => return Err(UsageError::new(format!("{name} is not JSON: {e}"))),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(command) => Ok(command),
            _ => Err(UsageError::new(format!(
                "item {} of {name} is not a JSON object",
                i + 1
            ))),
        })
        .collect()
}

/// The `n`th command is one the server would take into a blueprint.
fn check(n: usize, command: &Map<String, Value>) -> Result<(), UsageError> {
    let request_type =
        request_type(command).map_err(|why| UsageError::new(format!("command {n}: {why}")))?;
    if is_destructive(&request_type) {
        return Err(UsageError::new(format!(
            "command {n}: {request_type} is destructive, and a blueprint runs unattended on every device it applies to"
        )));
    }
    Ok(())
}

/// The RequestType of a command in any of its JSON forms, read as the server reads it; why not
/// when it is not a command.
pub fn request_type(command: &Map<String, Value>) -> Result<String, String> {
    let dictionary = api_command(command)?;
    Ok(request_type_of(&dictionary).unwrap_or_default().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(commands: &[&str]) -> CommandSource {
        CommandSource {
            commands: commands.iter().map(|c| (*c).to_owned()).collect(),
            commands_file: None,
        }
    }

    #[test]
    fn every_form_of_post_commands_is_taken() {
        let commands = source(&[
            r#"{"request_type":"DeviceInformation","queries":["OSVersion"]}"#,
            r#"{"RequestType":"ProfileList"}"#,
        ])
        .read()
        .expect("two commands");
        let types: Vec<String> = commands
            .iter()
            .map(|c| request_type(c).expect("a command"))
            .collect();
        assert_eq!(types, ["DeviceInformation", "ProfileList"]);
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>RequestType</key><string>SecurityInfo</string></dict></plist>"#;
        let raw: Map<String, Value> =
            serde_json::from_value(serde_json::json!({ "plist": xml })).expect("object");
        assert_eq!(request_type(&raw).as_deref(), Ok("SecurityInfo"));
    }

    #[test]
    fn mistakes_name_the_command() {
        for (commands, expected) in [
            (&["[1]"][..], "--command 1 is not a JSON object"),
            (&["{}", "{"], "--command 2 is not JSON"),
            (
                &[r#"{"RequestType":"ProfileList"}"#, "{}"],
                "command 2: a command needs",
            ),
            (
                &[r#"{"request_type":"EraseDevice"}"#],
                "command 1: EraseDevice is destructive",
            ),
            (&[r#"{"request_type":"Nope"}"#], "command 1: "),
        ] {
            let error = source(commands).read().expect_err("refused");
            let usage = error.downcast_ref::<UsageError>().expect("a usage error");
            assert!(usage.message.starts_with(expected), "{commands:?}: {usage}");
        }
    }

    #[test]
    fn a_file_is_an_array_of_objects() {
        let commands = from_file(r#"[{"RequestType":"ProfileList"}]"#, "f.json").expect("one");
        assert_eq!(commands.len(), 1);
        for (text, expected) in [
            ("[]", "f.json holds no command"),
            ("{}", "f.json is not a JSON array"),
            ("[1]", "item 1 of f.json is not a JSON object"),
        ] {
            let error = from_file(text, "f.json").expect_err(text);
            assert!(error.message.starts_with(expected), "{text}: {error}");
        }
    }
}
