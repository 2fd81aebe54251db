//! `/v1/summary`: the web console's dashboard in one request. The three services are asked at
//! once, each one small counting RPC over its indexes, and the push certificate beside them;
//! any of them failing fails the request, so a count is never a silent zero.

use super::{AppState, Failures};
use crate::backends::Backends;
use crate::convert;
use crate::error::{self, ApiError};
use axum::extract::State;
use axum::Json;
use mdm_api::push::PushCertificate;
use mdm_api::summary::{CommandSummary, DeviceCounts, Summary};
use mdm_proto::v1::{
    CountEnrollmentsRequest, CountEnrollmentsResponse, CountTargetsRequest, CountTargetsResponse,
    GetCertificateRequest, SummarizeDeliveriesRequest, SummarizeDeliveriesResponse,
};

/// The dashboard's window for "lately" (seen, errors): 24 hours.
const DAY_MS: i64 = 86_400_000;

/// The latest errors the dashboard lists.
const RECENT_ERRORS: u32 = 10;

/// Device counts, the command queue at a glance and the push certificate.
#[utoipa::path(get, path = "/v1/summary", operation_id = "getSummary", tag = "devices",
    responses((status = 200, description = "The fleet at a glance", body = Summary), Failures),
    security(("bearer" = ["read"])))]
pub async fn get(State(state): State<AppState>) -> Result<Json<Summary>, ApiError> {
    let backends = &state.backends;
    let (enrollments, deliveries, targets, certificate) = futures::try_join!(
        count_enrollments(backends),
        summarize_deliveries(backends),
        count_targets(backends),
        push_certificate(backends),
    )?;
    Ok(Json(Summary {
        devices: device_counts(&enrollments, &targets),
        commands: command_summary(deliveries),
        push_certificate: certificate,
    }))
}

/// enroll-svc's enrollments per status, those seen within a day, and identities expiring
/// within 30 days.
async fn count_enrollments(backends: &Backends) -> Result<CountEnrollmentsResponse, ApiError> {
    let request = CountEnrollmentsRequest {
        seen_within_ms: DAY_MS,
        expiring_within_ms: 30 * DAY_MS,
    };
    let answer = backends.enroll().count_enrollments(request).await;
    Ok(answer
        .map_err(|s| ApiError::backend("enroll-svc", &s))?
        .into_inner())
}

/// command-svc's queue: in flight, errors within a day, the latest errors.
async fn summarize_deliveries(
    backends: &Backends,
) -> Result<SummarizeDeliveriesResponse, ApiError> {
    let request = SummarizeDeliveriesRequest {
        window_ms: DAY_MS,
        recent_errors: RECENT_ERRORS,
    };
    let answer = backends.commands().summarize_deliveries(request).await;
    Ok(answer
        .map_err(|s| ApiError::backend("command-svc", &s))?
        .into_inner())
}

/// push-svc's targets per status.
async fn count_targets(backends: &Backends) -> Result<CountTargetsResponse, ApiError> {
    let answer = backends.push().count_targets(CountTargetsRequest {}).await;
    Ok(answer
        .map_err(|s| ApiError::backend("push-svc", &s))?
        .into_inner())
}

/// The installed push certificate, `None` before the first upload.
async fn push_certificate(backends: &Backends) -> Result<Option<PushCertificate>, ApiError> {
    let answer = backends
        .push()
        .get_certificate(GetCertificateRequest {})
        .await;
    Ok(error::optional("push-svc", answer)?.map(convert::push_certificate))
}

/// The devices' counts from enroll-svc's and push-svc's answers.
fn device_counts(e: &CountEnrollmentsResponse, t: &CountTargetsResponse) -> DeviceCounts {
    DeviceCounts {
        total: e.total,
        authenticated: e.authenticated,
        enrolled: e.enrolled,
        checked_out: e.checked_out,
        seen_last_24h: e.seen_recently,
        inactive: t.inactive,
        identities_expiring_30d: e.identities_expiring,
    }
}

/// The queue's summary, each error converted as every delivery listing converts it.
fn command_summary(d: SummarizeDeliveriesResponse) -> CommandSummary {
    CommandSummary {
        in_flight: d.in_flight,
        errors_last_24h: d.errors_in_window,
        recent_errors: d.recent_errors.into_iter().map(convert::delivery).collect(),
    }
}
