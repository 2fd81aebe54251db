//! The gRPC adapter: `mdm.v1.Commands` onto [`CommandQueue`].

use crate::error::Error;
use crate::queue::CommandQueue;
use crate::store::{CommandFilter, CommandRow, DeliveryRow, DeliveryStatus};
use mdm_proto::v1::commands_server::Commands;
use mdm_proto::v1::{
    self, AuditEntry, CancelRequest, CancelResponse, CommandInfo, Delivery, EnqueueRequest,
    EnqueueResponse, GetCommandRequest, ListAuditRequest, ListAuditResponse, ListCommandsRequest,
    ListCommandsResponse, ListDeliveriesRequest, ListDeliveriesResponse,
    ListEnrollmentCommandsRequest, ListEnrollmentCommandsResponse, ReportRequest, ReportResponse,
    SummarizeDeliveriesRequest, SummarizeDeliveriesResponse,
};
use mdm_proto::VerifiedIdentity;
use service_kit::now_ms;
use tonic::{Request, Response, Status};

/// Implements the Commands service.
#[derive(Debug, Clone)]
pub struct CommandsApi {
    queue: CommandQueue,
}

impl CommandsApi {
    /// An API over a queue.
    pub fn new(queue: CommandQueue) -> CommandsApi {
        CommandsApi { queue }
    }
}

#[tonic::async_trait]
impl Commands for CommandsApi {
    async fn enqueue(
        &self,
        request: Request<EnqueueRequest>,
    ) -> Result<Response<EnqueueResponse>, Status> {
        Ok(Response::new(self.queue.enqueue(request.get_ref()).await?))
    }

    async fn report(
        &self,
        request: Request<ReportRequest>,
    ) -> Result<Response<ReportResponse>, Status> {
        let mut request = request.into_inner();
        let identity = VerifiedIdentity::try_from(request.identity.take()).map_err(Error::from)?;
        let next = self.queue.report(&identity, &request).await?;
        Ok(Response::new(match next {
            Some(next) => ReportResponse {
                body: next.payload,
                command_uuid: next.command_uuid,
            },
            None => ReportResponse::default(),
        }))
    }

    async fn cancel(
        &self,
        request: Request<CancelRequest>,
    ) -> Result<Response<CancelResponse>, Status> {
        let request = request.into_inner();
        let cancelled = self
            .queue
            .store()
            .cancel(&request.command_uuid, &request.requested_by, now_ms())
            .await?
            .ok_or_else(|| Error::NotFound(request.command_uuid.clone()))?;
        tracing::info!(command_uuid = %request.command_uuid, by = %request.requested_by, cancelled, "command cancelled");
        Ok(Response::new(CancelResponse {
            cancelled: u32::try_from(cancelled).unwrap_or(u32::MAX),
        }))
    }

    async fn get_command(
        &self,
        request: Request<GetCommandRequest>,
    ) -> Result<Response<CommandInfo>, Status> {
        let uuid = request.into_inner().command_uuid;
        let store = self.queue.store();
        let command = store
            .command(&uuid)
            .await?
            .ok_or_else(|| Error::NotFound(uuid.clone()))?;
        let counts = store.status_counts(&uuid).await?;
        let mut info = command_info(command);
        info.status_counts = counts
            .into_iter()
            .map(|(status, n)| (status, u32::try_from(n).unwrap_or(u32::MAX)))
            .collect();
        Ok(Response::new(info))
    }

    async fn list_commands(
        &self,
        request: Request<ListCommandsRequest>,
    ) -> Result<Response<ListCommandsResponse>, Status> {
        let request = request.into_inner();
        let limit = mdm_proto::page_limit(request.limit);
        let text = |value: &str| Some(value).filter(|v| !v.is_empty()).map(str::to_owned);
        let (request_type, requested_by) =
            (text(&request.request_type), text(&request.requested_by));
        let rows = self
            .queue
            .store()
            .list_commands(
                &CommandFilter {
                    request_type: request_type.as_deref(),
                    requested_by: requested_by.as_deref(),
                },
                text(&request.before).as_deref(),
                limit,
            )
            .await?;
        let next_before = next(&rows, limit, |row| row.command_uuid.clone());
        Ok(Response::new(ListCommandsResponse {
            commands: rows.into_iter().map(command_info).collect(),
            next_before,
        }))
    }

    async fn list_deliveries(
        &self,
        request: Request<ListDeliveriesRequest>,
    ) -> Result<Response<ListDeliveriesResponse>, Status> {
        let request = request.into_inner();
        let limit = mdm_proto::page_limit(request.limit);
        let status = match request.status() {
            v1::DeliveryStatus::Unspecified => None,
            other => Some(store_status(other).as_str()),
        };
        let store = self.queue.store();
        let rows = store
            .deliveries_of(&request.command_uuid, status, &request.after, limit)
            .await?;
        if rows.is_empty() && store.command(&request.command_uuid).await?.is_none() {
            return Err(Error::NotFound(request.command_uuid).into());
        }
        let next_after = next(&rows, limit, |row| row.enrollment_id.clone());
        Ok(Response::new(ListDeliveriesResponse {
            deliveries: rows.into_iter().map(delivery).collect(),
            next_after,
        }))
    }

