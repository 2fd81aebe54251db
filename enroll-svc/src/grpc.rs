//! The gRPC adapter: `mdm.v1.Enrollment` onto [`CheckinService`] and the store.

use crate::admissions::{Admissions, Event};
use crate::checkin::{unlock_token_context, CheckinService};
use crate::error::Error;
use crate::provisioning::Provisioning;
use crate::store::{
    self, AuditQuery, Authorized, DeviceFilter, DeviceOrder, EnrollmentRecord, EnrollmentStatus,
    EnrollmentStore,
};
use mdm_proto::v1::enrollment_server::Enrollment;
use mdm_proto::v1::{
    AdmissionChange, AdmitRequest, AdmitResponse, App, ApproveReenrollmentRequest, AuditEntry,
    CheckinRequest, CheckinResponse, CountEnrollmentsRequest, CountEnrollmentsResponse,
    DeviceIdentity, DeviceOrder as ProtoOrder, EnrollmentInfo, EnrollmentStatus as ProtoStatus,
    GetEnrollmentRequest, GetUnlockTokenRequest, GetUnlockTokenResponse, IdentityPolicy,
    ImportCheckinRequest, ImportCheckinResponse, InventoryReport, ListAppsRequest,
    ListAppsResponse, ListAuditRequest, ListAuditResponse, ListEnrollmentsRequest,
    ListEnrollmentsResponse, ReenrollmentApproval, ResolveTargetsRequest, ResolveTargetsResponse,
    ResolvedTarget, UpdateInventoryRequest, UpdateInventoryResponse, WatchAdmissionsRequest,
};
use mdm_proto::VerifiedIdentity;
use service_kit::secrets::SecretBox;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

/// Implements the Enrollment service.
#[derive(Debug, Clone)]
pub struct EnrollmentApi {
    checkins: CheckinService,
    store: EnrollmentStore,
    secrets: SecretBox,
    revocation: Option<Provisioning>,
    admissions: Admissions,
}

impl EnrollmentApi {
    /// An API over a check-in handler, its store, the key sealing secrets and the admission
    /// changes it streams to edges.
    pub fn new(
        checkins: CheckinService,
        store: EnrollmentStore,
        secrets: SecretBox,
        admissions: Admissions,
    ) -> EnrollmentApi {
        EnrollmentApi {
            checkins,
            store,
            secrets,
            revocation: None,
            admissions,
        }
    }

    /// Refuses certificates revoked in `provisioning`'s registry at check-in and authorization
    /// (the edge refuses them too; this holds even for a request that reaches us otherwise).
    pub fn with_revocation(mut self, provisioning: Provisioning) -> EnrollmentApi {
        self.revocation = Some(provisioning);
        self
    }

    async fn refuse_revoked(&self, identity: &VerifiedIdentity) -> Result<(), Error> {
        match &self.revocation {
            Some(provisioning) => {
                provisioning
                    .refuse_revoked(identity.cert_sha256().as_bytes())
                    .await
            }
            None => Ok(()),
        }
    }
}

#[tonic::async_trait]
impl Enrollment for EnrollmentApi {
    async fn checkin(
        &self,
        request: Request<CheckinRequest>,
    ) -> Result<Response<CheckinResponse>, Status> {
        let request = request.into_inner();
        let identity = VerifiedIdentity::try_from(request.identity).map_err(Error::from)?;
        self.refuse_revoked(&identity).await?;
        let answer = self.checkins.handle(&identity, &request.body).await?;
        Ok(Response::new(CheckinResponse {
            body: answer.body,
            content_type: answer.content_type.unwrap_or_default().to_owned(),
        }))
    }

    async fn import_checkin(
        &self,
        request: Request<ImportCheckinRequest>,
    ) -> Result<Response<ImportCheckinResponse>, Status> {
        let request = request.into_inner();
        let (enrollment_id, message_type) = self
            .checkins
            .import(&request.message, &request.imported_by)
            .await?;
        Ok(Response::new(ImportCheckinResponse {
            enrollment_id,
            message_type: message_type.to_owned(),
        }))
    }

    async fn get_enrollment(
        &self,
        request: Request<GetEnrollmentRequest>,
    ) -> Result<Response<EnrollmentInfo>, Status> {
        let id = request.into_inner().enrollment_id;
        let record = self.store.get(&id).await?.ok_or(Error::NotFound(id))?;
        Ok(Response::new(info(record)))
    }

