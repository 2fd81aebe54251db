//! Reading the enrollment listener's public routes (`/MDMServiceConfig`, `/anchor-certs`,
//! `/trust-profile`, `/scep`) as a device would, with every answer bounded in size and time.
//!
//! The server's certificate is not verified here, on purpose: whether a device would trust it
//! is the `tls-*` checks' question, answered once with the precise reason. Verifying here too
//! would turn one wrong certificate into a failure of every check behind it, hiding which part
//! is broken. Nothing secret is sent on these requests (no token), and what they answer is only
//! compared, never trusted for anything.

use reqwest::{StatusCode, Url};
use std::time::{Duration, SystemTime};

/// The largest answer read: a trust profile or a CA chain is a few kilobytes.
const MAX_BODY: usize = 1024 * 1024;
/// How long one request may take, connecting included.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One answer.
#[derive(Debug, Clone)]
pub struct Page {
    /// Its status.
    pub status: StatusCode,
    /// `Content-Type`, if any.
    pub content_type: String,
    /// The server's clock, from its `Date` header.
    pub date: Option<SystemTime>,
    /// The body, at most [`MAX_BODY`] bytes.
    pub body: Vec<u8>,
}

/// The client of the public routes.
#[derive(Debug, Clone)]
pub struct Fetcher {
    http: reqwest::Client,
}

impl Fetcher {
    /// A client that reads any certificate (see the module's docs) and follows no redirect.
    pub fn new() -> anyhow::Result<Fetcher> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .danger_accept_invalid_certs(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .user_agent(concat!("mdmctl-doctor/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Fetcher { http })
    }

    /// `GET url`; the failure as one line.
    pub async fn get(&self, url: Url) -> Result<Page, String> {
        let mut response = self
            .http
            .get(url.clone())
            .send()
            .await
            .map_err(|e| error_line(&e))?;
        let status = response.status();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
        let date = header(reqwest::header::DATE).and_then(|d| httpdate::parse_http_date(&d).ok());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| error_line(&e))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(format!("{url} answered more than {MAX_BODY} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Page {
            status,
            content_type,
            date,
            body,
        })
    }
}

/// `error` and its causes on one line ("error sending request: … : Connection refused").
fn error_line(error: &reqwest::Error) -> String {
    let mut line = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        line.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    line
}

/// `base` with `path` appended (`/enroll` under `https://host:8444/mdm-enroll` keeps the
/// base's path) and `query`.
pub fn under(base: &Url, path: &[&str], query: Option<&str>) -> Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend(path);
    }
    url.set_query(query);
    url
}

/// The first line of a body, for messages: at most 200 characters, no control characters.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.lines().next().unwrap_or("").trim();
    line.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_go_under_the_base() {
        let base = Url::parse("https://mdm.example.com:8444").expect("url");
        assert_eq!(
            under(&base, &["scep"], Some("operation=GetCACaps")).as_str(),
            "https://mdm.example.com:8444/scep?operation=GetCACaps"
        );
        let nested = Url::parse("https://mdm.example.com/enrollment/").expect("url");
        assert_eq!(
            under(&nested, &["MDMServiceConfig"], None).as_str(),
            "https://mdm.example.com/enrollment/MDMServiceConfig"
        );
    }

    #[test]
    fn excerpts_are_one_short_clean_line() {
        assert_eq!(excerpt(b"first\x07 line\nsecond"), "first line");
        assert_eq!(excerpt(&[b'a'; 500]).len(), 200);
    }
}
