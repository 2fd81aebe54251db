//! `/v1/enrollment-tokens` and `/v1/certificates`: the credentials the enrollment URLs require,
//! and the certificates the device-identity CA issued, with revocation.
//!
//! Creating and revoking tokens needs `commands` (a token lets devices enroll); revoking a
//! certificate needs `destructive` and a reason, because it cuts a device off at once.

use super::auth::Caller;
use super::config::Scope;
use super::error::AdminError;
use super::query::Query;
use super::render::{timestamp, Reply};
use crate::backends::Backends;
use http::StatusCode;
use mdm_proto::v1::{
    CertificateFlow, CreateEnrollmentTokenRequest, EnrollmentToken, GetIssuedCertificateRequest,
    IssuedCertificate, ListEnrollmentTokensRequest, RevokeCertificateRequest,
    RevokeEnrollmentTokenRequest,
};
use serde::Deserialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const SERVICE: &str = "enroll-svc";

/// Default token lifetime: a week.
const DEFAULT_TTL_SECONDS: u64 = 7 * 24 * 3600;

/// The body of `POST /v1/enrollment-tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    #[serde(default)]
    description: String,
    /// The user the enrollments belong to.
    #[serde(default)]
    user_name: Option<String>,
    /// One enrollment only (the default); false = any number until it expires.
    #[serde(default = "yes")]
    single_use: bool,
    /// At most this many enrollments (overrides `single_use`).
    #[serde(default)]
    max_uses: Option<u32>,
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    ttl_seconds: Option<u64>,
}

fn yes() -> bool {
    true
}

/// The gRPC request of a token body; `now_ms` is the clock `ttl_seconds` counts from.
fn token_request(
    caller: &Caller,
    body: &[u8],
    now_ms: i64,
) -> Result<CreateEnrollmentTokenRequest, AdminError> {
    let body: TokenBody =
        serde_json::from_slice(body).map_err(|e| AdminError::InvalidJson(e.to_string()))?;
    let expires_at_ms = match (body.expires_at.as_deref(), body.ttl_seconds) {
        (Some(_), Some(_)) => {
            return Err(AdminError::Invalid(
                "give expires_at or ttl_seconds, not both".into(),
            ))
        }
        (Some(at), None) => {
            let at = OffsetDateTime::parse(at, &Rfc3339)
                .map_err(|e| AdminError::Invalid(format!("expires_at: {e}")))?;
            i64::try_from(at.unix_timestamp_nanos() / 1_000_000)
                .map_err(|_| AdminError::Invalid("expires_at is out of range".into()))?
        }
        (None, ttl) => {
            let ttl = i64::try_from(ttl.unwrap_or(DEFAULT_TTL_SECONDS))
                .map_err(|_| AdminError::Invalid("ttl_seconds is out of range".into()))?;
            now_ms.saturating_add(ttl.saturating_mul(1000))
        }
    };
    let max_uses = match (body.max_uses, body.single_use) {
        (Some(0), _) => return Err(AdminError::Invalid("max_uses must be at least 1".into())),
        (Some(n), _) => n,
        (None, true) => 1,
        (None, false) => 0,
    };
    Ok(CreateEnrollmentTokenRequest {
        description: body.description,
        user_name: body.user_name.unwrap_or_default(),
        max_uses,
        expires_at_ms,
        created_by: caller.name.clone(),
    })
}

fn text(value: &str) -> Value {
    if value.is_empty() {
        Value::Null
    } else {
        Value::String(value.to_owned())
    }
}

fn token(t: &EnrollmentToken) -> Value {
    json!({
        "id": t.id,
        "description": t.description,
        "user_name": text(&t.user_name),
        "max_uses": if t.max_uses == 0 { Value::Null } else { json!(t.max_uses) },
        "uses": t.uses,
        "created_by": t.created_by,
        "created_at": timestamp(t.created_at_ms),
        "expires_at": timestamp(t.expires_at_ms),
        "revoked_at": timestamp(t.revoked_at_ms),
    })
}

fn certificate(c: &IssuedCertificate) -> Value {
    let flow = match c.flow() {
        CertificateFlow::Ota => "ota",
        CertificateFlow::Enrollment => "enrollment",
        CertificateFlow::Direct => "direct",
        CertificateFlow::Unspecified => "unspecified",
    };
    json!({
        "serial": c.serial,
        "sha256": c.sha256,
        "common_name": c.common_name,
        "flow": flow,
        "issued_at": timestamp(c.issued_at_ms),
        "not_after": timestamp(c.not_after_ms),
        "revoked_at": timestamp(c.revoked_at_ms),
        "revocation_reason": text(&c.revocation_reason),
        "revoked_by": text(&c.revoked_by),
        "renewed_from": text(&c.renewed_from),
    })
}

fn backend(status: tonic::Status) -> AdminError {
    AdminError::backend(SERVICE, &status)
}