    async fn list_enrollments(
        &self,
        request: Request<ListEnrollmentsRequest>,
    ) -> Result<Response<ListEnrollmentsResponse>, Status> {
        let request = request.into_inner();
        let status = match request.status() {
            ProtoStatus::Unspecified => None,
            ProtoStatus::Authenticated => Some(EnrollmentStatus::Authenticated),
            ProtoStatus::Enrolled => Some(EnrollmentStatus::Enrolled),
            ProtoStatus::CheckedOut => Some(EnrollmentStatus::CheckedOut),
        };
        let limit = mdm_proto::page_limit(request.limit);
        let descending = request.descending;
        let order = match request.order() {
            ProtoOrder::Id => DeviceOrder::Id,
            ProtoOrder::Name => DeviceOrder::Name { descending },
            ProtoOrder::LastSeen => DeviceOrder::LastSeen { descending },
        };
        let text = |value: String| Some(value).filter(|v| !v.is_empty());
        let time = |ms: i64| Some(ms).filter(|ms| *ms > 0);
        let filter = DeviceFilter {
            status,
            serial_number: text(request.serial_number),
            model: text(request.model),
            os_version_prefix: text(request.os_version_prefix),
            name_prefix: text(request.name_prefix),
            last_seen_after: time(request.last_seen_after_ms),
            last_seen_before: time(request.last_seen_before_ms),
        };
        let page = self
            .store
            .list(&filter, order, &request.after, limit)
            .await?;
        Ok(Response::new(ListEnrollmentsResponse {
            enrollments: page.records.into_iter().map(info).collect(),
            next_after: page.next_key.unwrap_or_default(),
        }))
    }

    async fn admit(
        &self,
        request: Request<AdmitRequest>,
    ) -> Result<Response<AdmitResponse>, Status> {
        let request = request.into_inner();
        // The edge asks under its configured policy; the certificate may be held to another
        // (a direct-profile one to the binding), so the claim is read first with the policy
        // that checks nothing of the CN, then held to the one that applies.
        let claim = request
            .identity
            .ok_or_else(|| Error::IdentityMismatch("no identity was forwarded".into()))?;
        let requested = claim.policy();
        let claim = VerifiedIdentity::try_from(DeviceIdentity {
            policy: IdentityPolicy::BoundCertificate.into(),
            ..claim
        })
        .map_err(Error::from)?;
        // A command report asks for the device channel's binding too, read with the
        // certificate in one statement.
        let device_id = claim.device_id().as_str().to_owned();
        let (policy, bound_generation) = match &self.revocation {
            Some(provisioning) if request.command_channel => {
                provisioning
                    .admit_to_device(
                        claim.cert_sha256().as_bytes(),
                        &request.cert_der,
                        requested,
                        &device_id,
                    )
                    .await?
            }
            Some(provisioning) => {
                let policy = provisioning
                    .admission_policy(claim.cert_sha256().as_bytes(), &request.cert_der, requested)
                    .await?;
                (policy, None)
            }
            None => (requested, None),
        };
        let identity = claim.under(policy).map_err(Error::from)?;
        let generation = if request.command_channel {
            let authorized = match bound_generation {
                Some(generation) => Authorized {
                    generation,
                    rebound: false,
                },
                None => {
                    self.store
                        .authorize_device(&device_id, identity.cert_sha256().as_bytes())
                        .await?
                }
            };
            if authorized.rebound {
                // The certificate it replaced may be cached by any edge.
                self.admissions
                    .publish(Event::Device(device_id.clone()))
                    .await;
            }
            let mut generation = authorized.generation;
            if identity.enrollment_id().is_user_channel() {
                generation = self
                    .store
                    .authorize_user_channel(identity.enrollment_id().as_str())
                    .await?;
            }
            u64::try_from(generation).unwrap_or(0)
        } else {
            0
        };
        Ok(Response::new(AdmitResponse {
            policy: identity.policy().into(),
            generation,
        }))
    }

    type WatchAdmissionsStream = ReceiverStream<Result<AdmissionChange, Status>>;

    async fn watch_admissions(
        &self,
        _request: Request<WatchAdmissionsRequest>,
    ) -> Result<Response<Self::WatchAdmissionsStream>, Status> {
        Ok(Response::new(self.admissions.watch()))
    }

    async fn resolve_targets(
        &self,
        request: Request<ResolveTargetsRequest>,
    ) -> Result<Response<ResolveTargetsResponse>, Status> {
        let ids = request.into_inner().enrollment_ids;
        let targets = self
            .store
            .resolve(&ids)
            .await?
            .into_iter()
            .map(|row| ResolvedTarget {
                enrollment_id: row.id,
                generation: u64::try_from(row.generation).unwrap_or(0),
                status: proto_status(row.status).into(),
                product_name: row.product_name.unwrap_or_default(),
                os_version: row.os_version.unwrap_or_default(),
                supervised: row.supervised,
                user_channel: row.user_channel,
            })
            .collect();
        Ok(Response::new(ResolveTargetsResponse { targets }))
    }

