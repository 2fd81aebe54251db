//! What a simulated device answers to each command, shaped like the real captures in
//! `fixtures/commandment/testdata` (same keys, same value types), and the device state the
//! answers depend on (installed profiles).

use super::ddm::SyncTokens;
use plist::{Dictionary, Value};
use std::collections::BTreeMap;

/// The facts a simulated device reports.
#[derive(Debug, Clone)]
pub struct DeviceFacts {
    /// UDID.
    pub udid: String,
    /// SerialNumber.
    pub serial_number: String,
    /// DeviceName.
    pub device_name: String,
    /// OSVersion.
    pub os_version: String,
    /// BuildVersion.
    pub build_version: String,
    /// ProductName.
    pub product_name: String,
    /// ModelName.
    pub model_name: String,
}

impl DeviceFacts {
    /// An iPhone with facts derived from its UDID.
    pub fn iphone(udid: &str, index: usize) -> DeviceFacts {
        DeviceFacts {
            udid: udid.to_string(),
            serial_number: format!("SIM{index:09}"),
            device_name: format!("Simulated iPhone {index}"),
            os_version: "17.1".into(),
            build_version: "21B80".into(),
            product_name: "iPhone15,2".into(),
            model_name: "iPhone".into(),
        }
    }

    /// A Mac with facts derived from its UDID: it can run user channels.
    pub fn mac(udid: &str, index: usize) -> DeviceFacts {
        DeviceFacts {
            udid: udid.to_string(),
            serial_number: format!("SIMM{index:08}"),
            device_name: format!("Simulated Mac {index}"),
            os_version: "14.1".into(),
            build_version: "23B74".into(),
            product_name: "Mac14,2".into(),
            model_name: "MacBook Air".into(),
        }
    }
}

/// A command as the device received it.
#[derive(Debug, Clone)]
pub struct ReceivedCommand {
    /// CommandUUID.
    pub command_uuid: String,
    /// RequestType.
    pub request_type: String,
    /// The Command dictionary.
    pub command: Dictionary,
}

impl ReceivedCommand {
    /// Parses a command plist sent by the server.
    pub fn parse(body: &[u8]) -> Result<ReceivedCommand, String> {
        let value = Value::from_reader(std::io::Cursor::new(body)).map_err(|e| e.to_string())?;
        let dict = value.as_dictionary().ok_or("not a dictionary")?;
        let command_uuid = dict
            .get("CommandUUID")
            .and_then(Value::as_string)
            .ok_or("no CommandUUID")?
            .to_string();
        let command = dict
            .get("Command")
            .and_then(Value::as_dictionary)
            .ok_or("no Command")?
            .clone();
        let request_type = command
            .get("RequestType")
            .and_then(Value::as_string)
            .ok_or("no RequestType")?
            .to_string();
        Ok(ReceivedCommand {
            command_uuid,
            request_type,
            command,
        })
    }
}

/// How a device answers a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Acknowledged, with the result keys to add to the report.
    Acknowledged(Dictionary),
    /// Error, with an ErrorChain.
    Error {
        /// ErrorCode.
        code: i64,
        /// ErrorDomain.
        domain: &'static str,
        /// USEnglishDescription.
        description: String,
    },
}

/// The device's own state, changed by the commands it executes.
#[derive(Debug, Clone, Default)]
pub struct DeviceState {
    /// Installed profiles by PayloadIdentifier.
    pub profiles: BTreeMap<String, Dictionary>,
    /// The PayloadIdentifier of the profile that enrolled the device in MDM, listed among
    /// `profiles`; removing it unenrolls the device.
    pub enrollment_profile: Option<String>,
    /// Set when the enrollment profile was removed: the device checks out once it has
    /// acknowledged that, and takes no more commands.
    pub unenrolled: bool,
    /// Waiting in Setup Assistant (as a device enrolled through Automated Device Enrollment
    /// does) until DeviceConfigured; its TokenUpdate says so.
    pub awaiting_configuration: bool,
}

/// PayloadIdentifier of the enrollment profile of a device whose identity was issued up front
/// (no profile was ever installed; a real device always has one).
pub const PREISSUED_ENROLLMENT_PROFILE: &str = "com.github.mdm-server.devsim.enrollment";

