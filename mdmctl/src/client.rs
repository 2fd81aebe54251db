//! The admin API client: one method per route of `proxy/openapi.json`, bearer authentication,
//! and every failure turned into an [`ApiError`] with advice.
//!
//! - [`model`]: the JSON documents.
//! - [`error`]: failures and their hints.

pub mod error;
pub mod model;

pub use error::ApiError;

use crate::cli::GlobalArgs;
use crate::config::{self, Connection, Env};
use crate::exit::Failure;
use anyhow::Context;
use model::{
    Cancelled, Command, DeliveryList, DeviceList, Enqueued, Enrollment, EnrollmentToken,
    EnrollmentTokenList, ErrorBody, PushCertificate, PushResponse,
};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// How long one request may take. Queueing a command for 100,000 devices takes about a second
/// on the server; this leaves room for a slow link.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long connecting (TCP and TLS) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client of one server's admin API.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: Url,
    token: String,
}

impl Api {
    /// The client for this run's settings (flags, environment, config file).
    pub fn connect(global: &GlobalArgs, env: &Env) -> anyhow::Result<Api> {
        let (resolved, _) = config::load(global, env)?;
        Api::new(resolved.connection()?)
    }

    /// A client for `connection`: the public roots plus the CA file, if any.
    pub fn new(connection: Connection) -> anyhow::Result<Api> {
        Ok(Api {
            http: http_client(connection.ca_file.as_deref())?,
            base: connection.url,
            token: connection.token,
        })
    }