    async fn approve_reenrollment(
        &self,
        request: Request<ApproveReenrollmentRequest>,
    ) -> Result<Response<ReenrollmentApproval>, Status> {
        let request = request.into_inner();
        if request.reason.trim().is_empty() || request.approved_by.trim().is_empty() {
            return Err(Error::InvalidRequest("an approval needs who and why".into()).into());
        }
        let ttl_secs = match request.ttl_seconds {
            0 => DEFAULT_APPROVAL_TTL_SECS,
            n => n.min(MAX_APPROVAL_TTL_SECS),
        };
        let approval = self
            .store
            .approve_reenrollment(
                &request.enrollment_id,
                &request.approved_by,
                &request.reason,
                i64::from(ttl_secs) * 1000,
            )
            .await?;
        tracing::info!(target: "audit", enrollment = %approval.enrollment_id, by = %approval.approved_by,
            reason = %approval.reason, "re-enrollment approved");
        Ok(Response::new(ReenrollmentApproval {
            enrollment_id: approval.enrollment_id,
            approved_by: approval.approved_by,
            reason: approval.reason,
            created_at_ms: approval.created_at,
            expires_at_ms: approval.expires_at,
        }))
    }

    async fn update_inventory(
        &self,
        request: Request<UpdateInventoryRequest>,
    ) -> Result<Response<UpdateInventoryResponse>, Status> {
        let request = request.into_inner();
        // The one report of an older sender (fields 1-3) first, then the batch.
        let single = (!request.enrollment_id.is_empty()).then_some(InventoryReport {
            enrollment_id: request.enrollment_id,
            reported_at_ms: request.reported_at_ms,
            update: request.update,
        });
        let updates = single
            .into_iter()
            .chain(request.reports)
            .map(|report| {
                let update = report
                    .update
                    .map(mdm_proto::inventory::from_proto)
                    .ok_or_else(|| {
                        Error::InvalidRequest("an inventory report without an update".into())
                    })?;
                Ok((report.enrollment_id, report.reported_at_ms, update))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let reports: Vec<store::InventoryReport<'_>> = updates
            .iter()
            .map(|(id, reported_at, update)| store::InventoryReport {
                id,
                reported_at: *reported_at,
                update,
            })
            .collect();
        let applied = self.store.update_inventories(&reports).await?;
        Ok(Response::new(UpdateInventoryResponse {
            applied: applied > 0,
            applied_count: u32::try_from(applied).unwrap_or(u32::MAX),
        }))
    }

    async fn list_apps(
        &self,
        request: Request<ListAppsRequest>,
    ) -> Result<Response<ListAppsResponse>, Status> {
        let request = request.into_inner();
        let limit = mdm_proto::page_limit(request.limit);
        let rows = self
            .store
            .apps(&request.enrollment_id, &request.after, limit)
            .await?;
        let next_after = match rows.last() {
            Some(last) if i64::try_from(rows.len()) == Ok(limit) => last.identifier.clone(),
            _ => String::new(),
        };
        Ok(Response::new(ListAppsResponse {
            apps: rows
                .into_iter()
                .map(|row| App {
                    identifier: row.identifier,
                    name: row.name.unwrap_or_default(),
                    version: row.version.unwrap_or_default(),
                    build: row.build.unwrap_or_default(),
                    size_bytes: row.size_bytes.and_then(|n| u64::try_from(n).ok()),
                })
                .collect(),
            next_after,
        }))
    }

    async fn count_enrollments(
        &self,
        request: Request<CountEnrollmentsRequest>,
    ) -> Result<Response<CountEnrollmentsResponse>, Status> {
        let request = request.into_inner();
        let positive_or = |ms: i64, default: i64| if ms > 0 { ms } else { default };
        let within = positive_or(request.seen_within_ms, DEFAULT_SEEN_WITHIN_MS);
        let expiring = positive_or(request.expiring_within_ms, DEFAULT_EXPIRING_WITHIN_MS);
        let now = service_kit::now_ms();
        let counts = self
            .store
            .counts(now.saturating_sub(within), now.saturating_add(expiring))
            .await?;
        Ok(Response::new(CountEnrollmentsResponse {
            total: counts.total(),
            authenticated: counts.authenticated,
            enrolled: counts.enrolled,
            checked_out: counts.checked_out,
            seen_recently: counts.seen_since,
            identities_expiring: counts.identities_expiring,
        }))
    }

    async fn list_audit(
        &self,
        request: Request<ListAuditRequest>,
    ) -> Result<Response<ListAuditResponse>, Status> {
        let request = request.into_inner();
        let limit = mdm_proto::page_limit(request.limit);
        let entries = self
            .store
            .list_audit(&AuditQuery {
                before_id: (request.before_id > 0).then_some(request.before_id),
                limit,
                enrollment_id: Some(request.enrollment_id.as_str()).filter(|s| !s.is_empty()),
                action: Some(request.action.as_str()).filter(|s| !s.is_empty()),
            })
            .await?
            .into_iter()
            .map(|e| AuditEntry {
                id: e.id,
                at_ms: e.at,
                actor: e.actor,
                action: e.action,
                enrollment_id: e.enrollment_id,
                detail: e.detail,
                ..Default::default()
            })
            .collect();
        Ok(Response::new(ListAuditResponse { entries }))
    }

    async fn get_unlock_token(
        &self,
        request: Request<GetUnlockTokenRequest>,
    ) -> Result<Response<GetUnlockTokenResponse>, Status> {
        let id = request.into_inner().enrollment_id;
        let record = self
            .store
            .get(&id)
            .await?
            .ok_or(Error::NotFound(id.clone()))?;
        let unlock_token = match record.unlock_token {
            Some(sealed) => self
                .secrets
                .open(&sealed, &unlock_token_context(&id))
                .map_err(Error::from)?,
            None => Vec::new(),
        };
        tracing::info!(target: "audit", enrollment = %id, "UnlockToken released for ClearPasscode");
        Ok(Response::new(GetUnlockTokenResponse { unlock_token }))
    }
}

/// What "seen lately" means when the caller does not say: a day.
const DEFAULT_SEEN_WITHIN_MS: i64 = 86_400_000;
/// "Soon" for identities, unless the caller says: thirty days, time enough to renew.
const DEFAULT_EXPIRING_WITHIN_MS: i64 = 30 * 86_400_000;

/// How long an approval waits for the device by default: a day.
const DEFAULT_APPROVAL_TTL_SECS: u32 = 86_400;
/// The longest an approval may wait: a week.
const MAX_APPROVAL_TTL_SECS: u32 = 7 * 86_400;

fn proto_status(status: EnrollmentStatus) -> ProtoStatus {
    match status {
        EnrollmentStatus::Authenticated => ProtoStatus::Authenticated,
        EnrollmentStatus::Enrolled => ProtoStatus::Enrolled,
        EnrollmentStatus::CheckedOut => ProtoStatus::CheckedOut,
    }
}

fn info(r: EnrollmentRecord) -> EnrollmentInfo {
    let f = r.facts;
    EnrollmentInfo {
        enrollment_id: r.id,
        device_id: r.device_id,
        user_id: r.user_id.unwrap_or_default(),
        status: proto_status(r.status).into(),
        cert_sha256: r.cert_sha256.map(hex::encode).unwrap_or_default(),
        topic: r.topic.unwrap_or_default(),
        serial_number: f.serial_number.unwrap_or_default(),
        product_name: f.product_name.unwrap_or_default(),
        os_version: f.os_version.unwrap_or_default(),
        build_version: f.build_version.unwrap_or_default(),
        device_name: f.device_name.unwrap_or_default(),
        model: f.model.unwrap_or_default(),
        model_name: f.model_name.unwrap_or_default(),
        imei: f.imei.unwrap_or_default(),
        meid: f.meid.unwrap_or_default(),
        user_short_name: r.user_short_name.unwrap_or_default(),
        user_long_name: r.user_long_name.unwrap_or_default(),
        push_token: r.push_token.map(hex::encode).unwrap_or_default(),
        has_push_magic: r.push_magic.is_some(),
        has_unlock_token: r.unlock_token.is_some(),
        has_bootstrap_token: r.bootstrap_token.is_some(),
        awaiting_configuration: r.awaiting_configuration,
        created_at_ms: r.created_at,
        authenticated_at_ms: r.authenticated_at.unwrap_or(0),
        token_updated_at_ms: r.token_updated_at.unwrap_or(0),
        checked_out_at_ms: r.checked_out_at.unwrap_or(0),
        last_seen_at_ms: r.last_seen_at,
        generation: u64::try_from(r.generation).unwrap_or(0),
        inventory: Some(inventory(r.inventory)),
        identity_not_after_ms: r.identity_not_after.unwrap_or(0),
    }
}

fn inventory(i: crate::store::Inventory) -> mdm_proto::v1::Inventory {
    mdm_proto::v1::Inventory {
        capacity_gb: i.capacity_gb,
        available_gb: i.available_gb,
        battery_level: i.battery_level,
        supervised: i.supervised,
        encrypted: i.encrypted,
        passcode_present: i.passcode_present,
        app_count: i.app_count.and_then(|n| u32::try_from(n).ok()),
        updated_at_ms: i.inventory_updated_at.unwrap_or(0),
    }
}