    async fn list_enrollment_commands(
        &self,
        request: Request<ListEnrollmentCommandsRequest>,
    ) -> Result<Response<ListEnrollmentCommandsResponse>, Status> {
        let request = request.into_inner();
        let limit = mdm_proto::page_limit(request.limit);
        let before = Some(request.before.as_str()).filter(|b| !b.is_empty());
        let rows = self
            .queue
            .store()
            .deliveries_for(&request.enrollment_id, before, limit)
            .await?;
        let next_before = next(&rows, limit, |row| row.command_uuid.clone());
        Ok(Response::new(ListEnrollmentCommandsResponse {
            deliveries: rows.into_iter().map(delivery).collect(),
            next_before,
        }))
    }

    async fn summarize_deliveries(
        &self,
        request: Request<SummarizeDeliveriesRequest>,
    ) -> Result<Response<SummarizeDeliveriesResponse>, Status> {
        let request = request.into_inner();
        let window = match request.window_ms {
            ms if ms > 0 => ms,
            _ => DEFAULT_WINDOW_MS,
        };
        let limit = match i64::from(request.recent_errors) {
            0 => DEFAULT_RECENT_ERRORS,
            n => n.min(MAX_RECENT_ERRORS),
        };
        let store = self.queue.store();
        let in_flight = store.in_flight().await?;
        let errors_in_window = store.errors_since(now_ms().saturating_sub(window)).await?;
        let recent_errors = store.recent_errors(limit).await?;
        Ok(Response::new(SummarizeDeliveriesResponse {
            in_flight,
            errors_in_window,
            recent_errors: recent_errors.into_iter().map(delivery).collect(),
        }))
    }

    async fn list_audit(
        &self,
        request: Request<ListAuditRequest>,
    ) -> Result<Response<ListAuditResponse>, Status> {
        let request = request.into_inner();
        let limit = mdm_proto::page_limit(request.limit);
        let entries = self
            .queue
            .store()
            .list_audit(
                (request.before_id > 0).then_some(request.before_id),
                limit,
                Some(request.enrollment_id.as_str()).filter(|s| !s.is_empty()),
                Some(request.action.as_str()).filter(|s| !s.is_empty()),
            )
            .await?
            .into_iter()
            .map(|row| AuditEntry {
                id: row.id,
                at_ms: row.at,
                actor: row.actor,
                action: row.action,
                enrollment_id: row.enrollment_id,
                request_type: row.request_type,
                command_uuid: row.command_uuid,
                detail: row.reason,
            })
            .collect();
        Ok(Response::new(ListAuditResponse { entries }))
    }
}

/// What "lately" means when the caller does not say: a day.
const DEFAULT_WINDOW_MS: i64 = 86_400_000;

/// Latest errors answered when the caller does not say.
const DEFAULT_RECENT_ERRORS: i64 = 10;
/// The most latest errors one summary answers: a dashboard's list, not the history (which
/// `ListEnrollmentCommands` pages through).
const MAX_RECENT_ERRORS: i64 = 100;

/// The cursor after a full page: its last row's key; empty when the page was the last.
fn next<T>(rows: &[T], limit: i64, key: impl Fn(&T) -> String) -> String {
    match rows.last() {
        Some(last) if i64::try_from(rows.len()) == Ok(limit) => key(last),
        _ => String::new(),
    }
}

fn command_info(command: CommandRow) -> CommandInfo {
    CommandInfo {
        command_uuid: command.command_uuid,
        request_type: command.request_type,
        priority: command.priority,
        created_at_ms: command.created_at,
        expires_at_ms: command.expires_at.unwrap_or(0),
        requested_by: command.requested_by,
        reason: command.reason,
        command_plist: command.payload,
        status_counts: Default::default(),
        cancelled_at_ms: command.cancelled_at.unwrap_or(0),
        cancelled_by: command.cancelled_by.unwrap_or_default(),
    }
}

/// The store's name of a delivery status asked for over gRPC.
fn store_status(status: v1::DeliveryStatus) -> DeliveryStatus {
    match status {
        v1::DeliveryStatus::Queued | v1::DeliveryStatus::Unspecified => DeliveryStatus::Queued,
        v1::DeliveryStatus::Acknowledged => DeliveryStatus::Acknowledged,
        v1::DeliveryStatus::Error => DeliveryStatus::Error,
        v1::DeliveryStatus::CommandFormatError => DeliveryStatus::CommandFormatError,
        v1::DeliveryStatus::Cancelled => DeliveryStatus::Cancelled,
        v1::DeliveryStatus::Expired => DeliveryStatus::Expired,
        v1::DeliveryStatus::Superseded => DeliveryStatus::Superseded,
    }
}

fn delivery(row: DeliveryRow) -> Delivery {
    let status = match row.status {
        DeliveryStatus::Queued => v1::DeliveryStatus::Queued,
        DeliveryStatus::Acknowledged => v1::DeliveryStatus::Acknowledged,
        DeliveryStatus::Error => v1::DeliveryStatus::Error,
        DeliveryStatus::CommandFormatError => v1::DeliveryStatus::CommandFormatError,
        DeliveryStatus::Cancelled => v1::DeliveryStatus::Cancelled,
        DeliveryStatus::Expired => v1::DeliveryStatus::Expired,
        DeliveryStatus::Superseded => v1::DeliveryStatus::Superseded,
    };
    Delivery {
        enrollment_id: row.enrollment_id,
        command_uuid: row.command_uuid,
        request_type: row.request_type,
        status: status.into(),
        not_now_count: u32::try_from(row.not_now_count).unwrap_or(0),
        queued_at_ms: row.queued_at,
        sent_at_ms: row.sent_at.unwrap_or(0),
        completed_at_ms: row.completed_at.unwrap_or(0),
        result_plist: row.result.unwrap_or_default(),
        priority: row.priority,
    }
}
