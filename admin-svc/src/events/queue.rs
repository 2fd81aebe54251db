//! Queuing a command for the dispatcher (blueprint runs, identity renewals): one enqueue to
//! one device channel, with an idempotency key so that a retry after a crash queues nothing
//! twice, and command-svc's answer sorted into a refusal (for good) or a fault (try again).

use super::Dispatcher;
use mdm_proto::v1::EnqueueRequest;
use mdm_proto::ErrorCode;

/// command-svc (or enroll-svc) refused for good: the device left, the command is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// A fault to retry at the next round.
#[derive(Debug, thiserror::Error)]
pub enum Fault {
    /// The database.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A service could not answer.
    #[error("{0}")]
    Unavailable(String),
}

/// Sorts a service's error into a refusal (`Ok`) or a fault (`Err`).
pub fn refusal(service: &str, status: &tonic::Status) -> Result<Refused, Fault> {
    match mdm_proto::code_of(status) {
        ErrorCode::Unavailable | ErrorCode::Internal => Err(Fault::Unavailable(format!(
            "{service}: {}",
            status.message()
        ))),
        _ => Ok(Refused(format!("{service} refused: {}", status.message()))),
    }
}

/// One command for the dispatcher to queue.
#[derive(Debug, Clone)]
pub struct Queued<'a> {
    /// The device channel.
    pub enrollment_id: &'a str,
    /// The Command dictionary.
    pub command: plist::Dictionary,
    /// What makes a repeated enqueue the same command.
    pub idempotency_key: String,
    /// Who asks (`blueprint:<name>`, `identity-renewal`).
    pub requested_by: &'a str,
    /// Why, for the audit log.
    pub reason: String,
    /// Queue priority.
    pub priority: i32,
    /// Unix ms after which it is not sent; 0: never expires.
    pub expires_at_ms: i64,
    /// Push the device now.
    pub push: bool,
}

/// Queues `q`: its CommandUUID, or the refusal.
pub async fn enqueue(
    dispatcher: &Dispatcher,
    q: Queued<'_>,
) -> Result<Result<String, Refused>, Fault> {
    let mut command_plist = Vec::new();
    if let Err(e) = plist::Value::Dictionary(q.command).to_writer_xml(&mut command_plist) {
        return Ok(Err(Refused(e.to_string())));
    }
    let answer = dispatcher
        .backends
        .commands()
        .enqueue(EnqueueRequest {
            enrollment_ids: vec![q.enrollment_id.to_owned()],
            command_plist,
            priority: q.priority,
            expires_at_ms: q.expires_at_ms,
            idempotency_key: q.idempotency_key,
            requested_by: q.requested_by.to_owned(),
            reason: q.reason,
            no_push: !q.push,
            allow_unknown: false,
            allow_unsupported: false,
        })
        .await;
    match answer {
        Ok(answer) => Ok(Ok(answer.into_inner().command_uuid)),
        Err(status) => refusal("command-svc", &status).map(Err),
    }
}
