//! `/v1/enrollment-tokens` and `/v1/certificates`: the credentials the enrollment URLs require,
//! and the certificates the device-identity CA issued, with revocation.
//!
//! Making and revoking enrollment tokens needs `commands` (a token lets devices enroll);
//! revoking a certificate needs `destructive` and a reason, because it cuts a device off at once.

use super::{created, segment, AppState, Failures};
use crate::auth::Caller;
use crate::convert;
use crate::cursor;
use crate::error::ApiError;
use crate::extract::{Body, Param, Query};
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use mdm_api::enrollment::{
    CreatedEnrollmentToken, EnrollmentToken, EnrollmentTokenQuery, EnrollmentTokenRequest,
    IssuedCertificate, RevokeRequest,
};
use mdm_api::Page;
use mdm_proto::v1::{
    CreateEnrollmentTokenRequest, GetEnrollmentTokenRequest, GetIssuedCertificateRequest,
    ListEnrollmentTokensRequest, RevokeCertificateRequest, RevokeEnrollmentTokenRequest,
};

const SERVICE: &str = "enroll-svc";

/// How long a token lives when the request does not say: a week.
const DEFAULT_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// Makes an enrollment token; its secret and URLs are shown in this answer only.
#[utoipa::path(post, path = "/v1/enrollment-tokens", operation_id = "createEnrollmentToken", tag = "enrollment",
    request_body = EnrollmentTokenRequest,
    responses(
        (status = 201, description = "Made", body = CreatedEnrollmentToken,
         headers(("Location" = String, description = "The token"))),
        Failures),
    security(("bearer" = ["commands"])))]
pub async fn create_token(
    caller: Caller,
    State(state): State<AppState>,
    Body(body): Body<EnrollmentTokenRequest>,
) -> Result<Response, ApiError> {
    let request = token_request(&caller.name, body, service_kit::now_ms())?;
    let answer = state
        .backends
        .provisioning()
        .create_enrollment_token(request)
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    let token = answer.token.map(convert::enrollment_token).ok_or_else(|| {
        ApiError::Internal("enroll-svc answered a token without its record".into())
    })?;
    tracing::info!(target: "audit", caller = %caller.name, token = %token.id,
        max_uses = ?token.max_uses, "enrollment token made");
    let location = format!("/v1/enrollment-tokens/{}", segment(&token.id));
    Ok(created(
        location,
        CreatedEnrollmentToken {
            token,
            secret: answer.secret,
            enrollment_url: answer.enrollment_url,
            profile_url: answer.profile_url,
        },
    ))
}

/// The gRPC request of a token body; `now_ms` is the clock a time-to-live counts from.
fn token_request(
    created_by: &str,
    body: EnrollmentTokenRequest,
    now_ms: i64,
) -> Result<CreateEnrollmentTokenRequest, ApiError> {
    let max_uses = match (body.max_uses, body.unlimited) {
        (Some(_), true) => {
            return Err(ApiError::Invalid(
                "give max_uses or unlimited, not both".into(),
            ))
        }
        (Some(n), false) => n,
        (None, false) => 1,
        (None, true) => 0,
    };
    let user_name = body.user_name.unwrap_or_default();
    let expires_at_ms = match body.expiry {
        None => now_ms + DEFAULT_TTL_MS,
        Some(expiry) => super::commands::expiry(Some(&expiry), now_ms)?,
    };
    Ok(CreateEnrollmentTokenRequest {
        description: body.description,
        user_name,
        max_uses,
        expires_at_ms,
        created_by: created_by.to_owned(),
    })
}

/// Enrollment tokens, newest first (by default only those that still work).
#[utoipa::path(get, path = "/v1/enrollment-tokens", operation_id = "listEnrollmentTokens", tag = "enrollment",
    params(EnrollmentTokenQuery),
    responses((status = 200, description = "A page of tokens", body = Page<EnrollmentToken>), Failures),
    security(("bearer" = ["read"])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Query(query): Query<EnrollmentTokenQuery>,
) -> Result<Json<Page<EnrollmentToken>>, ApiError> {
    let after = cursor::decode("enrollment-tokens", query.cursor.as_deref())?.unwrap_or_default();
    let answer = state
        .backends
        .provisioning()
        .list_enrollment_tokens(ListEnrollmentTokensRequest {
            include_inactive: query.include_inactive == Some(true),
            after,
            limit: cursor::limit(query.limit),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    Ok(cursor::page(
        "enrollment-tokens",
        answer.tokens,
        convert::enrollment_token,
        &answer.next_after,
    ))
}

/// One enrollment token.
#[utoipa::path(get, path = "/v1/enrollment-tokens/{id}", operation_id = "getEnrollmentToken", tag = "enrollment",
    params(("id" = String, Path, description = "The token's ID", min_length = 1, max_length = 513, pattern = r"^[^\x00-\x1F\x7F]+$")),
    responses((status = 200, description = "The token", body = EnrollmentToken), Failures),
    security(("bearer" = ["read"])))]
pub async fn get_token(
    State(state): State<AppState>,
    Param(id): Param,
) -> Result<Json<EnrollmentToken>, ApiError> {
    let token = state
        .backends
        .provisioning()
        .get_enrollment_token(GetEnrollmentTokenRequest { id })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    Ok(Json(convert::enrollment_token(token)))
}

