//! What a webhook receives: the event in our JSON shape, or in the MicroMDM-compatible shape
//! NanoMDM also sends (`mdm_api::micromdm`), for the consumers people already run.

use crate::convert;
use crate::store::EventRow;
use base64::Engine;
use mdm_api::micromdm;
use mdm_api::webhooks::WebhookFormat;
use serde_json::{json, Map, Value};

/// Whether `format` has a body for events of type `kind`: ours for every type, MicroMDM's for
/// check-ins and command answers only.
pub fn carries(format: WebhookFormat, kind: &str) -> bool {
    match format {
        WebhookFormat::Mdm => true,
        WebhookFormat::Micromdm => micromdm_message(kind).is_some() || report_kind(kind),
    }
}

/// The check-in MessageType a MicroMDM body names for an enrollment event.
fn micromdm_message(kind: &str) -> Option<&'static str> {
    match kind {
        "enrollment.authenticated" | "enrollment.reenrolled" => Some("Authenticate"),
        "enrollment.token_update" => Some("TokenUpdate"),
        "enrollment.checked_out" => Some("CheckOut"),
        _ => None,
    }
}

/// Command events that are a device's report (MicroMDM's `mdm.Connect`).
fn report_kind(kind: &str) -> bool {
    matches!(
        kind,
        "command.acknowledged" | "command.error" | "command.not_now"
    )
}

/// The body of `event` in `format`; `None` when the format has none for its type.
pub fn render(format: WebhookFormat, event: &EventRow) -> Option<Vec<u8>> {
    let value = match format {
        WebhookFormat::Mdm => ours(event),
        WebhookFormat::Micromdm => serde_json::to_value(compatible(event)?).ok()?,
    };
    serde_json::to_vec(&value).ok()
}

/// Our shape: `{id, type, occurred_at, source, enrollment_id, data}` (see [`data`]).
pub fn ours(event: &EventRow) -> Value {
    json!({
        "id": event.id,
        "type": event.kind,
        "occurred_at": convert::time(event.occurred_at),
        "source": event.source,
        "enrollment_id": event.enrollment_id,
        "data": data(event),
    })
}

/// An event's fields: its type's attributes, the command's UUID, RequestType and status, the
/// device's plist as `raw_payload` (base64) and, for a command error, its ErrorChain.
pub fn data(event: &EventRow) -> Map<String, Value> {
    let mut data = match event
        .attributes
        .as_deref()
        .and_then(|a| serde_json::from_str::<Value>(a).ok())
    {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let mut put = |key: &str, value: Option<&String>| {
        if let Some(value) = value {
            data.insert(key.into(), Value::String(value.clone()));
        }
    };
    put("command_uuid", event.command_uuid.as_ref());
    put("request_type", event.request_type.as_ref());
    put("status", event.status.as_ref());
    if let Some(raw) = &event.raw {
        data.insert(
            "raw_payload".into(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(raw)),
        );
        if event.kind == "command.error" {
            if let Some(chain) = convert::plist(raw).and_then(|r| r.get("ErrorChain").cloned()) {
                data.insert("error_chain".into(), chain);
            }
        }
    }
    data
}

/// The MicroMDM-compatible body, for check-ins and command reports.
fn compatible(event: &EventRow) -> Option<micromdm::Body> {
    let happened = match micromdm_message(&event.kind) {
        Some(message_type) => micromdm::Happened::Checkin { message_type },
        None if report_kind(&event.kind) => micromdm::Happened::Report {
            status: event.status.as_deref().unwrap_or(""),
            command_uuid: event.command_uuid.as_deref().unwrap_or(""),
        },
        None => return None,
    };
    let (udid, channel) = match event.enrollment_id.split_once(':') {
        Some((device, _)) => (device, micromdm::Channel::User),
        None => (event.enrollment_id.as_str(), micromdm::Channel::Device),
    };
    let created_at = convert::time(event.occurred_at).unwrap_or_default();
    Some(micromdm::body(&micromdm::Event {
        event_id: &event.id,
        created_at: &created_at,
        udid,
        enrollment_id: &event.enrollment_id,
        channel,
        happened,
        raw: event.raw.as_deref().unwrap_or_default(),
    }))
}