impl DeviceState {
    /// A device enrolled by the profile `identifier`, which lists as managed and removable.
    pub fn enrolled_by(identifier: &str) -> DeviceState {
        let mut profile = Dictionary::new();
        profile.insert("PayloadIdentifier".into(), Value::String(identifier.into()));
        profile.insert(
            "PayloadDisplayName".into(),
            Value::String("MDM enrollment".into()),
        );
        profile.insert("PayloadVersion".into(), Value::Integer(1.into()));
        profile.insert("IsManaged".into(), Value::Boolean(true));
        profile.insert("IsEncrypted".into(), Value::Boolean(false));
        DeviceState {
            profiles: BTreeMap::from([(identifier.to_owned(), profile)]),
            enrollment_profile: Some(identifier.to_owned()),
            unenrolled: false,
            awaiting_configuration: false,
        }
    }
}

/// Executes `command` on a device with `facts` and `state`.
pub fn execute(command: &ReceivedCommand, facts: &DeviceFacts, state: &mut DeviceState) -> Answer {
    let c = &command.command;
    match command.request_type.as_str() {
        "DeviceInformation" => {
            let queries: Vec<&str> = c
                .get("Queries")
                .and_then(Value::as_array)
                .map(|q| q.iter().filter_map(Value::as_string).collect())
                .unwrap_or_default();
            let mut answers = Dictionary::new();
            for query in queries {
                if let Some(value) = query_answer(query, facts) {
                    answers.insert(query.to_string(), value);
                }
            }
            ack([("QueryResponses", Value::Dictionary(answers))])
        }
        "SecurityInfo" => {
            let mut info = Dictionary::new();
            info.insert("HardwareEncryptionCaps".into(), Value::Integer(3.into()));
            info.insert("PasscodePresent".into(), Value::Boolean(true));
            info.insert("PasscodeCompliant".into(), Value::Boolean(true));
            info.insert("PasscodeCompliantWithProfiles".into(), Value::Boolean(true));
            ack([("SecurityInfo", Value::Dictionary(info))])
        }
        "ProfileList" => {
            let list = state
                .profiles
                .values()
                .cloned()
                .map(Value::Dictionary)
                .collect();
            ack([("ProfileList", Value::Array(list))])
        }
        "InstalledApplicationList" => {
            let apps = [
                ("com.apple.mobilesafari", "Safari", "17.1"),
                ("com.example.mail", "Mail Client", "4.2.0"),
            ];
            let list = apps
                .iter()
                .map(|(id, name, version)| {
                    let mut app = Dictionary::new();
                    app.insert("Identifier".into(), Value::String((*id).into()));
                    app.insert("Name".into(), Value::String((*name).into()));
                    app.insert("ShortVersion".into(), Value::String((*version).into()));
                    app.insert("Version".into(), Value::String((*version).into()));
                    app.insert("BundleSize".into(), Value::Integer(52_428_800.into()));
                    Value::Dictionary(app)
                })
                .collect();
            ack([("InstalledApplicationList", Value::Array(list))])
        }
        "CertificateList" => ack([("CertificateList", Value::Array(Vec::new()))]),
        "ProvisioningProfileList" => ack([("ProvisioningProfileList", Value::Array(Vec::new()))]),
        "InstallProfile" => match installed_profile(c) {
            Some(profile) => {
                let id = profile
                    .get("PayloadIdentifier")
                    .and_then(Value::as_string)
                    .unwrap_or_default()
                    .to_string();
                state.profiles.insert(id, profile);
                ack([])
            }
            None => error(
                4001,
                "MCProfileErrorDomain",
                "The profile could not be read.",
            ),
        },
        "RemoveProfile" => {
            let id = c
                .get("Identifier")
                .and_then(Value::as_string)
                .unwrap_or_default();
            if state.profiles.remove(id).is_some() {
                // Removing the MDM profile unenrolls the device (it checks out after this).
                state.unenrolled |= state.enrollment_profile.as_deref() == Some(id);
                ack([])
            } else {
                error(
                    1001,
                    "MCProfileErrorDomain",
                    &format!("The profile “{id}” is not installed."),
                )
            }
        }
        "DeviceLock"
        | "EraseDevice"
        | "ClearPasscode"
        | "RestartDevice"
        | "ShutDownDevice"
        | "InstallProvisioningProfile" => ack([]),
        "DeclarativeManagement" => match SyncTokens::from_command(c) {
            // The sync itself runs after the session (SimDevice::session).
            Ok(_) => ack([]),
            Err(why) => error(
                12_000,
                "MCMDMErrorDomain",
                &format!("The declarative management request cannot be read: {why}."),
            ),
        },
        "DeviceConfigured" => {
            state.awaiting_configuration = false;
            ack([])
        }
        other => error(
            12021,
            "MCMDMErrorDomain",
            &format!("The MDM command “{other}” is not supported."),
        ),
    }
}

