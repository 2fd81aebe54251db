//! The fan-out of a declarative change: every device whose manifest a change altered gets the
//! `DeclarativeManagement` command once, queued through command-svc in as few commands as its
//! fan-out limit allows, each keyed by the change (enroll-svc gives every change an ID) so a
//! retried request never queues it twice.

use crate::backends::Backends;
use crate::error::ApiError;
use mdm_api::declarations::Sync;
use mdm_proto::v1;

/// Devices per command: command-svc's limit for one enqueue.
const TARGETS_PER_COMMAND: usize = 100_000;

/// Priority of the sync command: ahead of routine inventory, behind an administrator's commands
/// queued with a higher one.
const SYNC_PRIORITY: i32 = 10;

/// Sends `devices` (enrolled devices whose declarations `change_id` changed) the
/// `DeclarativeManagement` command, without `Data`: what each device is served differs, and
/// without tokens it asks for them, so one command serves them all.
pub async fn sync(
    backends: &Backends,
    change_id: &str,
    devices: Vec<String>,
    by: &str,
) -> Result<Sync, ApiError> {
    let mut summary = Sync {
        devices: devices.len() as u64,
        ..Sync::default()
    };
    if devices.is_empty() {
        return Ok(summary);
    }
    let mut command_plist = Vec::new();
    plist::Value::Dictionary(plist::Dictionary::from_iter([(
        "RequestType".to_owned(),
        plist::Value::String("DeclarativeManagement".into()),
    )]))
    .to_writer_xml(&mut command_plist)
    .map_err(|e| ApiError::Internal(format!("the sync command cannot be written: {e}")))?;
    for (part, chunk) in devices.chunks(TARGETS_PER_COMMAND).enumerate() {
        let answer = backends
            .commands()
            .enqueue(v1::EnqueueRequest {
                enrollment_ids: chunk.to_vec(),
                command_plist: command_plist.clone(),
                priority: SYNC_PRIORITY,
                idempotency_key: format!("declarations:{change_id}:{part}"),
                requested_by: by.to_owned(),
                reason: format!("declarations changed ({change_id})"),
                // A device that checked out since the change is no reason to fail the others.
                allow_unknown: true,
                // A device too old for DDM answers an error; the others must still sync.
                allow_unsupported: true,
                ..v1::EnqueueRequest::default()
            })
            .await
            .map_err(|s| ApiError::backend("command-svc", &s))?
            .into_inner();
        summary.commands.push(answer.command_uuid);
        summary.warnings.extend(answer.warnings);
    }
    Ok(summary)
}
