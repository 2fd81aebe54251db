//! The MicroMDM-compatible webhook body, which NanoMDM also sends: what integrators already built
//! on (ticketing, inventory, automation) reads a check-in as `checkin_event` and a command's
//! answer as `acknowledge_event`, each with the raw plist the device sent, base64-encoded. The
//! field names and types are those of the bodies in
//! `fixtures/nanomdm/service/webhook/testdata/`.

use base64::Engine;
use serde::Serialize;

/// What a body is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The device channel.
    Device,
    /// A macOS user's channel.
    User,
}

/// One event, in what the compatible body needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happened<'a> {
    /// A check-in message (`Authenticate`, `TokenUpdate`, `CheckOut`, …).
    Checkin {
        /// Its `MessageType`.
        message_type: &'a str,
    },
    /// A command report (`Idle` included, as MicroMDM's `mdm.Connect`).
    Report {
        /// Its `Status`.
        status: &'a str,
        /// Its `CommandUUID` (empty for Idle).
        command_uuid: &'a str,
    },
}

/// The compatible body of one event.
#[derive(Debug, Clone, Serialize)]
pub struct Body {
    /// `mdm.<MessageType>` for a check-in, `mdm.Connect` for a command report.
    pub topic: String,
    /// The event's stable ID.
    pub event_id: String,
    /// When it happened (RFC 3339).
    pub created_at: String,
    /// Set for a check-in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkin_event: Option<CheckinEvent>,
    /// Set for a command report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledge_event: Option<AcknowledgeEvent>,
}

/// The enrollment an event is about, as NanoMDM names it.
#[derive(Debug, Clone, Serialize)]
pub struct Ids {
    /// The enrollment ID (the UDID, or `UDID:user` for a user channel).
    pub id: String,
    /// `Device` or `User`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// A check-in's part of the body.
#[derive(Debug, Clone, Serialize)]
pub struct CheckinEvent {
    /// The device.
    pub udid: String,
    /// The check-in plist as the device sent it, base64.
    pub raw_payload: String,
    /// The enrollment.
    pub ids: Ids,
}

/// A command report's part of the body.
#[derive(Debug, Clone, Serialize)]
pub struct AcknowledgeEvent {
    /// The device.
    pub udid: String,
    /// `Acknowledged`, `Error`, `CommandFormatError`, `NotNow` or `Idle`.
    pub status: String,
    /// The command answered.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub command_uuid: String,
    /// The enrollment.
    pub ids: Ids,
    /// The report plist as the device sent it, base64.
    pub raw_payload: String,
}

/// Everything about an event the body is made of.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// Its stable ID.
    pub event_id: &'a str,
    /// When (RFC 3339).
    pub created_at: &'a str,
    /// The device's UDID.
    pub udid: &'a str,
    /// The enrollment ID.
    pub enrollment_id: &'a str,
    /// Which channel.
    pub channel: Channel,
    /// What happened.
    pub happened: Happened<'a>,
    /// The plist the device sent.
    pub raw: &'a [u8],
}

/// The compatible body of `event`.
pub fn body(event: &Event<'_>) -> Body {
    let ids = Ids {
        id: event.enrollment_id.to_owned(),
        kind: match event.channel {
            Channel::Device => "Device",
            Channel::User => "User",
        },
    };
    let raw_payload = base64::engine::general_purpose::STANDARD.encode(event.raw);
    let udid = event.udid.to_owned();
    let (topic, checkin_event, acknowledge_event) = match event.happened {
        Happened::Checkin { message_type } => (
            format!("mdm.{message_type}"),
            Some(CheckinEvent {
                udid,
                raw_payload,
                ids,
            }),
            None,
        ),
        Happened::Report {
            status,
            command_uuid,
        } => (
            "mdm.Connect".to_owned(),
            None,
            Some(AcknowledgeEvent {
                udid,
                status: status.to_owned(),
                command_uuid: command_uuid.to_owned(),
                ids,
                raw_payload,
            }),
        ),
    };
    Body {
        topic,
        event_id: event.event_id.to_owned(),
        created_at: event.created_at.to_owned(),
        checkin_event,
        acknowledge_event,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::path::Path;

    fn example(name: &str) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/nanomdm/service/webhook/testdata")
            .join(name);
        let text = std::fs::read_to_string(&path).expect("the example body");
        serde_json::from_str(&text).expect("JSON")
    }

    fn same_shape(ours: &Value, theirs: &Value, at: &str) {
        testkit::json::same_shape(ours, theirs, at).unwrap_or_else(|e| panic!("{e}"));
    }

    fn raw_of(example: &Value, part: &str) -> Vec<u8> {
        let text = example[part]["raw_payload"].as_str().expect("raw_payload");
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .expect("base64")
    }

    /// Our body of what the examples' device (a Mac) sent.
    fn ours(happened: Happened<'_>, raw: &[u8]) -> Value {
        let udid = "66ADE930-5FDF-5EC4-8429-15640684C489";
        let body = body(&Event {
            event_id: "01J0000000000000000000000",
            created_at: "2026-12-04T12:00:00Z",
            udid,
            enrollment_id: udid,
            channel: Channel::Device,
            happened,
            raw,
        });
        serde_json::to_value(&body).expect("JSON")
    }

    #[test]
    fn an_authenticate_has_the_example_bodys_fields_and_types() {
        let theirs = example("Authenticate.2.json");
        let raw = raw_of(&theirs, "checkin_event");
        let message_type = "Authenticate";
        let ours = ours(Happened::Checkin { message_type }, &raw);
        same_shape(&ours, &theirs, "body");
        assert_eq!(ours["topic"], theirs["topic"]);
        assert_eq!(
            ours["checkin_event"], theirs["checkin_event"],
            "byte for byte"
        );
    }

    #[test]
    fn an_acknowledged_device_information_has_the_example_bodys_fields_and_types() {
        let theirs = example("DeviceInformation.1.json");
        let raw = raw_of(&theirs, "acknowledge_event");
        let happened = Happened::Report {
            status: "Acknowledged",
            command_uuid: "76eda240-5488-4989-8339-f2ae160113c4",
        };
        let ours = ours(happened, &raw);
        same_shape(&ours, &theirs, "body");
        assert_eq!(ours["topic"], "mdm.Connect");
        assert_eq!(ours["acknowledge_event"], theirs["acknowledge_event"]);
    }

    #[test]
    fn an_idle_has_no_command_and_a_user_channel_says_so() {
        let ours = body(&Event {
            event_id: "e",
            created_at: "2026-12-04T12:00:00Z",
            udid: "U1",
            enrollment_id: "U1:501",
            channel: Channel::User,
            happened: Happened::Report {
                status: "Idle",
                command_uuid: "",
            },
            raw: b"<plist/>",
        });
        let ours = serde_json::to_value(&ours).expect("JSON");
        let event = &ours["acknowledge_event"];
        assert!(event.get("command_uuid").is_none(), "{ours}");
        assert_eq!(event["ids"]["type"], "User");
        assert_eq!(event["ids"]["id"], "U1:501");
        assert!(ours.get("checkin_event").is_none());
    }
}
