//! `/v1/push` and `/v1/push-certificate`: wake devices now, install and read the MDM push
//! certificate. A device's push state is rendered here too, for `/v1/devices/{id}`.
//!
//! Certificates travel as base64 in JSON: `{"pem": "<base64 of the PEM with certificate and
//! key>"}` (a separate key file may go in `key_pem`), or `{"pkcs12": "<base64 of the .p12>",
//! "password": "…"}`; `base64 -w0 push.pem` makes the value.

use super::auth::Caller;
use super::error::AdminError;
use super::render::{timestamp, Reply};
use crate::backends::Backends;
use base64::Engine;
use http::StatusCode;
use mdm_proto::v1::{
    CertificateInfo, GetCertificateRequest, PushOutcome, PushRequest, PushSummary, PushTarget,
    PushTargetStatus, UploadCertificateRequest,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};

/// Most devices one push request may name.
pub const MAX_DEVICES: usize = 100_000;

const SERVICE: &str = "push-svc";

/// The body of `POST /v1/push`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PushBody {
    devices: Vec<String>,
}

/// The body of `PUT /v1/push-certificate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadBody {
    #[serde(default)]
    pem: Option<String>,
    #[serde(default)]
    key_pem: Option<String>,
    #[serde(default)]
    pkcs12: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    environment: Option<String>,
}

/// `POST /v1/push` → one result per device.
pub async fn push(backends: &Backends, caller: &Caller, body: &[u8]) -> Result<Reply, AdminError> {
    let body: PushBody =
        serde_json::from_slice(body).map_err(|e| AdminError::InvalidJson(e.to_string()))?;
    if body.devices.is_empty() || body.devices.len() > MAX_DEVICES {
        return Err(AdminError::Invalid(format!(
            "devices must name 1 to {MAX_DEVICES} devices"
        )));
    }
    let mut seen = HashSet::with_capacity(body.devices.len());
    if let Some(id) = body
        .devices
        .iter()
        .find(|id| id.trim().is_empty() || id.chars().any(char::is_control) || !seen.insert(*id))
    {
        return Err(AdminError::Invalid(format!(
            "device ID {:?} is empty, repeated or holds a control character",
            id.chars().take(64).collect::<String>()
        )));
    }
    let answer = backends
        .push_client()
        .push(PushRequest {
            enrollment_ids: body.devices,
            reason: format!("admin:{}", caller.name),
        })
        .await
        .map_err(|status| AdminError::backend(SERVICE, &status))?
        .into_inner();
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    let results: Vec<Value> = answer
        .results
        .iter()
        .map(|r| {
            let outcome = outcome_name(r.outcome);
            *counts.entry(outcome).or_default() += 1;
            json!({
                "enrollment_id": r.enrollment_id,
                "outcome": outcome,
                "reason": text(&r.reason),
                "apns_status": if r.status == 0 { Value::Null } else { json!(r.status) },
            })
        })
        .collect();
    tracing::info!(caller = %caller.name, devices = results.len(), ?counts, "push requested");
    Ok(Reply::json(
        StatusCode::OK,
        &json!({
            "results": results,
            "counts": counts,
            "certificate_error": text(&answer.certificate_error),
        }),
    ))
}

/// `GET /v1/push-certificate`.
pub async fn get_certificate(backends: &Backends) -> Result<Reply, AdminError> {
    let info = backends
        .push_client()
        .get_certificate(GetCertificateRequest {})
        .await
        .map_err(|status| AdminError::backend(SERVICE, &status))?
        .into_inner();
    Ok(Reply::json(StatusCode::OK, &certificate(&info)))
}

/// `PUT /v1/push-certificate` → the installed certificate.
pub async fn upload_certificate(
    backends: &Backends,
    caller: &Caller,
    body: &[u8],
) -> Result<Reply, AdminError> {
    let request = upload_request(caller, body)?;
    let info = backends
        .push_client()
        .upload_certificate(request)
        .await
        .map_err(|status| AdminError::backend(SERVICE, &status))?
        .into_inner();
    tracing::info!(caller = %caller.name, topic = %info.topic, version = info.version, "push certificate installed");
    Ok(Reply::json(StatusCode::OK, &certificate(&info)))
}

/// Validates an upload body and builds the gRPC request.
fn upload_request(caller: &Caller, body: &[u8]) -> Result<UploadCertificateRequest, AdminError> {
    let body: UploadBody =
        serde_json::from_slice(body).map_err(|e| AdminError::InvalidJson(e.to_string()))?;
    let decode = |field: &str, value: Option<String>| -> Result<Vec<u8>, AdminError> {
        let Some(value) = value else {
            return Ok(Vec::new());
        };
        let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| AdminError::Invalid(format!("{field} is not base64")))
    };
    let mut pem = decode("pem", body.pem)?;
    let key_pem = decode("key_pem", body.key_pem)?;
    let pkcs12 = decode("pkcs12", body.pkcs12)?;
    if !key_pem.is_empty() {
        pem.push(b'\n');
        pem.extend_from_slice(&key_pem);
    }
    if pem.is_empty() == pkcs12.is_empty() {
        return Err(AdminError::Invalid(
            "send pem (with key_pem when the key is a separate file) or pkcs12 with its password"
                .into(),
        ));
    }
    Ok(UploadCertificateRequest {
        pem,
        pkcs12,
        password: body.password.unwrap_or_default(),
        environment: body.environment.unwrap_or_default(),
        uploaded_by: caller.name.clone(),
    })
}

