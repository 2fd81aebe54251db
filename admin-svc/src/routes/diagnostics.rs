//! `/v1/diagnostics`: each service's view of itself, asked at once, for `mdmctl doctor`.
//! admin-svc diagnoses its own database the same way the services do theirs. A service that
//! does not answer within [`DEADLINE`] is reported as unreachable rather than failing the
//! request: the doctor needs the rest of the picture most when one part is down.

use super::{AppState, Failures};
use crate::store;
use axum::extract::State;
use axum::Json;
use mdm_api::diagnostics::{Diagnostics, Finding, ServiceDiagnosis};
use mdm_proto::v1::{self, DiagnoseRequest};
use std::time::Duration;

/// How long one service may take: longer than push-svc's APNs connect timeout (5 s by
/// default), short enough that a hung service does not hang the doctor.
const DEADLINE: Duration = Duration::from_secs(15);

/// Every service's database, migrations, clock and own concerns.
#[utoipa::path(get, path = "/v1/diagnostics", operation_id = "getDiagnostics", tag = "admin",
    responses((status = 200, description = "Each service's view of itself", body = Diagnostics), Failures),
    security(("bearer" = ["read"])))]
pub async fn get(State(state): State<AppState>) -> Json<Diagnostics> {
    let own = service_kit::diagnostics::Diagnosis::new(
        "admin-svc",
        state.store.db().clone(),
        &store::SQLITE_MIGRATIONS,
        &store::POSTGRES_MIGRATIONS,
    );
    let (own, enroll, command, push) = futures::join!(
        own.run(),
        ask(&state, "enroll-svc"),
        ask(&state, "command-svc"),
        ask(&state, "push-svc"),
    );
    Json(Diagnostics {
        services: vec![answered(own), enroll, command, push],
    })
}

/// One service's diagnosis, or why it could not be had.
async fn ask(state: &AppState, service: &'static str) -> ServiceDiagnosis {
    let mut client = state.backends.diagnostics(service);
    let call = client.diagnose(DiagnoseRequest {});
    let why = match tokio::time::timeout(DEADLINE, call).await {
        Ok(Ok(answer)) => return answered(answer.into_inner()),
        Ok(Err(status)) => format!("{:?}: {}", status.code(), status.message()),
        Err(_) => format!("no answer within {DEADLINE:?}"),
    };
    ServiceDiagnosis {
        service: service.to_owned(),
        reachable: false,
        error: Some(why),
        findings: Vec::new(),
        facts: Default::default(),
    }
}

fn answered(answer: v1::DiagnoseResponse) -> ServiceDiagnosis {
    ServiceDiagnosis {
        service: answer.service,
        reachable: true,
        error: None,
        findings: answer
            .findings
            .into_iter()
            .map(|f| Finding {
                name: f.name,
                ok: f.ok,
                detail: f.detail,
            })
            .collect(),
        facts: answer.facts.into_iter().collect(),
    }
}
