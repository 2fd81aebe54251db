//! The gRPC adapter: `mdm.v1.Enrollment` onto [`CheckinService`] and the store.

use crate::checkin::{unlock_token_context, CheckinService};
use crate::error::Error;
use crate::identity::VerifiedIdentity;
use crate::provisioning::Provisioning;
use crate::store::{EnrollmentRecord, EnrollmentStatus, EnrollmentStore};
use mdm_proto::v1::enrollment_server::Enrollment;
use mdm_proto::v1::{
    AuthorizeRequest, AuthorizeResponse, CheckinRequest, CheckinResponse, EnrollmentInfo,
    EnrollmentStatus as ProtoStatus, GetEnrollmentRequest, GetUnlockTokenRequest,
    GetUnlockTokenResponse, ListEnrollmentsRequest, ListEnrollmentsResponse,
};
use service_kit::secrets::SecretBox;
use tonic::{Request, Response, Status};

/// Implements the Enrollment service.
#[derive(Debug, Clone)]
pub struct EnrollmentApi {
    checkins: CheckinService,
    store: EnrollmentStore,
    secrets: SecretBox,
    revocation: Option<Provisioning>,
}

impl EnrollmentApi {
    /// An API over a check-in handler, its store and the key sealing secrets.
    pub fn new(
        checkins: CheckinService,
        store: EnrollmentStore,
        secrets: SecretBox,
    ) -> EnrollmentApi {
        EnrollmentApi {
            checkins,
            store,
            secrets,
            revocation: None,
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
            Some(provisioning) => provisioning.refuse_revoked(&identity.cert_sha256).await,
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
        let identity = VerifiedIdentity::try_from(request.identity)?;
        self.refuse_revoked(&identity).await?;
        let body = self.checkins.handle(&identity, &request.body).await?;
        Ok(Response::new(CheckinResponse { body }))
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
        let limit = match request.limit {
            0 => 100,
            n => n.min(1000),
        };
        let records = self
            .store
            .list(status, &request.after, i64::from(limit))
            .await?;
        let next_after = if records.len() == limit as usize {
            records.last().map(|r| r.id.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(ListEnrollmentsResponse {
            enrollments: records.into_iter().map(info).collect(),
            next_after,
        }))
    }

    async fn authorize(
        &self,
        request: Request<AuthorizeRequest>,
    ) -> Result<Response<AuthorizeResponse>, Status> {
        let identity = VerifiedIdentity::try_from(request.into_inner().identity)?;
        identity.check_policy()?;
        self.refuse_revoked(&identity).await?;
        self.store
            .authorize_device(&identity.device_id, &identity.cert_sha256)
            .await?;
        if identity.enrollment_id != identity.device_id {
            self.store
                .authorize_user_channel(&identity.enrollment_id)
                .await?;
        }
        Ok(Response::new(AuthorizeResponse {}))
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

fn info(r: EnrollmentRecord) -> EnrollmentInfo {
    let status = match r.status {
        EnrollmentStatus::Authenticated => ProtoStatus::Authenticated,
        EnrollmentStatus::Enrolled => ProtoStatus::Enrolled,
        EnrollmentStatus::CheckedOut => ProtoStatus::CheckedOut,
    };
    let f = r.facts;
    EnrollmentInfo {
        enrollment_id: r.id,
        device_id: r.device_id,
        user_id: r.user_id.unwrap_or_default(),
        status: status.into(),
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
    }
}
