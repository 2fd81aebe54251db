//! The gRPC adapter: `mdm.v1.Push` onto the pusher, the store and the certificates.

use crate::current::CertificateCache;
use crate::deliver::Pusher;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::store::{NewTarget, PushStore, TargetRow, TargetStatus};
use crate::upload::Certificates;
use mdm_proto::v1::push_server::Push;
use mdm_proto::v1::{
    self, CertificateInfo, CountTargetsRequest, CountTargetsResponse, GetCertificateRequest,
    GetTargetRequest, ListCertificatesRequest, ListCertificatesResponse, ListTargetsRequest,
    ListTargetsResponse, PushRequest, PushResponse, PushTarget, PushTargetStatus,
    RecordActivityRequest, RecordActivityResponse, RegisterTargetRequest, RegisterTargetResponse,
    RemoveTargetRequest, RemoveTargetResponse, UploadCertificateRequest,
};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Longest enrollment ID accepted (a user channel's `<device>:<user>`).
const MAX_ID_LEN: usize = 1024;

/// Implements the Push service.
#[derive(Debug, Clone)]
pub struct PushApi {
    store: PushStore,
    pusher: Arc<Pusher>,
    certificates: Certificates,
    cache: Arc<CertificateCache>,
    metrics: Metrics,
}

impl PushApi {
    /// An API over its parts.
    pub fn new(
        store: PushStore,
        pusher: Arc<Pusher>,
        certificates: Certificates,
        cache: Arc<CertificateCache>,
        metrics: Metrics,
    ) -> PushApi {
        PushApi {
            store,
            pusher,
            certificates,
            cache,
            metrics,
        }
    }
}

/// Longest PushMagic or topic accepted (real ones are 36 and about 60 bytes).
const MAX_PUSH_FIELD_LEN: usize = 255;

impl PushApi {
    /// Refuses a topic that no installed certificate has: the mismatch would otherwise only
    /// show as pushes failing later, one device at a time. Before any certificate is installed
    /// nothing can be compared: the target is kept and counted.
    async fn check_topic(&self, topic: &str) -> Result<(), Error> {
        let certificates = self.cache.current().await?;
        if certificates.is_empty() {
            self.metrics.without_certificate.inc();
            tracing::warn!(topic, "push target registered with no push certificate installed: the device cannot be woken until one is uploaded");
            return Ok(());
        }
        if certificates.contains_key(topic) {
            return Ok(());
        }
        let mut installed: Vec<&str> = certificates.keys().map(String::as_str).collect();
        installed.sort_unstable();
        let installed = installed.join(", ");
        self.metrics.topic_mismatch.inc();
        tracing::warn!(device_topic = %mdm_proto::bounded(topic, 255), %installed,
            "push target refused: its Topic is no push certificate's");
        Err(Error::TopicMismatch {
            device: topic.to_owned(),
            installed,
        })
    }
}

fn check_id(id: &str) -> Result<(), Error> {
    if id.is_empty() || id.len() > MAX_ID_LEN || id.chars().any(char::is_control) {
        return Err(Error::InvalidRequest(format!(
            "bad enrollment ID {:?}",
            id.chars().take(64).collect::<String>()
        )));
    }
    Ok(())
}

#[tonic::async_trait]
impl Push for PushApi {
    async fn register_target(
        &self,
        request: Request<RegisterTargetRequest>,
    ) -> Result<Response<RegisterTargetResponse>, Status> {
        let r = request.into_inner();
        check_id(&r.enrollment_id)?;
        check_id(&r.device_id)?;
        if r.token.is_empty() || r.token.len() > 256 {
            return Err(Error::InvalidRequest("the token must be 1 to 256 bytes".into()).into());
        }
        if r.push_magic.is_empty() || r.topic.is_empty() {
            return Err(Error::InvalidRequest("push_magic and topic are required".into()).into());
        }
        if r.push_magic.len() > MAX_PUSH_FIELD_LEN || r.topic.len() > MAX_PUSH_FIELD_LEN {
            return Err(Error::InvalidRequest(format!(
                "push_magic and topic are at most {MAX_PUSH_FIELD_LEN} bytes"
            ))
            .into());
        }
        self.check_topic(&r.topic).await?;
        self.store
            .register_target(
                &NewTarget {
                    enrollment_id: &r.enrollment_id,
                    device_id: &r.device_id,
                    token: &r.token,
                    push_magic: &r.push_magic,
                    topic: &r.topic,
                },
                service_kit::now_ms(),
            )
            .await?;
        tracing::debug!(enrollment = %r.enrollment_id, "push target registered");
        Ok(Response::new(RegisterTargetResponse {}))
    }

    async fn remove_target(
        &self,
        request: Request<RemoveTargetRequest>,
    ) -> Result<Response<RemoveTargetResponse>, Status> {
        let r = request.into_inner();
        check_id(&r.enrollment_id)?;
        let removed = self
            .store
            .remove_target(&r.enrollment_id, r.whole_device)
            .await?;
        tracing::debug!(enrollment = %r.enrollment_id, removed, "push target removed");
        Ok(Response::new(RemoveTargetResponse {
            removed: u32::try_from(removed).unwrap_or(u32::MAX),
        }))
    }

    async fn push(&self, request: Request<PushRequest>) -> Result<Response<PushResponse>, Status> {
        let r = request.into_inner();
        let why = if r.reason.is_empty() {
            "request"
        } else {
            r.reason.as_str()
        };
        let report = self.pusher.push(&r.enrollment_ids, why).await?;
        Ok(Response::new(PushResponse {
            results: report
                .results
                .into_iter()
                .map(|(enrollment_id, result)| v1::PushResult {
                    enrollment_id,
                    outcome: result.outcome.proto().into(),
                    reason: result.reason,
                    status: u32::from(result.status),
                })
                .collect(),
            certificate_error: report.certificate_error.unwrap_or_default(),
        }))
    }

    async fn record_activity(
        &self,
        request: Request<RecordActivityRequest>,
    ) -> Result<Response<RecordActivityResponse>, Status> {
        let r = request.into_inner();
        if r.enrollment_ids.len() > crate::deliver::MAX_IDS {
            return Err(Error::InvalidRequest("too many IDs in one report".into()).into());
        }
        let at = if r.seen_at_ms > 0 {
            r.seen_at_ms
        } else {
            service_kit::now_ms()
        };
        self.store.record_activity(&r.enrollment_ids, at).await?;
        Ok(Response::new(RecordActivityResponse {}))
    }

    async fn upload_certificate(
        &self,
        request: Request<UploadCertificateRequest>,
    ) -> Result<Response<CertificateInfo>, Status> {
        let info = self
            .certificates
            .upload(request.get_ref(), &self.cache)
            .await?;
        Ok(Response::new(info))
    }

    async fn get_certificate(
        &self,
        _request: Request<GetCertificateRequest>,
    ) -> Result<Response<CertificateInfo>, Status> {
        Ok(Response::new(self.certificates.current().await?))
    }

    async fn list_certificates(
        &self,
        _request: Request<ListCertificatesRequest>,
    ) -> Result<Response<ListCertificatesResponse>, Status> {
        Ok(Response::new(ListCertificatesResponse {
            certificates: self.certificates.all().await?,
        }))
    }

    async fn get_target(
        &self,
        request: Request<GetTargetRequest>,
    ) -> Result<Response<PushTarget>, Status> {
        let id = request.into_inner().enrollment_id;
        let row = self
            .store
            .target(&id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no push target for {id}")))?;
        Ok(Response::new(target(row)))
    }

    async fn list_targets(
        &self,
        request: Request<ListTargetsRequest>,
    ) -> Result<Response<ListTargetsResponse>, Status> {
        let r = request.into_inner();
        let status = match r.status() {
            PushTargetStatus::Unspecified => None,
            PushTargetStatus::Active => Some(TargetStatus::Active.as_str()),
            PushTargetStatus::Inactive => Some(TargetStatus::Inactive.as_str()),
        };
        let limit = mdm_proto::page_limit(r.limit);
        let rows = self.store.list_targets(status, &r.after, limit).await?;
        let next_after = if i64::try_from(rows.len()) == Ok(limit) {
            rows.last()
                .map(|t| t.enrollment_id.clone())
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(ListTargetsResponse {
            targets: rows.into_iter().map(target).collect(),
            next_after,
        }))
    }

    async fn count_targets(
        &self,
        _request: Request<CountTargetsRequest>,
    ) -> Result<Response<CountTargetsResponse>, Status> {
        Ok(Response::new(CountTargetsResponse {
            active: self.store.count_targets(TargetStatus::Active).await?,
            inactive: self.store.count_targets(TargetStatus::Inactive).await?,
        }))
    }
}

fn target(t: TargetRow) -> PushTarget {
    let status = match t.status {
        TargetStatus::Active => PushTargetStatus::Active,
        TargetStatus::Inactive => PushTargetStatus::Inactive,
    };
    PushTarget {
        enrollment_id: t.enrollment_id,
        device_id: t.device_id,
        token: hex::encode(&t.token),
        topic: t.topic,
        status: status.into(),
        flag: t.flag.unwrap_or_default(),
        registered_at_ms: t.registered_at,
        last_seen_at_ms: t.last_seen_at,
        last_push_at_ms: t.last_push_at.unwrap_or(0),
        last_outcome: t.last_outcome.unwrap_or_default(),
        last_reason: t.last_reason.unwrap_or_default(),
        inactive_since_ms: t.inactive_at.unwrap_or(0),
        has_push_magic: !t.push_magic.is_empty(),
    }
}
