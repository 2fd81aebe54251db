//! The few admin API calls the simulator makes: queue a command to many devices, create an
//! enrollment token for the enrollment flows, and read a command's deliveries and a device.

use serde_json::{json, Value};
use std::time::Duration;

/// The largest admin API answer read (a command's deliveries to 10,000 devices fit easily).
const MAX_ANSWER: usize = 64 << 20;

/// A client of the admin API with a bearer token.
#[derive(Clone)]
pub struct AdminApi {
    url: String,
    token: String,
    client: reqwest::Client,
}

impl std::fmt::Debug for AdminApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminApi").field("url", &self.url).finish()
    }
}

impl AdminApi {
    /// `url` is `https://host:port`; its TLS certificate must chain to `ca_pem`.
    pub fn new(url: &str, token: &str, ca_pem: &str) -> anyhow::Result<AdminApi> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes())?)
            .timeout(Duration::from_secs(120))
            .build()?;
        Ok(AdminApi {
            url: url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            client,
        })
    }

    /// Queues `command` (the admin API's JSON form, e.g. `{"request_type": "SecurityInfo"}`)
    /// to `devices` (enrollment IDs); answers the CommandUUID.
    pub async fn enqueue(&self, devices: &[String], command: Value) -> anyhow::Result<String> {
        self.enqueue_body(json!({"devices": devices, "command": command}))
            .await
    }

    /// `POST /v1/commands` with a body of the caller's; answers the CommandUUID.
    pub async fn enqueue_body(&self, body: Value) -> anyhow::Result<String> {
        let answer = self
            .call(reqwest::Method::POST, "/v1/commands", Some(body))
            .await?;
        answer["command_uuid"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("no command_uuid in {answer}"))
    }

    /// A multi-use enrollment token for `uses` devices; answers its secret.
    pub async fn enrollment_token(&self, description: &str, uses: usize) -> anyhow::Result<String> {
        let body = json!({"description": description, "single_use": false, "max_uses": uses});
        let answer = self
            .call(reqwest::Method::POST, "/v1/enrollment-tokens", Some(body))
            .await?;
        answer["secret"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("no secret in the token answer"))
    }

    /// `GET /v1/commands/<uuid>`: the command with its deliveries.
    pub async fn command(&self, uuid: &str) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, &format!("/v1/commands/{uuid}"), None)
            .await
    }

    /// `GET /v1/devices/<id>`: an enrollment as the admin API shows it.
    pub async fn device(&self, enrollment_id: &str) -> anyhow::Result<Value> {
        self.call(
            reqwest::Method::GET,
            &format!("/v1/devices/{enrollment_id}"),
            None,
        )
        .await
    }

    /// `POST <path>` with a JSON body; answers the JSON answer of a 2xx, an error otherwise.
    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        anyhow::ensure!(
            bytes.len() <= MAX_ANSWER,
            "{method} {path}: answer too large"
        );
        anyhow::ensure!(
            status.is_success(),
            "{method} {path} answered {status}: {}",
            String::from_utf8_lossy(&bytes).trim()
        );
        Ok(serde_json::from_slice(&bytes)?)
    }
}
