//! `/v1/devices`: enrollments (enroll-svc) with their push state (push-svc), installed apps,
//! command history (command-svc) and re-enrollment approvals.

use super::{AppState, Failures};
use crate::auth::Caller;
use crate::convert;
use crate::cursor;
use crate::error::{self, ApiError};
use crate::extract::{Body, Param, Query};
use axum::extract::State;
use axum::Json;
use mdm_api::devices::{App, Approval, ApprovalRequest, Delivery, Device, DeviceQuery, DeviceSort};
use mdm_api::{Cursor, Page};
use mdm_proto::v1::{
    ApproveReenrollmentRequest, DeviceOrder, GetEnrollmentRequest, GetIssuedCertificateRequest,
    GetTargetRequest, ListAppsRequest, ListEnrollmentCommandsRequest, ListEnrollmentsRequest,
};

/// Devices in enrollment-ID order (or by name or last contact), filtered on the server.
#[utoipa::path(get, path = "/v1/devices", operation_id = "listDevices", tag = "devices",
    params(DeviceQuery),
    responses((status = 200, description = "A page of devices", body = Page<Device>), Failures),
    security(("bearer" = ["read"])))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<DeviceQuery>,
) -> Result<Json<Page<Device>>, ApiError> {
    // A cursor names its order: one made for another order is refused, not misread.
    let sort = query.sort.unwrap_or(DeviceSort::Id);
    let descending = query.descending.unwrap_or(false);
    let list = match (sort, descending) {
        (DeviceSort::Id, _) => "devices",
        (DeviceSort::Name, false) => "devices-by-name",
        (DeviceSort::Name, true) => "devices-by-name-desc",
        (DeviceSort::LastSeen, false) => "devices-by-last-seen",
        (DeviceSort::LastSeen, true) => "devices-by-last-seen-desc",
    };
    let after = cursor::decode(list, query.cursor.as_deref())?.unwrap_or_default();
    let time = |field: &str, value: Option<&str>| -> Result<i64, ApiError> {
        match value {
            None => Ok(0),
            Some(text) => convert::parse_time(text)
                .ok_or_else(|| ApiError::Invalid(format!("{field} is not an RFC 3339 time"))),
        }
    };
    let limit = cursor::limit(query.limit);
    let request = ListEnrollmentsRequest {
        status: query
            .status
            .map_or(0, |s| convert::enrollment_status_filter(s).into()),
        after,
        limit,
        serial_number: query.serial.unwrap_or_default(),
        model: query.model.unwrap_or_default(),
        os_version_prefix: query.os_version.unwrap_or_default(),
        name_prefix: query.name.unwrap_or_default(),
        last_seen_after_ms: time("last_seen_after", query.last_seen_after.as_deref())?,
        last_seen_before_ms: time("last_seen_before", query.last_seen_before.as_deref())?,
        order: match sort {
            DeviceSort::Id => DeviceOrder::Id,
            DeviceSort::Name => DeviceOrder::Name,
            DeviceSort::LastSeen => DeviceOrder::LastSeen,
        }
        .into(),
        descending: descending && sort != DeviceSort::Id,
    };
    let answer = state
        .backends
        .enroll()
        .list_enrollments(request)
        .await
        .map_err(|s| ApiError::backend("enroll-svc", &s))?
        .into_inner();
    Ok(cursor::page(
        list,
        answer.enrollments,
        convert::device,
        &answer.next_after,
    ))
}

/// One device, with its push state and identity certificate.
#[utoipa::path(get, path = "/v1/devices/{id}", operation_id = "getDevice", tag = "devices",
    params(("id" = String, Path, description = "Enrollment ID", min_length = 1, max_length = 513, pattern = r"^[^\x00-\x1F\x7F]+$")),
    responses((status = 200, description = "The device", body = Device), Failures),
    security(("bearer" = ["read"])))]
pub async fn get(
    State(state): State<AppState>,
    Param(id): Param,
) -> Result<Json<Device>, ApiError> {
    let info = state
        .backends
        .enroll()
        .get_enrollment(GetEnrollmentRequest {
            enrollment_id: id.clone(),
        })
        .await
        .map_err(|s| ApiError::backend("enroll-svc", &s))?
        .into_inner();
    let mut device = convert::device(info);
    let push = async {
        let target = state
            .backends
            .push()
            .get_target(GetTargetRequest {
                enrollment_id: id.clone(),
            })
            .await;
        Ok::<_, ApiError>(error::optional("push-svc", target)?.map(convert::push_state))
    };
    let identity = async {
        let Some(sha256) = device.cert_sha256.clone() else {
            return Ok(None);
        };
        let certificate = state
            .backends
            .provisioning()
            .get_issued_certificate(GetIssuedCertificateRequest {
                serial: String::new(),
                sha256,
            })
            .await;
        // None: an identity this CA did not issue (pre-issued, or from a migrated server).
        Ok(error::optional("enroll-svc", certificate)?.map(convert::issued_certificate))
    };
    let (push, identity) = futures::try_join!(push, identity)?;
    device.push = push;
    device.identity_certificate = identity;
    Ok(Json(device))
}

