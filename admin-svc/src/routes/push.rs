//! `/v1/push` and `/v1/push-certificate`: wake devices now; install and read the MDM push
//! certificate.
//!
//! Certificates travel as base64 in JSON (`base64 -w0 push.pem` makes the value): a PEM with
//! certificate and key (the key may go apart in `key_pem`), or a PKCS#12 file with its password.

use super::{AppState, Failures};
use crate::auth::Caller;
use crate::convert;
use crate::error::ApiError;
use crate::extract::Body;
use axum::extract::State;
use axum::Json;
use base64::Engine;
use mdm_api::push::{PushCertificate, PushCertificateUpload, PushRequest, PushResult, PushResults};
use mdm_api::Page;
use mdm_proto::v1::{
    self, GetCertificateRequest, ListCertificatesRequest, UploadCertificateRequest,
};
use std::collections::BTreeMap;

const SERVICE: &str = "push-svc";

/// Wakes devices now, whatever their queues hold.
#[utoipa::path(post, path = "/v1/push", operation_id = "pushDevices", tag = "push",
    request_body = PushRequest,
    responses((status = 200, description = "One result per device, in request order", body = PushResults), Failures),
    security(("bearer" = ["commands"])))]
pub async fn push(
    caller: Caller,
    State(state): State<AppState>,
    Body(body): Body<PushRequest>,
) -> Result<Json<PushResults>, ApiError> {
    let answer = state
        .backends
        .push()
        .push(v1::PushRequest {
            enrollment_ids: body.devices,
            reason: format!("admin:{}", caller.name),
        })
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    let results: Vec<PushResult> = answer
        .results
        .into_iter()
        .map(|r| {
            let outcome = convert::push_outcome(r.outcome);
            *counts.entry(outcome.to_owned()).or_default() += 1;
            PushResult {
                enrollment_id: r.enrollment_id,
                outcome: outcome.to_owned(),
                reason: convert::text(r.reason),
                apns_status: u16::try_from(r.status).ok().filter(|s| *s != 0),
            }
        })
        .collect();
    tracing::info!(caller = %caller.name, devices = results.len(), ?counts, "push requested");
    Ok(Json(PushResults {
        results,
        counts,
        certificate_error: convert::text(answer.certificate_error),
    }))
}

/// Every topic's push certificate, in the order the topics were added (one page).
#[utoipa::path(get, path = "/v1/push-certificates", operation_id = "listPushCertificates", tag = "push",
    responses((status = 200, description = "The certificates", body = Page<PushCertificate>), Failures),
    security(("bearer" = ["read"])))]
pub async fn list_certificates(
    State(state): State<AppState>,
) -> Result<Json<Page<PushCertificate>>, ApiError> {
    let answer = state
        .backends
        .push()
        .list_certificates(ListCertificatesRequest {})
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    let items = answer
        .certificates
        .into_iter()
        .map(convert::push_certificate)
        .collect();
    Ok(Json(Page::new(items, None)))
}

/// The first topic's push certificate (404 before the first upload).
#[utoipa::path(get, path = "/v1/push-certificate", operation_id = "getPushCertificate", tag = "push",
    responses((status = 200, description = "The certificate", body = PushCertificate), Failures),
    security(("bearer" = ["read"])))]
pub async fn get_certificate(
    State(state): State<AppState>,
) -> Result<Json<PushCertificate>, ApiError> {
    let info = state
        .backends
        .push()
        .get_certificate(GetCertificateRequest {})
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    Ok(Json(convert::push_certificate(info)))
}

/// Installs a push certificate; pushes to its topic's devices use it at once. It replaces the
/// certificate of its own topic; a topic this server does not push yet needs `new_topic`
/// (without it a renewal whose topic changed is refused: it would cut off every device).
#[utoipa::path(put, path = "/v1/push-certificate", operation_id = "uploadPushCertificate", tag = "push",
    request_body = PushCertificateUpload,
    responses((status = 200, description = "The installed certificate", body = PushCertificate), Failures),
    security(("bearer" = ["push-certificate"])))]
pub async fn upload_certificate(
    caller: Caller,
    State(state): State<AppState>,
    Body(body): Body<PushCertificateUpload>,
) -> Result<Json<PushCertificate>, ApiError> {
    let request = upload_request(&caller.name, body)?;
    let info = state
        .backends
        .push()
        .upload_certificate(request)
        .await
        .map_err(|s| ApiError::backend(SERVICE, &s))?
        .into_inner();
    tracing::info!(target: "audit", caller = %caller.name, topic = %info.topic,
        version = info.version, "push certificate installed");
    Ok(Json(convert::push_certificate(info)))
}

/// The gRPC request of an upload: base64 decoded, a separate key appended to its certificate.
fn upload_request(
    uploaded_by: &str,
    body: PushCertificateUpload,
) -> Result<UploadCertificateRequest, ApiError> {
    let mut request = UploadCertificateRequest {
        uploaded_by: uploaded_by.to_owned(),
        ..Default::default()
    };
    let (environment, new_topic) = match body {
        PushCertificateUpload::Pem(pem) => {
            request.pem = base64("pem", &pem.pem)?;
            if let Some(key) = pem.key_pem {
                request.pem.push(b'\n');
                request.pem.extend(base64("key_pem", &key)?);
            }
            (pem.environment, pem.new_topic)
        }
        PushCertificateUpload::Pkcs12(p12) => {
            request.pkcs12 = base64("pkcs12", &p12.pkcs12)?;
            request.password = p12.password.unwrap_or_default();
            (p12.environment, p12.new_topic)
        }
    };
    request.new_topic = new_topic == Some(true);
    request.environment = environment.map_or("", |e| e.as_str()).to_owned();
    Ok(request)
}

/// Standard base64, line breaks and spaces allowed (a wrapped `base64` output works).
fn base64(field: &str, value: &str) -> Result<Vec<u8>, ApiError> {
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    match base64::engine::general_purpose::STANDARD.decode(compact) {
        Ok(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err(ApiError::Invalid(format!(
            "{field} is not base64 of a file"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn upload(value: serde_json::Value) -> Result<UploadCertificateRequest, String> {
        let body: PushCertificateUpload =
            serde_json::from_value(value).map_err(|e| e.to_string())?;
        upload_request("ops", body).map_err(|e| e.to_string())
    }

    #[test]
    fn an_upload_is_pem_or_pkcs12() {
        let request = upload(json!({"pem": b64(b"CERT"), "key_pem": b64(b"KEY")})).expect("pem");
        assert_eq!(request.pem, b"CERT\nKEY");
        assert_eq!(request.uploaded_by, "ops");
        let request =
            upload(json!({"pkcs12": b64(b"P12"), "password": "pw", "environment": "sandbox"}))
                .expect("p12");
        assert_eq!(
            (
                request.pkcs12.as_slice(),
                request.password.as_str(),
                request.environment.as_str()
            ),
            (&b"P12"[..], "pw", "sandbox")
        );
        for bad in [
            json!({}),
            json!({"pem": b64(b"x"), "pkcs12": b64(b"y")}),
            json!({"pem": "not base64!"}),
            json!({"pem": ""}),
            json!({"pem": b64(b"x"), "extra": 1}),
            json!({"pem": b64(b"x"), "environment": "staging"}),
        ] {
            assert!(upload(bad.clone()).is_err(), "{bad}");
        }
    }
}