    /// The server's base URL as given, for messages.
    pub fn base(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// `GET /v1/devices`: one page.
    pub async fn devices_page(
        &self,
        status: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<DeviceList, ApiError> {
        let mut query = vec![("limit", limit.to_string())];
        query.extend(status.map(|s| ("status", s.to_owned())));
        query.extend(after.map(|a| ("after", a.to_owned())));
        self.call(Method::GET, &["v1", "devices"], &query, None)
            .await
    }

    /// `GET /v1/devices/{id}`.
    pub async fn device(&self, id: &str) -> Result<Enrollment, ApiError> {
        self.call(Method::GET, &["v1", "devices", id], &[], None)
            .await
    }

    /// `GET /v1/devices/{id}/commands`: newest first.
    pub async fn device_commands(
        &self,
        id: &str,
        limit: Option<u32>,
    ) -> Result<DeliveryList, ApiError> {
        let query: Vec<_> = limit
            .map(|l| ("limit", l.to_string()))
            .into_iter()
            .collect();
        self.call(
            Method::GET,
            &["v1", "devices", id, "commands"],
            &query,
            None,
        )
        .await
    }

    /// `POST /v1/commands` with an `EnqueueRequest` body.
    pub async fn enqueue(&self, body: &Value) -> Result<Enqueued, ApiError> {
        self.call(Method::POST, &["v1", "commands"], &[], Some(body))
            .await
    }

    /// `GET /v1/commands/{uuid}`.
    pub async fn command(&self, uuid: &str) -> Result<Command, ApiError> {
        self.call(Method::GET, &["v1", "commands", uuid], &[], None)
            .await
    }

    /// `DELETE /v1/commands/{uuid}`.
    pub async fn cancel(&self, uuid: &str) -> Result<Cancelled, ApiError> {
        self.call(Method::DELETE, &["v1", "commands", uuid], &[], None)
            .await
    }

    /// `POST /v1/push`: wakes `devices` now, one result per device.
    pub async fn push(&self, devices: &[String]) -> Result<PushResponse, ApiError> {
        let body = serde_json::json!({ "devices": devices });
        self.call(Method::POST, &["v1", "push"], &[], Some(&body))
            .await
    }

    /// `GET /v1/push-certificate`.
    pub async fn push_certificate(&self) -> Result<PushCertificate, ApiError> {
        self.call(Method::GET, &["v1", "push-certificate"], &[], None)
            .await
    }

    /// `PUT /v1/push-certificate` with a `PushCertificateUpload` body.
    pub async fn upload_push_certificate(&self, body: &Value) -> Result<PushCertificate, ApiError> {
        self.call(Method::PUT, &["v1", "push-certificate"], &[], Some(body))
            .await
    }

    /// `POST /v1/enrollment-tokens` with an `EnrollmentTokenRequest` body.
    pub async fn create_enrollment_token(&self, body: &Value) -> Result<EnrollmentToken, ApiError> {
        self.call(Method::POST, &["v1", "enrollment-tokens"], &[], Some(body))
            .await
    }

    /// `GET /v1/enrollment-tokens`: newest first; revoked, expired and used-up ones too when
    /// `include_inactive`.
    pub async fn enrollment_tokens(
        &self,
        include_inactive: bool,
    ) -> Result<EnrollmentTokenList, ApiError> {
        let query = [("include_inactive", include_inactive.to_string())];
        self.call(Method::GET, &["v1", "enrollment-tokens"], &query, None)
            .await
    }

    /// `DELETE /v1/enrollment-tokens/{id}`.
    pub async fn revoke_enrollment_token(&self, id: &str) -> Result<EnrollmentToken, ApiError> {
        self.call(Method::DELETE, &["v1", "enrollment-tokens", id], &[], None)
            .await
    }

    /// The base URL with `segments` appended, each percent-encoded (a user channel's ID holds a
    /// `:`, and an ID must never be able to add a path segment).
    fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            // `config::parse_url` refused cannot-be-a-base URLs, so this always runs.
            path.pop_if_empty().extend(segments);
        }
        url.set_query(None);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<T, ApiError> {
        let url = self.url(segments, query);
        let mut request = self
            .http
            .request(method, url.clone())
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let transport = |e| ApiError::transport(self.base(), e);
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        if !status.is_success() {
            return Err(refused(status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| ApiError::BadAnswer {
            url: url.to_string(),
            detail: format!("HTTP {status} with a body that is not the expected JSON: {e}"),
        })
    }
}

/// The HTTPS client every request uses: rustls, timeouts, the public roots plus `ca_file`.
fn http_client(ca_file: Option<&Path>) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        // rustls explicitly: its errors are what `ApiError::transport` recognises.
        .use_rustls_tls()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("mdmctl/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = ca_file {
        let refusal = |why: String| {
            Failure {
            message: format!("CA file {} cannot be used: {why}", path.display()),
            hint: Some(
                "pass --ca-file (or MDM_CA_FILE / mdmctl config set ca-file) with the PEM of the CA that signed the server's certificate"
                    .into(),
            ),
        }
        };
        let pem = std::fs::read(path).map_err(|e| refusal(e.to_string()))?;
        let certificates =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| refusal(e.to_string()))?;
        if certificates.is_empty() {
            return Err(refusal("it holds no PEM certificate".into()).into());
        }
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().context("setting up the HTTPS client")
}

/// `GET url` without the admin token (the enrollment listener's public routes): the body of a
/// 2xx answer, or the failure classified like the admin API's.
pub async fn fetch(ca_file: Option<&Path>, url: Url) -> anyhow::Result<Vec<u8>> {
    let http = http_client(ca_file)?;
    let mut base = url.clone();
    base.set_query(None);
    base.set_path("");
    let base = base.as_str().trim_end_matches('/').to_owned();
    let transport = |e| ApiError::transport(&base, e);
    let response = http.get(url).send().await.map_err(transport)?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(transport)?;
    if !status.is_success() {
        return Err(refused(status, &bytes).into());
    }
    Ok(bytes.to_vec())
}

/// The API's error body, or what can be said without one (a load balancer's HTML page).
fn refused(status: reqwest::StatusCode, body: &[u8]) -> ApiError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(error) if !error.error.is_empty() => ApiError::Refused {
            status,
            code: error.error,
            message: error.message,
        },
        _ => ApiError::Refused {
            status,
            code: "-".into(),
            message: status
                .canonical_reason()
                .unwrap_or("no error body")
                .to_lowercase(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(base: &str) -> Api {
        Api::new(Connection {
            url: config::parse_url(base).expect("url"),
            token: "t".into(),
            ca_file: None,
        })
        .expect("client")
    }

    #[test]
    fn ids_are_one_encoded_path_segment() {
        let api = api("https://mdm.example:9443");
        let url = api.url(&["v1", "devices", "UDID-1:USER/2"], &[]);
        assert_eq!(
            url.as_str(),
            "https://mdm.example:9443/v1/devices/UDID-1:USER%2F2"
        );
        let url = api.url(
            &["v1", "devices"],
            &[("after", "A:B&c".into()), ("limit", "5".into())],
        );
        assert_eq!(
            url.as_str(),
            "https://mdm.example:9443/v1/devices?after=A%3AB%26c&limit=5"
        );
    }

    #[test]
    fn a_base_path_is_kept() {
        let api = api("https://gw.example/mdm/");
        assert_eq!(
            api.url(&["v1", "commands"], &[]).as_str(),
            "https://gw.example/mdm/v1/commands"
        );
        assert_eq!(api.base(), "https://gw.example/mdm");
    }

    #[test]
    fn error_bodies_are_read_and_missing_ones_described() {
        let body = br#"{"error":"not_found","message":"no such command"}"#;
        match refused(reqwest::StatusCode::NOT_FOUND, body) {
            ApiError::Refused { code, message, .. } => {
                assert_eq!(
                    (code.as_str(), message.as_str()),
                    ("not_found", "no such command")
                )
            }
            other => panic!("{other:?}"),
        }
        match refused(reqwest::StatusCode::BAD_GATEWAY, b"<html>") {
            ApiError::Refused { code, message, .. } => {
                assert_eq!((code.as_str(), message.as_str()), ("-", "bad gateway"))
            }
            other => panic!("{other:?}"),
        }
    }
}
