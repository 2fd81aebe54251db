//! The client of the admin API (admin-svc; its contract is `admin-svc/openapi.json`): bearer
//! authentication, the documents of the shared `mdm-api` crate (so that mdmctl and the server
//! cannot drift apart), lists followed page by page, and every failure turned into an
//! [`ApiError`] with advice.
//!
//! - [`answer`]: a decoded document together with the JSON the server sent.
//! - [`routes`]: one method per route.
//! - [`paging`]: following `next_cursor`; [`query`]: the lists' filters as parameters.
//! - [`error`]: failures, the API's problem documents, and their hints.

pub mod answer;
pub mod error;
pub mod paging;
pub mod query;
pub mod routes;

pub use answer::{Answer, Listing};
pub use error::ApiError;
pub use paging::Span;

use crate::cli::GlobalArgs;
use crate::config::{self, Connection, Env};
use crate::exit::Failure;
use anyhow::Context;
use query::Pairs;
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
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

    /// `GET` the document at `segments`.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &Pairs,
    ) -> Result<Answer<T>, ApiError> {
        self.send(Method::GET, self.url(segments, query), None)
            .await
    }

    /// `method` (POST, PUT, PATCH) with `body` as JSON, or without a body (an action such as
    /// `/cancel`).
    pub(crate) async fn write<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&impl Serialize>,
    ) -> Result<Answer<T>, ApiError> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| ApiError::Encoding {
                detail: e.to_string(),
            })?;
        self.send(method, self.url(segments, &Pairs::new()), body)
            .await
    }

    /// `DELETE` the resource at `segments`. The API answers 204 without a document, so there
    /// is nothing to decode: success is the status.
    pub(crate) async fn delete(&self, segments: &[&str]) -> Result<(), ApiError> {
        self.exchange(Method::DELETE, self.url(segments, &Pairs::new()), None)
            .await
            .map(drop)
    }

    /// The base URL with `segments` appended, each percent-encoded (a user channel's ID holds a
    /// `:`, and an ID must never be able to add a path segment).
    fn url(&self, segments: &[&str], query: &Pairs) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            // `config::parse_url` refused cannot-be-a-base URLs, so this always runs.
            path.pop_if_empty().extend(segments);
        }
        url.set_query(None);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// The 2xx answer's document, decoded.
    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<Answer<T>, ApiError> {
        let (status, bytes) = self.exchange(method, url.clone(), body).await?;
        serde_json::from_slice(&bytes)
            .and_then(Answer::decode)
            .map_err(|e| ApiError::BadAnswer {
                url: url.to_string(),
                detail: format!("HTTP {status} with a body that is not the expected JSON: {e}"),
            })
    }

    /// One request: the status and body of a 2xx answer, any other status as the refusal it
    /// is.
    async fn exchange(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, Vec<u8>), ApiError> {
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let transport = |e| ApiError::transport(self.base(), e);
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        if !status.is_success() {
            return Err(ApiError::refused(status, &bytes));
        }
        Ok((status, bytes.to_vec()))
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
        return Err(ApiError::refused(status, &bytes).into());
    }
    Ok(bytes.to_vec())
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
        let url = api.url(&["v1", "devices", "UDID-1:USER/2"], &Pairs::new());
        assert_eq!(
            url.as_str(),
            "https://mdm.example:9443/v1/devices/UDID-1:USER%2F2"
        );
        let url = api.url(
            &["v1", "devices"],
            &vec![("cursor", "A:B&c".into()), ("limit", "5".into())],
        );
        assert_eq!(
            url.as_str(),
            "https://mdm.example:9443/v1/devices?cursor=A%3AB%26c&limit=5"
        );
    }

    #[test]
    fn a_base_path_is_kept() {
        let api = api("https://gw.example/mdm/");
        assert_eq!(
            api.url(&["v1", "commands"], &Pairs::new()).as_str(),
            "https://gw.example/mdm/v1/commands"
        );
        assert_eq!(api.base(), "https://gw.example/mdm");
    }
}
