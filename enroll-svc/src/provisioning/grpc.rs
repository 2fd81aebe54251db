//! The gRPC adapter: `mdm.v1.Provisioning` onto [`Provisioning`].

use super::store::{Flow, IssuedCertificate, TokenRecord};
use super::tokens::{self, TokenRequest};
use super::Provisioning;
use crate::admissions::{Admissions, Event};
use crate::error::Error;
use mdm_proto::v1::provisioning_server::Provisioning as ProvisioningRpc;
use mdm_proto::v1::{
    CertificateFlow, CreateEnrollmentTokenRequest, CreateEnrollmentTokenResponse,
    DirectProfileRequest, EnrollmentToken, GetEnrollmentTokenRequest, GetIssuedCertificateRequest,
    IssuedCertificate as ProtoCertificate, ListEnrollmentTokensRequest,
    ListEnrollmentTokensResponse, OtaEnrollRequest, ProfileResponse, RenewalProfileRequest,
    RenewalProfileResponse, RevokeCertificateRequest, RevokeEnrollmentTokenRequest, ScepRequest,
    ScepResponse, ServiceConfigRequest, ServiceConfigResponse, TrustProfileRequest,
};
use service_kit::now_ms;
use tonic::{Request, Response, Status};

/// Longest revocation reason.
const MAX_REASON: usize = 1024;

/// Implements the Provisioning service.
#[derive(Debug, Clone)]
pub struct ProvisioningApi {
    provisioning: Provisioning,
    admissions: Admissions,
}

impl ProvisioningApi {
    /// The adapter; revocations are announced to the edges through `admissions`.
    pub fn new(provisioning: Provisioning, admissions: Admissions) -> ProvisioningApi {
        ProvisioningApi {
            provisioning,
            admissions,
        }
    }
}

fn profile(bytes: Vec<u8>) -> Response<ProfileResponse> {
    Response::new(ProfileResponse { profile: bytes })
}

#[tonic::async_trait]
impl ProvisioningRpc for ProvisioningApi {
    async fn scep(&self, request: Request<ScepRequest>) -> Result<Response<ScepResponse>, Status> {
        let request = request.into_inner();
        let answer = self
            .provisioning
            .scep()
            .handle(&request.operation, &request.message)
            .await?;
        Ok(Response::new(ScepResponse {
            content_type: answer.content_type.to_owned(),
            body: answer.body,
        }))
    }

    async fn ota_enroll(
        &self,
        request: Request<OtaEnrollRequest>,
    ) -> Result<Response<ProfileResponse>, Status> {
        let request = request.into_inner();
        let ota = self.provisioning.ota()?;
        let answer = if request.signed_body.is_empty() {
            ota.start(&request.token).await?
        } else {
            ota.answer(&request.signed_body).await?
        };
        Ok(profile(answer))
    }

    async fn direct_profile(
        &self,
        request: Request<DirectProfileRequest>,
    ) -> Result<Response<ProfileResponse>, Status> {
        let token = request.into_inner().token;
        Ok(profile(self.provisioning.direct_profile(&token).await?))
    }

    async fn trust_profile(
        &self,
        _: Request<TrustProfileRequest>,
    ) -> Result<Response<ProfileResponse>, Status> {
        Ok(profile(self.provisioning.profiles()?.trust_profile()?))
    }

    async fn service_config(
        &self,
        _: Request<ServiceConfigRequest>,
    ) -> Result<Response<ServiceConfigResponse>, Status> {
        let profiles = self.provisioning.profiles()?;
        let mut anchor_certs = Vec::new();
        for root in profiles.server_roots() {
            anchor_certs.push(root.to_der().map_err(Error::from)?);
        }
        Ok(Response::new(ServiceConfigResponse {
            enrollment_url: profiles.enroll_url(),
            anchor_certs_url: profiles.anchor_certs_url(),
            trust_profile_url: profiles.trust_profile_url().unwrap_or_default(),
            anchor_certs,
        }))
    }

    async fn create_enrollment_token(
        &self,
        request: Request<CreateEnrollmentTokenRequest>,
    ) -> Result<Response<CreateEnrollmentTokenResponse>, Status> {
        let r = request.into_inner();
        let profiles = self.provisioning.profiles()?;
        let (record, secret) = tokens::create(
            self.provisioning.store(),
            TokenRequest {
                description: r.description,
                user_name: Some(r.user_name),
                max_uses: (r.max_uses > 0).then_some(r.max_uses),
                expires_at: r.expires_at_ms,
                created_by: r.created_by,
            },
        )
        .await?;
        Ok(Response::new(CreateEnrollmentTokenResponse {
            token: Some(token(record)),
            enrollment_url: format!("{}?token={secret}", profiles.enroll_url()),
            profile_url: format!("{}/profile?token={secret}", profiles.enroll_url()),
            secret,
        }))
    }

    async fn list_enrollment_tokens(
        &self,
        request: Request<ListEnrollmentTokensRequest>,
    ) -> Result<Response<ListEnrollmentTokensResponse>, Status> {
        let request = request.into_inner();
        let limit = mdm_proto::page_limit(request.limit);
        let after = match request.after.split_once(':') {
            _ if request.after.is_empty() => None,
            Some((at, id)) => Some((
                at.parse::<i64>()
                    .map_err(|_| Error::InvalidRequest("a bad token cursor".into()))?,
                id,
            )),
            None => return Err(Error::InvalidRequest("a bad token cursor".into()).into()),
        };
        let records = self
            .provisioning
            .store()
            .list_tokens(request.include_inactive, after, limit, now_ms())
            .await?;
        let next_after = match records.last() {
            Some(last) if i64::try_from(records.len()) == Ok(limit) => {
                format!("{}:{}", last.created_at, last.id)
            }
            _ => String::new(),
        };
        Ok(Response::new(ListEnrollmentTokensResponse {
            tokens: records.into_iter().map(token).collect(),
            next_after,
        }))
    }

