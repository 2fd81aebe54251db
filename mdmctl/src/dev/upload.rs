//! Installing the push certificate through the admin API (`PUT /v1/push-certificate` on
//! admin-svc), as an administrator does with the one Apple issued, retried while the services
//! are still coming up. On later runs the same certificate is sent again, which push-svc
//! accepts (same topic). Also the HTTP client of the readiness probes.

use super::child::Children;
use super::layout::Layout;
use super::ready::{self, STARTUP};
use super::specs::{ADMIN_SVC, PUSH_SVC};
use crate::client::{Api, ApiError};
use crate::exit::Failure;
use anyhow::Context;
use base64::Engine as _;
use mdm_api::push::{PemUpload, PushCertificateUpload};
use reqwest::StatusCode;
use std::time::Duration;

/// Deadline of one probe.
const TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTP(S) client that trusts `ca_pem` (the development CA) only: the readiness probes'.
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

/// Uploads `identity_pem` (certificate and key) as the push certificate through `admin`,
/// retrying transient failures until [`STARTUP`] passes; a refusal is explained.
pub async fn install(
    children: &mut Children,
    layout: &Layout,
    admin: &Api,
    identity_pem: &str,
) -> anyhow::Result<()> {
    let body = PushCertificateUpload::Pem(PemUpload {
        pem: base64::engine::general_purpose::STANDARD.encode(identity_pem),
        key_pem: None,
        environment: None,
        new_topic: None,
    });
    let admin_log = layout.log_file(ADMIN_SVC);
    let uploaded = ready::until(
        children,
        "the push certificate upload",
        &admin_log,
        STARTUP,
        || async {
            match admin.upload_push_certificate(&body).await {
                Err(error) if error.is_transient() => Err(error.to_string()),
                done => Ok(done),
            }
        },
    )
    .await?;
    let Err(error) = uploaded else {
        return Ok(());
    };
    let hint = if matches!(error, ApiError::Refused { status, .. } if status == StatusCode::CONFLICT)
    {
        format!(
            "push-svc keeps a push certificate for another topic: the files in {} were replaced. Remove {} to start the push database afresh",
            layout.pki_dir().display(),
            layout.root().join("push.db").display()
        )
    } else {
        format!(
            "see {} and {}",
            admin_log.display(),
            layout.log_file(PUSH_SVC).display()
        )
    };
    Err(Failure {
        message: error.to_string(),
        hint: Some(hint),
    }
    .into())
}
