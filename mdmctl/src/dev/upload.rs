//! Installing the push certificate through the admin API (`PUT /v1/push-certificate`), as an
//! administrator does with the one Apple issued. On later runs the same certificate is sent
//! again, which push-svc accepts (same topic).

use anyhow::Context;
use serde_json::json;
use std::time::Duration;

/// Deadline of one admin request.
const TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTPS client that trusts `ca_pem` (the development CA) only.
pub fn https_client(ca_pem: &str) -> anyhow::Result<reqwest::Client> {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes())
        .context("reading the development CA certificate")?;
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .timeout(TIMEOUT)
        .build()
        .context("setting up the HTTPS client")
}

/// Why an upload did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadError {
    /// Not reachable or not ready yet (transport error, 5xx): worth trying again.
    Retry(String),
    /// Refused (4xx): trying again changes nothing.
    Refused {
        /// The HTTP status.
        status: u16,
        /// What was answered.
        message: String,
    },
}

/// Uploads `identity_pem` (certificate and key) as the push certificate.
pub async fn push_certificate(
    client: &reqwest::Client,
    admin_url: &str,
    token: &str,
    identity_pem: &str,
) -> Result<(), UploadError> {
    let body = json!({ "pem": openssl::base64::encode_block(identity_pem.as_bytes()) });
    let url = format!("{admin_url}/v1/push-certificate");
    let response = client
        .put(&url)
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| UploadError::Retry(format!("PUT {url}: {e}")))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let text = response.text().await.unwrap_or_default();
    let message = format!("PUT {url} answered {status}: {}", text.trim());
    if status.is_client_error() {
        Err(UploadError::Refused {
            status: status.as_u16(),
            message,
        })
    } else {
        Err(UploadError::Retry(message))
    }
}
