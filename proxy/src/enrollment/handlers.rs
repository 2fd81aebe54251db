//! The enrollment endpoints, each translated to one `mdm.v1.Provisioning` call.

use super::error::EnrollError;
use super::query::{param, scep_message};
use crate::backends::Backends;
use base64::Engine;
use mdm_pki::profile::CONTENT_TYPE as PROFILE;
use mdm_proto::v1::{
    DirectProfileRequest, OtaEnrollRequest, ProfileResponse, ScepRequest, ServiceConfigRequest,
    TrustProfileRequest,
};
use serde_json::json;

/// A successful answer.
#[derive(Debug)]
pub struct Reply {
    /// `Content-Type`.
    pub content_type: String,
    /// Body.
    pub body: Vec<u8>,
}

fn backend(status: tonic::Status) -> EnrollError {
    EnrollError::backend("enroll-svc", &status)
}

fn profile(answer: tonic::Response<ProfileResponse>) -> Reply {
    Reply {
        content_type: PROFILE.to_owned(),
        body: answer.into_inner().profile,
    }
}

/// The token a URL carries.
fn token(query: Option<&str>) -> Result<String, EnrollError> {
    param(query, "token")?
        .filter(|t| !t.is_empty())
        .ok_or_else(|| EnrollError::BadRequest("an enrollment token (?token=) is required".into()))
}

/// The SCEP operations served (RFC 8894 §3.5 and §4), in any case, as enroll-svc accepts them.
const SCEP_OPERATIONS: [&str; 3] = ["GetCACaps", "GetCACert", "PKIOperation"];

/// `GET|POST /scep?operation=…[&message=…]`. `body` is the POST body (PKIOperation's DER).
pub async fn scep(
    backends: &Backends,
    query: Option<&str>,
    body: Option<Vec<u8>>,
) -> Result<Reply, EnrollError> {
    let operation = param(query, "operation")?
        .ok_or_else(|| EnrollError::BadRequest("operation is required".into()))?;
    // Known before asking enroll-svc, so that nothing a client made up travels on or is echoed.
    if !SCEP_OPERATIONS
        .iter()
        .any(|known| known.eq_ignore_ascii_case(&operation))
    {
        return Err(EnrollError::BadRequest(format!(
            "operation must be one of {}",
            SCEP_OPERATIONS.join(", ")
        )));
    }
    let message = match body {
        Some(body) => body,
        None if operation == "PKIOperation" => {
            let encoded = param(query, "message")?
                .ok_or_else(|| EnrollError::BadRequest("message is required".into()))?;
            scep_message(&encoded)?
        }
        None => Vec::new(),
    };
    let answer = backends
        .provisioning_client()
        .scep(ScepRequest { operation, message })
        .await
        .map_err(backend)?
        .into_inner();
    Ok(Reply {
        content_type: answer.content_type,
        body: answer.body,
    })
}

/// `GET /enroll?token=…` (phase 1) or `POST /enroll` with the device's signed answer.
pub async fn ota(
    backends: &Backends,
    query: Option<&str>,
    signed_body: Option<Vec<u8>>,
) -> Result<Reply, EnrollError> {
    let request = match signed_body {
        Some(signed_body) if !signed_body.is_empty() => OtaEnrollRequest {
            token: String::new(),
            signed_body,
        },
        Some(_) => return Err(EnrollError::BadRequest("the signed answer is empty".into())),
        None => OtaEnrollRequest {
            token: token(query)?,
            signed_body: Vec::new(),
        },
    };
    let answer = backends
        .provisioning_client()
        .ota_enroll(request)
        .await
        .map_err(backend)?;
    Ok(profile(answer))
}

/// `GET /enroll/profile?token=…`.
pub async fn direct_profile(
    backends: &Backends,
    query: Option<&str>,
) -> Result<Reply, EnrollError> {
    let token = token(query)?;
    let answer = backends
        .provisioning_client()
        .direct_profile(DirectProfileRequest { token })
        .await
        .map_err(backend)?;
    Ok(profile(answer))
}

/// `GET /trust-profile`.
pub async fn trust_profile(backends: &Backends) -> Result<Reply, EnrollError> {
    let answer = backends
        .provisioning_client()
        .trust_profile(TrustProfileRequest {})
        .await
        .map_err(backend)?;
    Ok(profile(answer))
}

/// `GET /MDMServiceConfig` (Apple's MDM best practices): the enrollment URL, the anchor certificates' URL, and
/// the trust profile's URL only when there is a trust profile to serve.
pub async fn service_config(backends: &Backends) -> Result<Reply, EnrollError> {
    let answer = backends
        .provisioning_client()
        .service_config(ServiceConfigRequest {})
        .await
        .map_err(backend)?
        .into_inner();
    let mut config = json!({
        "dep_enrollment_url": answer.enrollment_url,
        "dep_anchor_certs_url": answer.anchor_certs_url,
    });
    if !answer.trust_profile_url.is_empty() {
        config["trust_profile_url"] = json!(answer.trust_profile_url);
    }
    Ok(Reply {
        content_type: "application/json; charset=utf-8".into(),
        body: config.to_string().into_bytes(),
    })
}

/// `GET /anchor-certs`: the roots to trust as base64 DER, `[]` when publicly trusted.
pub async fn anchor_certs(backends: &Backends) -> Result<Reply, EnrollError> {
    let answer = backends
        .provisioning_client()
        .service_config(ServiceConfigRequest {})
        .await
        .map_err(backend)?
        .into_inner();
    let certs: Vec<String> = answer
        .anchor_certs
        .iter()
        .map(|der| base64::engine::general_purpose::STANDARD.encode(der))
        .collect();
    Ok(Reply {
        content_type: "application/json; charset=utf-8".into(),
        body: json!(certs).to_string().into_bytes(),
    })
}