/// The current push certificate as administrators see it.
pub fn certificate(c: &CertificateInfo) -> Value {
    json!({
        "topic": c.topic,
        "subject": c.subject,
        "issuer": c.issuer,
        "serial_number": c.serial_number,
        "sha256": c.sha256,
        "environment": c.environment,
        "not_before": timestamp(c.not_before_ms),
        "not_after": timestamp(c.not_after_ms),
        "days_left": c.days_left,
        "warning": text(&c.warning),
        "uploaded_at": timestamp(c.uploaded_at_ms),
        "uploaded_by": text(&c.uploaded_by),
        "last_error": text(&c.last_error),
        "last_error_at": timestamp(c.last_error_at_ms),
        "version": c.version,
    })
}

/// A device's push state, for `GET /v1/devices/{id}`.
pub fn target(t: &PushTarget) -> Value {
    let status = match PushTargetStatus::try_from(t.status) {
        Ok(PushTargetStatus::Active) => "active",
        Ok(PushTargetStatus::Inactive) => "inactive",
        _ => "unspecified",
    };
    json!({
        "status": status,
        "flag": text(&t.flag),
        "token": t.token,
        "topic": t.topic,
        "registered_at": timestamp(t.registered_at_ms),
        "last_seen_at": timestamp(t.last_seen_at_ms),
        "last_push_at": timestamp(t.last_push_at_ms),
        "last_outcome": text(&t.last_outcome),
        "last_reason": text(&t.last_reason),
        "inactive_since": timestamp(t.inactive_since_ms),
    })
}

/// What the push after an enqueue did, for `POST /v1/commands`.
pub fn summary(s: &PushSummary) -> Value {
    if !s.attempted {
        return json!({ "attempted": false });
    }
    let outcomes: BTreeMap<&str, u32> = s.outcomes.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    json!({
        "attempted": true,
        "delivered": s.delivered,
        "not_delivered": s.not_delivered,
        "outcomes": outcomes,
        "error": text(&s.error),
    })
}

/// The API name of a push outcome.
pub fn outcome_name(outcome: i32) -> &'static str {
    match PushOutcome::try_from(outcome) {
        Ok(PushOutcome::Delivered) => "delivered",
        Ok(PushOutcome::NoTarget) => "no_target",
        Ok(PushOutcome::Inactive) => "inactive",
        Ok(PushOutcome::Unregistered) => "unregistered",
        Ok(PushOutcome::BadToken) => "bad_token",
        Ok(PushOutcome::CertificateRejected) => "certificate_rejected",
        Ok(PushOutcome::NoCertificate) => "no_certificate",
        Ok(PushOutcome::TopicMismatch) => "topic_mismatch",
        Ok(PushOutcome::Rejected) => "rejected",
        Ok(PushOutcome::Failed) => "failed",
        Ok(PushOutcome::Unspecified) | Err(_) => "unspecified",
    }
}

fn text(value: &str) -> Value {
    if value.is_empty() {
        Value::Null
    } else {
        Value::String(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::config::Scope;

    fn caller() -> Caller {
        Caller::new("ops", &[Scope::PushCertificate])
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn an_upload_is_pem_or_pkcs12() {
        let body = json!({"pem": b64(b"CERT"), "key_pem": b64(b"KEY")}).to_string();
        let request = upload_request(&caller(), body.as_bytes()).expect("pem");
        assert_eq!(request.pem, b"CERT\nKEY");
        assert_eq!(request.uploaded_by, "ops");
        let body =
            json!({"pkcs12": b64(b"P12"), "password": "pw", "environment": "sandbox"}).to_string();
        let request = upload_request(&caller(), body.as_bytes()).expect("p12");
        assert_eq!(
            (request.pkcs12.as_slice(), request.password.as_str()),
            (&b"P12"[..], "pw")
        );
        for bad in [
            json!({}),
            json!({"pem": b64(b"x"), "pkcs12": b64(b"y")}),
            json!({"pem": "not base64!"}),
            json!({"pem": b64(b"x"), "extra": 1}),
        ] {
            assert!(
                upload_request(&caller(), bad.to_string().as_bytes()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn outcomes_have_stable_names() {
        assert_eq!(
            outcome_name(PushOutcome::Unregistered as i32),
            "unregistered"
        );
        assert_eq!(outcome_name(99), "unspecified");
        let summary = summary(&PushSummary::default());
        assert_eq!(summary["attempted"], false);
    }
}