/// `POST /v1/enrollment-tokens` → 201 with the secret (shown once) and the URLs.
pub async fn create_token(
    backends: &Backends,
    caller: &Caller,
    body: &[u8],
) -> Result<Reply, AdminError> {
    let request = token_request(caller, body, service_kit::now_ms())?;
    let answer = backends
        .provisioning_client()
        .create_enrollment_token(request)
        .await
        .map_err(backend)?
        .into_inner();
    let mut value = answer.token.as_ref().map(token).unwrap_or(Value::Null);
    value["secret"] = json!(answer.secret);
    value["enrollment_url"] = json!(answer.enrollment_url);
    value["profile_url"] = json!(answer.profile_url);
    Ok(Reply::json(StatusCode::CREATED, &value))
}

/// `GET /v1/enrollment-tokens?include_inactive=true`.
pub async fn list_tokens(backends: &Backends, query: Option<&str>) -> Result<Reply, AdminError> {
    let query = Query::parse(query, &["include_inactive"])?;
    let include_inactive = match query.get("include_inactive") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(AdminError::Invalid(format!(
                "include_inactive must be true or false, not {other:?}"
            )))
        }
    };
    let answer = backends
        .provisioning_client()
        .list_enrollment_tokens(ListEnrollmentTokensRequest { include_inactive })
        .await
        .map_err(backend)?
        .into_inner();
    let tokens: Vec<Value> = answer.tokens.iter().map(token).collect();
    Ok(Reply::json(StatusCode::OK, &json!({ "tokens": tokens })))
}

/// `DELETE /v1/enrollment-tokens/{id}`.
pub async fn revoke_token(backends: &Backends, id: &str) -> Result<Reply, AdminError> {
    let answer = backends
        .provisioning_client()
        .revoke_enrollment_token(RevokeEnrollmentTokenRequest { id: id.to_owned() })
        .await
        .map_err(backend)?
        .into_inner();
    Ok(Reply::json(StatusCode::OK, &token(&answer)))
}

/// `GET /v1/certificates/{serial}`.
pub async fn get_certificate(backends: &Backends, serial: &str) -> Result<Reply, AdminError> {
    let answer = backends
        .provisioning_client()
        .get_issued_certificate(GetIssuedCertificateRequest {
            serial: serial.to_owned(),
        })
        .await
        .map_err(backend)?
        .into_inner();
    Ok(Reply::json(StatusCode::OK, &certificate(&answer)))
}

/// The body of `POST /v1/certificates/{serial}/revoke`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeBody {
    reason: String,
}

/// `POST /v1/certificates/{serial}/revoke` (`destructive`, reason required).
pub async fn revoke_certificate(
    backends: &Backends,
    caller: &Caller,
    serial: &str,
    body: &[u8],
) -> Result<Reply, AdminError> {
    caller.require(Scope::Destructive)?;
    let body: RevokeBody =
        serde_json::from_slice(body).map_err(|e| AdminError::InvalidJson(e.to_string()))?;
    if body.reason.trim().is_empty() {
        return Err(AdminError::Invalid(
            "a reason is required: it is recorded with the revocation".into(),
        ));
    }
    let answer = backends
        .provisioning_client()
        .revoke_certificate(RevokeCertificateRequest {
            serial: serial.to_owned(),
            reason: body.reason,
            revoked_by: caller.name.clone(),
        })
        .await
        .map_err(backend)?
        .into_inner();
    Ok(Reply::json(StatusCode::OK, &certificate(&answer)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops() -> Caller {
        Caller::new("ops", &[Scope::Read, Scope::Commands])
    }

    #[test]
    fn token_bodies_default_to_single_use_for_a_week() {
        let request = token_request(&ops(), b"{}", 1_000).expect("defaults");
        assert_eq!(request.max_uses, 1);
        assert_eq!(request.expires_at_ms, 1_000 + 7 * 24 * 3600 * 1000);
        assert_eq!(request.created_by, "ops");
        let request = token_request(
            &ops(),
            br#"{"single_use": false, "user_name": "alice", "expires_at": "2030-01-01T00:00:00Z"}"#,
            0,
        )
        .expect("multi-use");
        assert_eq!((request.max_uses, request.user_name.as_str()), (0, "alice"));
        assert_eq!(request.expires_at_ms, 1_893_456_000_000);
    }

    #[test]
    fn bad_token_bodies_are_400() {
        for body in [
            &br#"{"max_uses": 0}"#[..],
            br#"{"ttl_seconds": 5, "expires_at": "2030-01-01T00:00:00Z"}"#,
            br#"{"expires_at": "tomorrow"}"#,
            br#"{"unknown": 1}"#,
            b"not json",
        ] {
            let error = token_request(&ops(), body, 0).expect_err("refused");
            assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        }
    }
}
