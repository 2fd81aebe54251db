//! The `DeclarativeManagement` check-in a device sends for each step of a sync: its channel's
//! identifiers, the `Endpoint` it asks for, and the status report in `Data` for `status`.

use plist::{Dictionary, Value};

/// The check-in plist asking for `endpoint`, from the channel with `ids` (`UDID`, and `UserID`
/// on a user channel).
pub fn checkin_body(ids: &Dictionary, endpoint: &str, data: Option<&[u8]>) -> Vec<u8> {
    let mut dict = ids.clone();
    dict.insert(
        "MessageType".into(),
        Value::String("DeclarativeManagement".into()),
    );
    dict.insert("Endpoint".into(), Value::String(endpoint.into()));
    if let Some(data) = data {
        dict.insert("Data".into(), Value::Data(data.to_vec()));
    }
    let mut out = Vec::new();
    // Writing a dictionary of plain values to memory cannot fail.
    let _ = Value::Dictionary(dict).to_writer_xml(&mut out);
    out
}