    async fn get_enrollment_token(
        &self,
        request: Request<GetEnrollmentTokenRequest>,
    ) -> Result<Response<EnrollmentToken>, Status> {
        let id = request.into_inner().id;
        let record = self
            .provisioning
            .store()
            .token(&id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("enrollment token {id}")))?;
        Ok(Response::new(token(record)))
    }

    async fn revoke_enrollment_token(
        &self,
        request: Request<RevokeEnrollmentTokenRequest>,
    ) -> Result<Response<EnrollmentToken>, Status> {
        let id = request.into_inner().id;
        let record = self
            .provisioning
            .store()
            .revoke_token(&id, now_ms())
            .await?
            .ok_or_else(|| Error::NotFound(format!("enrollment token {id}")))?;
        tracing::info!(target: "audit", token = %id, "enrollment token revoked");
        Ok(Response::new(token(record)))
    }

    async fn get_issued_certificate(
        &self,
        request: Request<GetIssuedCertificateRequest>,
    ) -> Result<Response<ProtoCertificate>, Status> {
        let request = request.into_inner();
        let store = self.provisioning.store();
        let cert = if request.serial.is_empty() && !request.sha256.is_empty() {
            let mut sha256 = [0u8; 32];
            hex::decode_to_slice(&request.sha256, &mut sha256)
                .map_err(|_| Error::InvalidRequest("sha256 is not 64 hex characters".into()))?;
            store
                .certificate_by_sha256(&sha256)
                .await?
                .ok_or_else(|| Error::NotFound(format!("certificate {}", request.sha256)))?
        } else {
            let serial = normalise_serial(&request.serial)?;
            store
                .certificate_by_serial(&serial)
                .await?
                .ok_or_else(|| Error::NotFound(format!("certificate {serial}")))?
        };
        Ok(Response::new(certificate(cert)))
    }

    async fn revoke_certificate(
        &self,
        request: Request<RevokeCertificateRequest>,
    ) -> Result<Response<ProtoCertificate>, Status> {
        let r = request.into_inner();
        let serial = normalise_serial(&r.serial)?;
        if r.reason.chars().count() > MAX_REASON {
            return Err(
                Error::InvalidRequest(format!("reason is over {MAX_REASON} characters")).into(),
            );
        }
        let cert = self
            .provisioning
            .store()
            .revoke(&serial, &r.reason, &r.revoked_by, now_ms())
            .await?
            .ok_or_else(|| Error::NotFound(format!("certificate {serial}")))?;
        tracing::info!(target: "audit", %serial, by = %r.revoked_by, reason = %r.reason, "certificate revoked");
        self.admissions
            .publish(Event::Certificate(cert.sha256.clone()))
            .await;
        Ok(Response::new(certificate(cert)))
    }

    async fn renewal_profile(
        &self,
        request: Request<RenewalProfileRequest>,
    ) -> Result<Response<RenewalProfileResponse>, Status> {
        let id = request.into_inner().enrollment_id;
        let renewal = self.provisioning.renewal_profile(&id).await?;
        Ok(Response::new(RenewalProfileResponse {
            profile: renewal.profile,
            serial: renewal.serial,
            not_after_ms: renewal.not_after,
        }))
    }
}

/// Serials are stored as lowercase hex without leading zeros or separators; accept what people
/// paste (`0A:1B`, `0x0a1b`, upper case).
fn normalise_serial(serial: &str) -> Result<String, Error> {
    let hex: String = serial
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    if hex.is_empty() || hex.len() > 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::InvalidRequest(format!(
            "{serial:?} is not a hex serial number"
        )));
    }
    let trimmed = hex.trim_start_matches('0');
    Ok(if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.into()
    })
}

fn flow(flow: Flow) -> CertificateFlow {
    match flow {
        Flow::Ota => CertificateFlow::Ota,
        Flow::Enrollment => CertificateFlow::Enrollment,
        Flow::Direct => CertificateFlow::Direct,
    }
}

fn token(r: TokenRecord) -> EnrollmentToken {
    EnrollmentToken {
        id: r.id,
        description: r.description,
        user_name: r.user_name.unwrap_or_default(),
        max_uses: r.max_uses.and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
        uses: u32::try_from(r.uses).unwrap_or(u32::MAX),
        created_by: r.created_by,
        created_at_ms: r.created_at,
        expires_at_ms: r.expires_at,
        revoked_at_ms: r.revoked_at.unwrap_or(0),
    }
}

fn certificate(c: IssuedCertificate) -> ProtoCertificate {
    ProtoCertificate {
        serial: c.serial,
        sha256: hex::encode(c.sha256),
        common_name: c.common_name,
        flow: flow(c.flow).into(),
        issued_at_ms: c.issued_at,
        not_after_ms: c.not_after,
        revoked_at_ms: c.revoked_at.unwrap_or(0),
        revocation_reason: c.revocation_reason.unwrap_or_default(),
        revoked_by: c.revoked_by.unwrap_or_default(),
        renewed_from: c.renewed_from.unwrap_or_default(),
        enrollment_id: c.enrollment_id.unwrap_or_default(),
        renewal_for: c.renewal_for.unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn serials_are_normalised() {
        let n = |s| super::normalise_serial(s).expect(s);
        assert_eq!(n("0A:1B"), "a1b");
        assert_eq!(n("0x00ff"), "ff");
        assert_eq!(n("00"), "0");
        assert!(super::normalise_serial("xyz").is_err());
        assert!(super::normalise_serial("").is_err());
    }
}