/// A device's queue and history, newest command first.
#[utoipa::path(get, path = "/v1/devices/{id}/commands", operation_id = "listDeviceCommands", tag = "devices",
    params(("id" = String, Path, description = "Enrollment ID", min_length = 1, max_length = 513, pattern = r"^[^\x00-\x1F\x7F]+$"), Cursor),
    responses((status = 200, description = "A page of deliveries", body = Page<Delivery>), Failures),
    security(("bearer" = ["read"])))]
pub async fn commands(
    State(state): State<AppState>,
    Param(id): Param,
    Query(page): Query<Cursor>,
) -> Result<Json<Page<Delivery>>, ApiError> {
    let before = cursor::decode("device-commands", page.cursor.as_deref())?.unwrap_or_default();
    let answer = state
        .backends
        .commands()
        .list_enrollment_commands(ListEnrollmentCommandsRequest {
            enrollment_id: id,
            limit: cursor::limit(page.limit),
            before,
        })
        .await
        .map_err(|s| ApiError::backend("command-svc", &s))?
        .into_inner();
    Ok(cursor::page(
        "device-commands",
        answer.deliveries,
        convert::delivery,
        &answer.next_before,
    ))
}

/// The apps of a device's last InstalledApplicationList answer, by identifier.
#[utoipa::path(get, path = "/v1/devices/{id}/apps", operation_id = "listDeviceApps", tag = "devices",
    params(("id" = String, Path, description = "Enrollment ID", min_length = 1, max_length = 513, pattern = r"^[^\x00-\x1F\x7F]+$"), Cursor),
    responses((status = 200, description = "A page of apps", body = Page<App>), Failures),
    security(("bearer" = ["read"])))]
pub async fn apps(
    State(state): State<AppState>,
    Param(id): Param,
    Query(page): Query<Cursor>,
) -> Result<Json<Page<App>>, ApiError> {
    let after = cursor::decode("apps", page.cursor.as_deref())?.unwrap_or_default();
    let answer = state
        .backends
        .enroll()
        .list_apps(ListAppsRequest {
            enrollment_id: id,
            after,
            limit: cursor::limit(page.limit),
        })
        .await
        .map_err(|s| ApiError::backend("enroll-svc", &s))?
        .into_inner();
    Ok(cursor::page(
        "apps",
        answer.apps,
        convert::app,
        &answer.next_after,
    ))
}

/// Lets the device's next Authenticate bind a new certificate (used once; audited). Needs
/// `destructive`: it hands the device's management channel to whoever presents one.
#[utoipa::path(post, path = "/v1/devices/{id}/approve-reenrollment", operation_id = "approveReenrollment", tag = "devices",
    params(("id" = String, Path, description = "The device channel's enrollment ID", min_length = 1, max_length = 513, pattern = r"^[^\x00-\x1F\x7F]+$")),
    request_body = ApprovalRequest,
    responses((status = 200, description = "Approved", body = Approval), Failures),
    security(("bearer" = ["destructive"])))]
pub async fn approve_reenrollment(
    caller: Caller,
    State(state): State<AppState>,
    Param(id): Param,
    Body(body): Body<ApprovalRequest>,
) -> Result<Json<Approval>, ApiError> {
    if body.reason.trim().is_empty() {
        return Err(ApiError::Invalid(
            "reason: say why; it is kept in the audit log".into(),
        ));
    }
    let approval = state
        .backends
        .enroll()
        .approve_reenrollment(ApproveReenrollmentRequest {
            enrollment_id: id,
            approved_by: caller.name,
            reason: body.reason,
            ttl_seconds: body.ttl_seconds.unwrap_or(0),
        })
        .await
        .map_err(|s| ApiError::backend("enroll-svc", &s))?
        .into_inner();
    Ok(Json(Approval {
        enrollment_id: approval.enrollment_id,
        approved_by: approval.approved_by,
        reason: approval.reason,
        created_at: convert::time(approval.created_at_ms),
        expires_at: convert::time(approval.expires_at_ms),
    }))
}
