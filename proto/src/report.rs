//! A command report as it travels from the edge to command-svc. The edge parses every report
//! (to learn whose it is) and hands on what it read: the status, the CommandUUID and what an
//! Acknowledged result says about the device. command-svc acts on those and keeps the body as
//! the result, without parsing it a second time.

use crate::v1::{self, ReportRequest, ReportStatus};
use mdm_core::{CommandReport, CommandStatus, ParseError};

/// What command-svc acts on in a report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFacts {
    /// `Status`.
    pub status: CommandStatus,
    /// `CommandUUID`: present for every status but Idle, a well-formed identifier.
    pub command_uuid: Option<String>,
    /// What an Acknowledged result says about the device, when it says anything.
    pub inventory: Option<v1::InventoryUpdate>,
}

impl ReportFacts {
    /// The facts of a report the edge has parsed.
    pub fn of(report: &CommandReport) -> ReportFacts {
        ReportFacts {
            status: report.status,
            command_uuid: report.command_uuid.clone(),
            inventory: mdm_core::inventory::from_report(report)
                .map(|update| crate::inventory::to_proto(&update)),
        }
    }

    /// The facts a request carries, held to the rules the edge's parser applies (a known
    /// status, a CommandUUID for every status but Idle, inventory only from an Acknowledged
    /// result). A request without a status comes from an edge older than these fields: its
    /// body is read instead.
    pub fn from_request(request: &ReportRequest) -> Result<ReportFacts, ParseError> {
        let status = match ReportStatus::try_from(request.status) {
            Ok(ReportStatus::Unspecified) => {
                return Ok(ReportFacts::of(&mdm_core::parse_report(&request.body)?))
            }
            Ok(ReportStatus::Idle) => CommandStatus::Idle,
            Ok(ReportStatus::Acknowledged) => CommandStatus::Acknowledged,
            Ok(ReportStatus::Error) => CommandStatus::Error,
            Ok(ReportStatus::CommandFormatError) => CommandStatus::CommandFormatError,
            Ok(ReportStatus::NotNow) => CommandStatus::NotNow,
            Err(_) => {
                return Err(ParseError::UnknownStatus(format!(
                    "report status {}",
                    request.status
                )))
            }
        };
        let command_uuid = Some(request.command_uuid.clone()).filter(|uuid| !uuid.is_empty());
        mdm_core::check_command_uuid(status, command_uuid.as_deref())?;
        let inventory = request
            .inventory
            .clone()
            .filter(|_| status == CommandStatus::Acknowledged);
        Ok(ReportFacts {
            status,
            command_uuid,
            inventory,
        })
    }

    /// The request for this report.
    pub fn into_request(
        self,
        identity: v1::DeviceIdentity,
        body: Vec<u8>,
        connection_id: String,
    ) -> ReportRequest {
        ReportRequest {
            identity: Some(identity),
            body,
            connection_id,
            status: report_status(self.status).into(),
            command_uuid: self.command_uuid.unwrap_or_default(),
            inventory: self.inventory,
        }
    }
}

fn report_status(status: CommandStatus) -> ReportStatus {
    match status {
        CommandStatus::Idle => ReportStatus::Idle,
        CommandStatus::Acknowledged => ReportStatus::Acknowledged,
        CommandStatus::Error => ReportStatus::Error,
        CommandStatus::CommandFormatError => ReportStatus::CommandFormatError,
        CommandStatus::NotNow => ReportStatus::NotNow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(xml: &str) -> CommandReport {
        mdm_core::parse_report(xml.as_bytes()).expect("a report")
    }

    const SECURITY_INFO: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>UDID</key><string>UDID-1</string>
<key>Status</key><string>Acknowledged</string>
<key>CommandUUID</key><string>C-1</string>
<key>SecurityInfo</key><dict><key>PasscodePresent</key><true/></dict>
</dict></plist>"#;

    #[test]
    fn what_the_edge_read_arrives_as_read() {
        for xml in [
            SECURITY_INFO.to_owned(),
            SECURITY_INFO.replace("Acknowledged", "NotNow"),
            SECURITY_INFO
                .replace("Acknowledged", "Idle")
                .replace("<key>CommandUUID</key><string>C-1</string>", ""),
        ] {
            let facts = ReportFacts::of(&report(&xml));
            let request = facts.clone().into_request(
                Default::default(),
                xml.clone().into_bytes(),
                "c".into(),
            );
            assert_eq!(ReportFacts::from_request(&request), Ok(facts.clone()));
            // An edge from before the typed fields: the body is read, to the same facts.
            let old_edge = ReportRequest {
                status: 0,
                command_uuid: String::new(),
                inventory: None,
                ..request
            };
            assert_eq!(ReportFacts::from_request(&old_edge), Ok(facts));
        }
        let acknowledged = ReportFacts::of(&report(SECURITY_INFO));
        assert_eq!(
            acknowledged.inventory.and_then(|i| i.passcode_present),
            Some(true)
        );
    }

    #[test]
    fn typed_fields_are_held_to_the_parsers_rules() {
        let request = |status: i32, uuid: &str| ReportRequest {
            status,
            command_uuid: uuid.into(),
            body: b"not parsed".to_vec(),
            inventory: Some(v1::InventoryUpdate::default()),
            ..Default::default()
        };
        assert!(matches!(
            ReportFacts::from_request(&request(99, "C-1")),
            Err(ParseError::UnknownStatus(_))
        ));
        assert!(matches!(
            ReportFacts::from_request(&request(ReportStatus::Error.into(), "")),
            Err(ParseError::MissingCommandUuid { .. })
        ));
        assert!(matches!(
            ReportFacts::from_request(&request(ReportStatus::Acknowledged.into(), "C\n1")),
            Err(ParseError::IdControlCharacter { .. })
        ));
        let not_now =
            ReportFacts::from_request(&request(ReportStatus::NotNow.into(), "C-1")).expect("valid");
        assert_eq!(not_now.inventory, None, "inventory only from Acknowledged");
    }
}