/// Revokes an enrollment token: its URLs stop working. Devices already enrolled stay.
#[utoipa::path(post, path = "/v1/enrollment-tokens/{id}/revoke", operation_id = "revokeEnrollmentToken", tag = "enrollment",
    params(("id" = String, Path, description = "The token's ID", min_length = 1, max_length = 513, pattern = r"^[^\x00-\x1F\x7F]+$")),
    responses((status = 200, description = "The token, revoked", body = EnrollmentToken), Failures),
    security(("bearer" = ["commands"])))]
pub async fn revoke_token(
    caller: Caller,
    State(state): State<AppState>,
    Param(id): Param,
) -> Result<Json<EnrollmentToken>, ApiError> {
    let token = state
        .backends
        .provisioning()
        .revoke_enrollment_token(RevokeEnrollmentTokenRequest { id })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    tracing::info!(target: "audit", caller = %caller.name, token = %token.id,
        "enrollment token revoked");
    Ok(Json(convert::enrollment_token(token)))
}

/// A certificate the device CA issued.
#[utoipa::path(get, path = "/v1/certificates/{serial}", operation_id = "getCertificate", tag = "enrollment",
    params(("serial" = String, Path, description = "Lowercase hex serial", min_length = 1, max_length = 64, pattern = "^[0-9a-fA-F]+$")),
    responses((status = 200, description = "The certificate", body = IssuedCertificate), Failures),
    security(("bearer" = ["read"])))]
pub async fn get_certificate(
    State(state): State<AppState>,
    Param(serial): Param,
) -> Result<Json<IssuedCertificate>, ApiError> {
    let serial = canonical_serial(&serial);
    let certificate = state
        .backends
        .provisioning()
        .get_issued_certificate(GetIssuedCertificateRequest {
            serial,
            sha256: String::new(),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    Ok(Json(convert::issued_certificate(certificate)))
}

/// Revokes an issued certificate: the device it identifies is refused from now on.
#[utoipa::path(post, path = "/v1/certificates/{serial}/revoke", operation_id = "revokeCertificate", tag = "enrollment",
    params(("serial" = String, Path, description = "Lowercase hex serial", min_length = 1, max_length = 64, pattern = "^[0-9a-fA-F]+$")),
    request_body = RevokeRequest,
    responses((status = 200, description = "The certificate, revoked", body = IssuedCertificate), Failures),
    security(("bearer" = ["destructive"])))]
pub async fn revoke_certificate(
    caller: Caller,
    State(state): State<AppState>,
    Param(serial): Param,
    Body(body): Body<RevokeRequest>,
) -> Result<Json<IssuedCertificate>, ApiError> {
    let serial = canonical_serial(&serial);
    let reason = body.reason.trim();
    let certificate = state
        .backends
        .provisioning()
        .revoke_certificate(RevokeCertificateRequest {
            serial,
            reason: reason.to_owned(),
            revoked_by: caller.name.clone(),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    tracing::info!(target: "audit", caller = %caller.name, serial = %certificate.serial,
        %reason, "certificate revoked");
    Ok(Json(convert::issued_certificate(certificate)))
}

/// A serial (hex digits, as the document's pattern requires) the way the CA stores it:
/// lowercase, leading zeros dropped.
fn canonical_serial(serial: &str) -> String {
    let trimmed = serial.trim_start_matches('0').to_ascii_lowercase();
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdm_api::commands::{ExpiresAfter, ExpiresAt, Expiry};

    #[test]
    fn token_bodies_default_to_single_use_for_a_week() {
        let request =
            token_request("ops", EnrollmentTokenRequest::default(), 1_000).expect("defaults");
        assert_eq!(request.max_uses, 1);
        assert_eq!(request.expires_at_ms, 1_000 + DEFAULT_TTL_MS);
        assert_eq!(request.created_by, "ops");
        let body = EnrollmentTokenRequest {
            unlimited: true,
            user_name: Some("alice".into()),
            expiry: Some(Expiry::At(ExpiresAt {
                expires_at: "2030-01-01T00:00:00Z".into(),
            })),
            ..Default::default()
        };
        let request = token_request("ops", body, 0).expect("multi-use");
        assert_eq!((request.max_uses, request.user_name.as_str()), (0, "alice"));
        assert_eq!(request.expires_at_ms, 1_893_456_000_000);
    }

    #[test]
    fn bad_token_bodies_are_refused() {
        let bad = [
            EnrollmentTokenRequest {
                max_uses: Some(2),
                unlimited: true,
                ..Default::default()
            },
            EnrollmentTokenRequest {
                expiry: Some(Expiry::After(ExpiresAfter { ttl_seconds: 0 })),
                ..Default::default()
            },
        ];
        for body in bad {
            assert!(
                token_request("ops", body.clone(), 1_000).is_err(),
                "{body:?}"
            );
        }
    }

    #[test]
    fn serials_are_canonical() {
        assert_eq!(canonical_serial("00AB"), "ab");
        assert_eq!(canonical_serial("0"), "0");
    }
}
