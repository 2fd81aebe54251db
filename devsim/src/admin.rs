//! The admin API calls the simulator makes (admin-svc's REST API, in the shapes of `mdm-api`):
//! queue a command to many devices, create an enrollment token for the enrollment flows, and read
//! a command, its deliveries (page by page: a command may have 10,000 targets and more) and a
//! device.
//!
//! A refusal is an [`AdminError`] inside the `anyhow::Error`, with the status and the problem
//! document (RFC 9457) the server answered: `err.downcast_ref::<AdminError>()` tells a 422 from a
//! 503.

use mdm_api::commands::{Command, DeliveryStatus, EnqueueRequest, Enqueued};
use mdm_api::devices::{Delivery, Device};
use mdm_api::enrollment::{CreatedEnrollmentToken, EnrollmentTokenRequest};
use mdm_api::page::MAX_LIMIT;
use mdm_api::{Page, Problem};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;

/// The largest answer read (one page of a thousand deliveries with their results fits easily).
const MAX_ANSWER: usize = 32 << 20;

/// A client of the admin API with a bearer token.
#[derive(Clone)]
pub struct AdminApi {
    url: reqwest::Url,
    token: String,
    client: reqwest::Client,
}

impl std::fmt::Debug for AdminApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminApi")
            .field("url", &self.url.as_str())
            .finish()
    }
}

/// The admin API refused a request, or answered something else than it documents.
#[derive(Debug, thiserror::Error)]
#[error("{method} {path} answered {status}: {}", self.detail())]
pub struct AdminError {
    /// The request's method.
    pub method: reqwest::Method,
    /// The request's path.
    pub path: String,
    /// The HTTP status answered.
    pub status: u16,
    /// The problem document, when the body was one.
    pub problem: Option<Problem>,
    /// The body, when it was not a problem document (bounded).
    pub body: String,
}

impl AdminError {
    /// The problem's stable code (`invalid_request`, `unavailable`, ...), if there was one.
    pub fn code(&self) -> Option<&str> {
        self.problem.as_ref().map(|p| p.code.as_str())
    }

    /// What the server said.
    pub fn detail(&self) -> String {
        match &self.problem {
            Some(problem) => format!("{} ({})", problem.detail, problem.code),
            None => self.body.clone(),
        }
    }
}

/// How many deliveries of `command` are in `status`.
pub fn count(command: &Command, status: DeliveryStatus) -> u32 {
    command
        .status_counts
        .get(status.as_str())
        .copied()
        .unwrap_or(0)
}

