//! The device's HTTPS client for the enrollment listener: server TLS only (a device has no
//! identity yet), trusting the given CA, with timeouts, and every answer's body bounded.

use super::error::{EnrollmentError, Step};
use reqwest::{header, Url};
use std::time::Duration;

/// Largest answer body read: profiles and SCEP replies are a few KiB.
pub const MAX_BODY: usize = 1 << 20;
/// How much of a refusal's body goes into the error.
const REFUSAL_TEXT: usize = 200;
/// Whole-request timeout.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Connection timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An answer with status 200.
#[derive(Debug)]
pub struct Answer {
    /// Its `Content-Type`, empty when absent.
    pub content_type: String,
    /// Its body.
    pub body: Vec<u8>,
}

/// The client.
#[derive(Debug, Clone)]
pub struct Wire {
    client: reqwest::Client,
}

impl Wire {
    /// A client trusting the certificates in `server_ca_pem` only.
    pub fn new(server_ca_pem: &str, step: Step) -> Result<Wire, EnrollmentError> {
        let roots = reqwest::Certificate::from_pem_bundle(server_ca_pem.as_bytes())
            .map_err(|e| EnrollmentError::device(step, format!("the server CA: {e}")))?;
        if roots.is_empty() {
            return Err(EnrollmentError::device(
                step,
                "the server CA PEM holds no certificate",
            ));
        }
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .http1_only()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT);
        for root in roots {
            builder = builder.add_root_certificate(root);
        }
        let client = builder
            .build()
            .map_err(|e| EnrollmentError::device(step, format!("HTTPS client: {e}")))?;
        Ok(Wire { client })
    }

    /// GETs `url`.
    pub async fn get(
        &self,
        step: Step,
        request: &'static str,
        url: Url,
    ) -> Result<Answer, EnrollmentError> {
        let response = self.client.get(url).send().await;
        read(step, request, response).await
    }

    /// POSTs `body` to `url`.
    pub async fn post(
        &self,
        step: Step,
        request: &'static str,
        url: Url,
        content_type: &'static str,
        body: Vec<u8>,
    ) -> Result<Answer, EnrollmentError> {
        let response = self
            .client
            .post(url)
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await;
        read(step, request, response).await
    }
}

/// `base` (`https://host:port`, perhaps with a path prefix) with `path` and `query` appended;
/// the query is percent-encoded.
pub fn endpoint(
    step: Step,
    base: &str,
    path: &str,
    query: &[(&str, &str)],
) -> Result<Url, EnrollmentError> {
    let mut url = parse(step, &format!("{}{path}", base.trim_end_matches('/')))?;
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

/// A URL the server gave (a Profile Service URL, a SCEP URL).
pub fn parse(step: Step, url: &str) -> Result<Url, EnrollmentError> {
    let parsed = Url::parse(url)
        .map_err(|e| EnrollmentError::unexpected(step, format!("bad URL {url:?}: {e}")))?;
    if parsed.scheme() != "https" {
        return Err(EnrollmentError::unexpected(
            step,
            format!("{url:?} is not an https URL"),
        ));
    }
    Ok(parsed)
}

async fn read(
    step: Step,
    request: &'static str,
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<Answer, EnrollmentError> {
    let http = |source| EnrollmentError::Http {
        step,
        request,
        source,
    };
    let mut response = response.map_err(http)?;
    if response
        .content_length()
        .is_some_and(|length| length > MAX_BODY as u64)
    {
        return Err(EnrollmentError::TooLarge {
            step,
            request,
            limit: MAX_BODY,
        });
    }
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(http)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(EnrollmentError::TooLarge {
                step,
                request,
                limit: MAX_BODY,
            });
        }
        body.extend_from_slice(&chunk);
    }
    if status != reqwest::StatusCode::OK {
        let text = String::from_utf8_lossy(&body);
        return Err(EnrollmentError::Refused {
            step,
            request,
            status: status.as_u16(),
            body: text.trim().chars().take(REFUSAL_TEXT).collect(),
        });
    }
    Ok(Answer { content_type, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_keep_a_path_prefix_and_encode_the_query() {
        let url = endpoint(
            Step::DirectProfile,
            "https://mdm.example.com/base/",
            "/enroll/profile",
            &[("token", "a+b/c=")],
        )
        .expect("url");
        assert_eq!(
            url.as_str(),
            "https://mdm.example.com/base/enroll/profile?token=a%2Bb%2Fc%3D"
        );
        let plain = endpoint(Step::DirectProfile, "https://h:1", "/scep", &[]).expect("url");
        assert_eq!(plain.as_str(), "https://h:1/scep");
    }

    #[test]
    fn only_https_urls_are_followed() {
        let error = parse(Step::OtaDeviceAttributes, "http://h/enroll").expect_err("http");
        assert_eq!(error.step(), Step::OtaDeviceAttributes);
        assert!(parse(Step::MdmIdentity, "not a url").is_err());
    }
}
