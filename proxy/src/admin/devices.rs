//! `/v1/devices`: enrollments (from enroll-svc) and each one's command history (from
//! command-svc). Read-only.

use super::auth::Caller;
use super::error::AdminError;
use super::query::Query;
use super::render::{self, Reply};
use crate::backends::Backends;
use http::StatusCode;
use mdm_proto::v1::{
    ApproveReenrollmentRequest, EnrollmentStatus, GetEnrollmentRequest, GetTargetRequest,
    ListEnrollmentCommandsRequest, ListEnrollmentsRequest,
};
use serde::Deserialize;
use serde_json::{json, Value};

/// Largest page either service serves.
const MAX_LIMIT: u32 = 1000;

/// `GET /v1/devices?status=&after=&limit=`.
pub async fn list(backends: &Backends, query: Option<&str>) -> Result<Reply, AdminError> {
    let request = list_request(query)?;
    let answer = backends
        .enroll_client()
        .list_enrollments(request)
        .await
        .map_err(|status| AdminError::backend("enroll-svc", &status))?
        .into_inner();
    let next_after = if answer.next_after.is_empty() {
        Value::Null
    } else {
        Value::String(answer.next_after)
    };
    Ok(Reply::json(
        StatusCode::OK,
        &json!({
            "devices": answer.enrollments.iter().map(render::enrollment).collect::<Vec<_>>(),
            "next_after": next_after,
        }),
    ))
}

/// The gRPC request of a device listing's query string.
fn list_request(query: Option<&str>) -> Result<ListEnrollmentsRequest, AdminError> {
    let query = Query::parse(query, &["status", "after", "limit"])?;
    let status = match query.get("status") {
        None => EnrollmentStatus::Unspecified,
        Some(name) => render::parse_enrollment_status(name).ok_or_else(|| {
            AdminError::Invalid(format!(
                "status {name:?} is not one of authenticated, enrolled, checked_out"
            ))
        })?,
    };
    Ok(ListEnrollmentsRequest {
        status: status.into(),
        after: query.get("after").unwrap_or_default().to_owned(),
        limit: query.limit(MAX_LIMIT)?.unwrap_or(0),
    })
}

/// `GET /v1/devices/{id}`.
pub async fn get(backends: &Backends, enrollment_id: &str) -> Result<Reply, AdminError> {
    let info = backends
        .enroll_client()
        .get_enrollment(GetEnrollmentRequest {
            enrollment_id: enrollment_id.to_owned(),
        })
        .await
        .map_err(|status| AdminError::backend("enroll-svc", &status))?
        .into_inner();
    let mut device = render::enrollment(&info);
    // Push state (inactivity, last push and its outcome) comes from push-svc.
    let push = match backends
        .push_client()
        .get_target(GetTargetRequest {
            enrollment_id: enrollment_id.to_owned(),
        })
        .await
    {
        Ok(target) => super::push::target(target.get_ref()),
        Err(status) if mdm_proto::code_of(&status) == mdm_proto::ErrorCode::NotFound => Value::Null,
        Err(status) => return Err(AdminError::backend("push-svc", &status)),
    };
    if let Some(object) = device.as_object_mut() {
        object.insert("push".into(), push);
    }
    Ok(Reply::json(StatusCode::OK, &device))
}

/// `GET /v1/devices/{id}/commands?limit=`: the enrollment's queue and history, newest first.
pub async fn commands(
    backends: &Backends,
    enrollment_id: &str,
    query: Option<&str>,
) -> Result<Reply, AdminError> {
    let limit = Query::parse(query, &["limit"])?.limit(MAX_LIMIT)?;
    let answer = backends
        .command_client()
        .list_enrollment_commands(ListEnrollmentCommandsRequest {
            enrollment_id: enrollment_id.to_owned(),
            limit: limit.unwrap_or(0),
        })
        .await
        .map_err(|status| AdminError::backend("command-svc", &status))?
        .into_inner();
    Ok(Reply::json(
        StatusCode::OK,
        &json!({
            "deliveries": answer.deliveries.iter().map(render::delivery).collect::<Vec<_>>(),
        }),
    ))
}

/// The body of `POST /v1/devices/{id}/approve-reenrollment`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalBody {
    /// Why the administrator vouches for the device: required, kept in the audit log.
    reason: String,
    /// How long the approval waits for the device's Authenticate (default a day, at most a week).
    #[serde(default)]
    ttl_seconds: Option<u32>,
}

/// `POST /v1/devices/{id}/approve-reenrollment` → 200: the device's next Authenticate may bind
/// a certificate that proves nothing by itself (a re-enrollment through the direct profile).
pub async fn approve_reenrollment(
    backends: &Backends,
    caller: &Caller,
    enrollment_id: &str,
    body: &[u8],
) -> Result<Reply, AdminError> {
    let body: ApprovalBody =
        serde_json::from_slice(body).map_err(|e| AdminError::InvalidJson(e.to_string()))?;
    if body.reason.trim().is_empty() || body.reason.len() > 1024 {
        return Err(AdminError::Invalid(
            "reason: say why, in at most 1024 bytes; it is kept in the audit log".into(),
        ));
    }
    let approval = backends
        .enroll_client()
        .approve_reenrollment(ApproveReenrollmentRequest {
            enrollment_id: enrollment_id.to_owned(),
            approved_by: caller.name.clone(),
            reason: body.reason,
            ttl_seconds: body.ttl_seconds.unwrap_or(0),
        })
        .await
        .map_err(|status| AdminError::backend("enroll-svc", &status))?
        .into_inner();
    Ok(Reply::json(
        StatusCode::OK,
        &json!({
            "enrollment_id": approval.enrollment_id,
            "approved_by": approval.approved_by,
            "reason": approval.reason,
            "created_at": render::timestamp(approval.created_at_ms),
            "expires_at": render::timestamp(approval.expires_at_ms),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_query_becomes_a_request() {
        let request =
            list_request(Some("status=checked_out&after=UDID-1%3AU&limit=50")).expect("valid");
        assert_eq!(request.status, EnrollmentStatus::CheckedOut as i32);
        assert_eq!(request.after, "UDID-1:U");
        assert_eq!(request.limit, 50);
        let all = list_request(None).expect("no query");
        assert_eq!(all.status, EnrollmentStatus::Unspecified as i32);
        assert_eq!(all.limit, 0, "the service's default");
    }

    #[test]
    fn bad_listing_queries_are_400() {
        for query in ["status=lost", "limit=5000", "page=2"] {
            let error = list_request(Some(query)).expect_err(query);
            assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{query}");
        }
    }
}