impl AdminApi {
    /// `url` is `https://host:port` (a path prefix is kept); its TLS certificate must chain to
    /// `ca_pem`.
    pub fn new(url: &str, token: &str, ca_pem: &str) -> anyhow::Result<AdminApi> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes())?)
            .timeout(Duration::from_secs(120))
            .build()?;
        let url = reqwest::Url::parse(url.trim_end_matches('/'))
            .map_err(|e| anyhow::anyhow!("admin API URL {url:?}: {e}"))?;
        anyhow::ensure!(
            !url.cannot_be_a_base(),
            "admin API URL {url} cannot take a path"
        );
        Ok(AdminApi {
            url,
            token: token.to_owned(),
            client,
        })
    }

    /// Queues `command` (the admin API's JSON form, e.g. `{"request_type": "SecurityInfo"}`)
    /// to `devices` (enrollment IDs); answers the CommandUUID.
    pub async fn enqueue(&self, devices: &[String], command: Value) -> anyhow::Result<String> {
        let Value::Object(command) = command else {
            anyhow::bail!("a command is a JSON object, not {command}");
        };
        let request = EnqueueRequest {
            devices: devices.to_vec(),
            command,
            priority: 0,
            expiry: None,
            idempotency_key: None,
            reason: None,
            push: None,
            allow_unknown: None,
            allow_unsupported: None,
        };
        Ok(self.submit(&request).await?.command_uuid)
    }

    /// `POST /v1/commands`: answers what was queued (and what the wake-up push did).
    pub async fn submit(&self, request: &EnqueueRequest) -> anyhow::Result<Enqueued> {
        self.call(
            reqwest::Method::POST,
            &["v1", "commands"],
            &[],
            Some(request),
        )
        .await
    }

    /// `POST /v1/commands` with a body of the caller's (any field of the API's).
    pub async fn enqueue_body(&self, body: Value) -> anyhow::Result<Enqueued> {
        self.call(reqwest::Method::POST, &["v1", "commands"], &[], Some(&body))
            .await
    }

    /// An enrollment token good for `uses` enrollments; answers its secret.
    pub async fn enrollment_token(&self, description: &str, uses: usize) -> anyhow::Result<String> {
        let request = EnrollmentTokenRequest {
            description: description.to_owned(),
            max_uses: Some(u32::try_from(uses.max(1))?),
            ..EnrollmentTokenRequest::default()
        };
        let created: CreatedEnrollmentToken = self
            .call(
                reqwest::Method::POST,
                &["v1", "enrollment-tokens"],
                &[],
                Some(&request),
            )
            .await?;
        Ok(created.secret)
    }

    /// `GET /v1/commands/<uuid>`: the command with its delivery counts.
    pub async fn command(&self, uuid: &str) -> anyhow::Result<Command> {
        self.call(
            reqwest::Method::GET,
            &["v1", "commands", uuid],
            &[],
            None::<&()>,
        )
        .await
    }

    /// Every delivery of the command `uuid` (in `status`, if given), in enrollment-ID order:
    /// `GET /v1/commands/<uuid>/deliveries`, following `next_cursor` to the last page.
    pub async fn deliveries(
        &self,
        uuid: &str,
        status: Option<DeliveryStatus>,
    ) -> anyhow::Result<Vec<Delivery>> {
        let limit = MAX_LIMIT.to_string();
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        loop {
            let mut query = vec![("limit", limit.as_str())];
            if let Some(status) = status {
                query.push(("status", status.as_str()));
            }
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor.as_str()));
            }
            let page: Page<Delivery> = self
                .call(
                    reqwest::Method::GET,
                    &["v1", "commands", uuid, "deliveries"],
                    &query,
                    None::<&()>,
                )
                .await?;
            all.extend(page.items);
            match page.next_cursor {
                None => return Ok(all),
                Some(next) => {
                    // A server that hands back a cursor twice would page forever.
                    anyhow::ensure!(
                        seen.insert(next.clone()),
                        "the deliveries of {uuid}: cursor {next:?} came back twice"
                    );
                    cursor = Some(next);
                }
            }
        }
    }

    /// `GET /v1/devices/<id>`: an enrollment as the admin API shows it, with its push state.
    pub async fn device(&self, enrollment_id: &str) -> anyhow::Result<Device> {
        self.call(
            reqwest::Method::GET,
            &["v1", "devices", enrollment_id],
            &[],
            None::<&()>,
        )
        .await
    }

    /// `GET <path>` (`/v1/...`, query included); answers the JSON of a 2xx, an error otherwise.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.raw(reqwest::Method::GET, path, None).await
    }

    /// `POST <path>` with a JSON body; answers the JSON of a 2xx, an error otherwise.
    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.raw(reqwest::Method::POST, path, Some(body)).await
    }

    /// `PUT <path>` with a JSON body; answers the JSON of a 2xx, an error otherwise.
    pub async fn put(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.raw(reqwest::Method::PUT, path, Some(body)).await
    }

    /// A request to the path of `segments` (each percent-encoded as one segment).
    async fn call<T: DeserializeOwned, B: Serialize>(
        &self,
        method: reqwest::Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<&B>,
    ) -> anyhow::Result<T> {
        let url = self.url(segments, query)?;
        let body = body.map(serde_json::to_vec).transpose()?;
        let bytes = self.send(method, url, body).await?;
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// The API's URL with the path of `segments` (each percent-encoded as one segment: an ID
    /// holding `/` or `?` stays one segment) and `query`.
    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> anyhow::Result<reqwest::Url> {
        let mut url = self.url.clone();
        url.path_segments_mut()
            .map_err(|()| anyhow::anyhow!("{} cannot take a path", self.url))?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// A request to `path` as given (relative to the API's URL).
    async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let base = self.url.as_str().trim_end_matches('/');
        let url = reqwest::Url::parse(&format!("{base}{path}"))?;
        let body = body.map(|b| serde_json::to_vec(&b)).transpose()?;
        let bytes = self.send(method, url, body).await?;
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// Sends the request; answers the body of a 2xx, an [`AdminError`] otherwise.
    async fn send(
        &self,
        method: reqwest::Method,
        url: reqwest::Url,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<Vec<u8>> {
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let mut request = self
            .client
            .request(method.clone(), url)
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{method} {path}: {e}"))?;
        let status = response.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            anyhow::ensure!(
                bytes.len() + chunk.len() <= MAX_ANSWER,
                "{method} {path}: the answer is over {MAX_ANSWER} bytes"
            );
            bytes.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok(bytes);
        }
        let problem = serde_json::from_slice::<Problem>(&bytes).ok();
        let body = if problem.is_some() {
            String::new()
        } else {
            let text = String::from_utf8_lossy(&bytes);
            text.trim().chars().take(1024).collect()
        };
        Err(AdminError {
            method,
            path,
            status: status.as_u16(),
            problem,
            body,
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_problem_reads_as_its_detail_and_code() {
        let error = AdminError {
            method: reqwest::Method::POST,
            path: "/v1/commands".into(),
            status: 422,
            problem: Some(Problem::new(
                422,
                "Unprocessable Entity",
                "invalid_request",
                "checked out: D1",
            )),
            body: String::new(),
        };
        assert_eq!(error.code(), Some("invalid_request"));
        assert_eq!(
            error.to_string(),
            "POST /v1/commands answered 422: checked out: D1 (invalid_request)"
        );
        let wrapped = anyhow::Error::from(error);
        assert_eq!(
            wrapped.downcast_ref::<AdminError>().map(|e| e.status),
            Some(422)
        );
    }

    #[test]
    fn counts_are_read_by_status() {
        let command = Command {
            command_uuid: "U".into(),
            request_type: "ProfileList".into(),
            priority: 0,
            created_at: None,
            expires_at: None,
            requested_by: None,
            reason: None,
            command: None,
            status_counts: BTreeMap::from([("acknowledged".to_owned(), 3)]),
            cancelled_at: None,
            cancelled_by: None,
        };
        assert_eq!(count(&command, DeliveryStatus::Acknowledged), 3);
        assert_eq!(count(&command, DeliveryStatus::Queued), 0);
    }

    #[test]
    fn paths_are_encoded_segment_by_segment() {
        let ca = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
            .expect("a certificate")
            .cert
            .pem();
        let api = AdminApi::new("https://127.0.0.1:9443/", "t", &ca).expect("client");
        let url = api
            .url(&["v1", "devices", "UDID-1:501/x?"], &[])
            .expect("url");
        assert_eq!(
            url.as_str(),
            "https://127.0.0.1:9443/v1/devices/UDID-1:501%2Fx%3F"
        );
        let behind = AdminApi::new("https://mdm.example/admin/", "t", &ca).expect("client");
        let url = behind
            .url(
                &["v1", "commands", "U", "deliveries"],
                &[("limit", "1000"), ("cursor", "a+b/c=")],
            )
            .expect("url");
        assert_eq!(
            url.as_str(),
            "https://mdm.example/admin/v1/commands/U/deliveries?limit=1000&cursor=a%2Bb%2Fc%3D"
        );
    }
}