fn ack<const N: usize>(entries: [(&str, Value); N]) -> Answer {
    Answer::Acknowledged(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

fn error(code: i64, domain: &'static str, description: &str) -> Answer {
    Answer::Error {
        code,
        domain,
        description: description.to_string(),
    }
}

fn query_answer(query: &str, f: &DeviceFacts) -> Option<Value> {
    let text = |s: &str| Some(Value::String(s.to_string()));
    match query {
        "UDID" => text(&f.udid),
        "DeviceName" => text(&f.device_name),
        "OSVersion" => text(&f.os_version),
        "BuildVersion" => text(&f.build_version),
        "ProductName" => text(&f.product_name),
        "ModelName" => text(&f.model_name),
        "Model" => text("MQ3A2"),
        "SerialNumber" => text(&f.serial_number),
        "IMEI" => text("35 000000 000000 0"),
        "MEID" => text("35000000000000"),
        "DeviceCapacity" => Some(Value::Real(119.1)),
        "AvailableDeviceCapacity" => Some(Value::Real(87.6)),
        "BatteryLevel" => Some(Value::Real(0.84)),
        "WiFiMAC" => text("f0:99:b6:00:00:01"),
        "BluetoothMAC" => text("f0:99:b6:00:00:02"),
        "IsSupervised" => Some(Value::Boolean(false)),
        "IsActivationLockEnabled" => Some(Value::Boolean(false)),
        // Real devices leave out what they do not know.
        _ => None,
    }
}

fn installed_profile(command: &Dictionary) -> Option<Dictionary> {
    let payload = command.get("Payload")?.as_data()?;
    let profile = Value::from_reader(std::io::Cursor::new(payload)).ok()?;
    let profile = profile.as_dictionary()?;
    let mut entry = Dictionary::new();
    for key in [
        "PayloadIdentifier",
        "PayloadDisplayName",
        "PayloadUUID",
        "PayloadVersion",
    ] {
        if let Some(value) = profile.get(key) {
            entry.insert(key.into(), value.clone());
        }
    }
    entry.contains_key("PayloadIdentifier").then(|| {
        entry.insert("IsManaged".into(), Value::Boolean(true));
        entry
    })
}

/// The report plist a device sends: status, identifiers, and the answer's keys.
pub fn report(
    ids: &Dictionary,
    status: &str,
    command_uuid: Option<&str>,
    extra: Option<&Answer>,
) -> Vec<u8> {
    let mut dict = ids.clone();
    dict.insert("Status".into(), Value::String(status.into()));
    if let Some(uuid) = command_uuid {
        dict.insert("CommandUUID".into(), Value::String(uuid.into()));
    }
    match extra {
        Some(Answer::Acknowledged(keys)) => {
            for (k, v) in keys {
                dict.insert(k.clone(), v.clone());
            }
        }
        Some(Answer::Error {
            code,
            domain,
            description,
        }) => {
            let mut item = Dictionary::new();
            item.insert("ErrorCode".into(), Value::Integer((*code).into()));
            item.insert("ErrorDomain".into(), Value::String((*domain).into()));
            item.insert(
                "LocalizedDescription".into(),
                Value::String(description.clone()),
            );
            item.insert(
                "USEnglishDescription".into(),
                Value::String(description.clone()),
            );
            dict.insert(
                "ErrorChain".into(),
                Value::Array(vec![Value::Dictionary(item)]),
            );
        }
        None => {}
    }
    let mut out = Vec::new();
    // Writing a dictionary of plain values to memory cannot fail.
    let _ = Value::Dictionary(dict).to_writer_xml(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(request_type: &str, extra: &[(&str, Value)]) -> ReceivedCommand {
        let mut c = Dictionary::new();
        c.insert("RequestType".into(), Value::String(request_type.into()));
        for (k, v) in extra {
            c.insert((*k).into(), v.clone());
        }
        ReceivedCommand {
            command_uuid: "U".into(),
            request_type: request_type.into(),
            command: c,
        }
    }

    #[test]
    fn device_information_answers_the_queries_asked() {
        let facts = DeviceFacts::iphone("UDID-1", 1);
        let asked = command(
            "DeviceInformation",
            &[(
                "Queries",
                Value::Array(vec!["OSVersion".into(), "Bogus".into()]),
            )],
        );
        let Answer::Acknowledged(keys) = execute(&asked, &facts, &mut DeviceState::default())
        else {
            panic!("ack")
        };
        let answers = keys["QueryResponses"].as_dictionary().expect("dict");
        assert_eq!(answers.len(), 1);
        assert_eq!(answers["OSVersion"].as_string(), Some("17.1"));
    }

    #[test]
    fn profiles_are_tracked_and_unknown_commands_are_12021() {
        let facts = DeviceFacts::iphone("UDID-1", 1);
        let mut state = DeviceState::default();
        let mut profile = Dictionary::new();
        profile.insert(
            "PayloadIdentifier".into(),
            Value::String("com.example.wifi".into()),
        );
        let mut bytes = Vec::new();
        Value::Dictionary(profile)
            .to_writer_xml(&mut bytes)
            .expect("xml");
        let install = command("InstallProfile", &[("Payload", Value::Data(bytes))]);
        assert!(matches!(
            execute(&install, &facts, &mut state),
            Answer::Acknowledged(_)
        ));
        let Answer::Acknowledged(list) = execute(&command("ProfileList", &[]), &facts, &mut state)
        else {
            panic!("ack")
        };
        assert_eq!(list["ProfileList"].as_array().map(Vec::len), Some(1));
        let remove = command(
            "RemoveProfile",
            &[("Identifier", Value::String("com.example.wifi".into()))],
        );
        assert!(matches!(
            execute(&remove, &facts, &mut state),
            Answer::Acknowledged(_)
        ));
        assert!(matches!(
            execute(&remove, &facts, &mut state),
            Answer::Error { code: 1001, .. }
        ));
        assert!(matches!(
            execute(&command("Teleport", &[]), &facts, &mut state),
            Answer::Error { code: 12021, .. }
        ));
    }

    #[test]
    fn removing_the_enrollment_profile_unenrolls() {
        let facts = DeviceFacts::iphone("UDID-1", 1);
        let mut state = DeviceState::enrolled_by("com.example.enrollment");
        let list = command("ProfileList", &[]);
        let Answer::Acknowledged(listed) = execute(&list, &facts, &mut state) else {
            panic!("ProfileList acknowledged");
        };
        assert_eq!(
            listed
                .get("ProfileList")
                .and_then(Value::as_array)
                .map(Vec::len),
            Some(1)
        );
        let other = command(
            "RemoveProfile",
            &[("Identifier", Value::String("com.example.wifi".into()))],
        );
        assert!(matches!(
            execute(&other, &facts, &mut state),
            Answer::Error { .. }
        ));
        assert!(!state.unenrolled);
        let remove = command(
            "RemoveProfile",
            &[("Identifier", Value::String("com.example.enrollment".into()))],
        );
        assert!(matches!(
            execute(&remove, &facts, &mut state),
            Answer::Acknowledged(_)
        ));
        assert!(state.unenrolled);
    }

    #[test]
    fn reports_parse_as_mdm_reports() {
        let answer = Answer::Error {
            code: 12021,
            domain: "MCMDMErrorDomain",
            description: "x".into(),
        };
        let ids = Dictionary::from_iter([("UDID".to_owned(), Value::from("UDID-1"))]);
        let body = report(&ids, "Error", Some("U"), Some(&answer));
        let parsed = mdm_core::parse_report(&body).expect("valid report");
        assert_eq!(parsed.error_chain.len(), 1);
        assert_eq!(parsed.error_chain[0].error_code, Some(12021));
    }
}
