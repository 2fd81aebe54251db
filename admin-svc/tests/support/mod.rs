//! What admin-svc's integration tests share: a stack of real processes, and a client that
//! answers every request with its status, headers and JSON body.

#![allow(dead_code)] // Each test binary uses a part.

pub mod browser;
pub mod receiver;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use testkit::{Engine, Stack, StackOptions, TestDevice};

/// A stack on `engine`; `None` when PostgreSQL is switched off for this run.
pub async fn start(engine: Engine) -> Option<Stack> {
    Stack::start(StackOptions::new(engine))
        .await
        .expect("the stack starts")
}

/// An answer of the admin API.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as JSON (`Null` when empty, a string when not JSON).
    pub body: Value,
}

impl Answer {
    /// The `code` of a problem document, checking that it is one.
    pub fn problem_code(&self) -> &str {
        let content_type = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert_eq!(content_type, "application/problem+json", "{self:?}");
        assert_eq!(self.body["status"], self.status.as_u16(), "{self:?}");
        self.body["code"].as_str().unwrap_or_default()
    }

    /// The body, after checking the status.
    pub fn expect(self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{:#}", self.body);
        self.body
    }
}

/// A client of the stack's admin API with one token.
#[derive(Clone)]
pub struct Admin {
    client: reqwest::Client,
    url: String,
    token: Option<String>,
}

impl Admin {
    /// A client with `token` (or none).
    pub fn new(stack: &Stack, token: Option<&str>) -> Admin {
        Admin {
            client: stack.admin_client(),
            url: stack.admin_url.clone(),
            token: token.map(str::to_owned),
        }
    }

    /// This client over HTTP/2 (ALPN). A request whose body the server refuses before reading it
    /// all gets its answer there: over HTTP/1.1 the server closes the connection while the client
    /// is still writing, and the client may see the broken pipe instead of the answer.
    pub fn over_http2(self, stack: &Stack) -> Admin {
        let client = testkit::http::https_client_builder(&stack.device_ca.cert_pem(), None)
            .http2_prior_knowledge()
            .build()
            .expect("an HTTP/2 client");
        Admin { client, ..self }
    }

    /// The client with every scope.
    pub fn ops(stack: &Stack) -> Admin {
        Admin::new(stack, Some(testkit::stack::ADMIN_TOKEN))
    }

    /// The read-only client.
    pub fn auditor(stack: &Stack) -> Admin {
        Admin::new(stack, Some(testkit::stack::READ_ONLY_TOKEN))
    }

    /// `method path` with a raw body and content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.body(body).send().await.expect("admin-svc answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        self.raw(Method::GET, path, None, Vec::new()).await
    }

    /// `method path` with a JSON body.
    pub async fn send(&self, method: Method, path: &str, body: &Value) -> Answer {
        self.raw(
            method,
            path,
            Some("application/json"),
            body.to_string().into_bytes(),
        )
        .await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::POST, path, body).await
    }

    /// Every item of a list, following `next_cursor` (`path` may hold a query already).
    pub async fn all(&self, path: &str, limit: u32) -> Vec<Value> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..100_000 {
            let mut page_path = format!("{path}{separator}limit={limit}");
            if let Some(cursor) = &cursor {
                page_path.push_str(&format!("&cursor={cursor}"));
            }
            let page = self.get(&page_path).await.expect(StatusCode::OK);
            let batch = page["items"].as_array().expect("items").clone();
            assert!(batch.len() <= limit as usize, "a page over its limit");
            items.extend(batch);
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
        panic!("{path}: the pages never end");
    }
}

/// Queues `command` for the device, lets it fetch it, and answers with `answer` entries.
pub async fn answer(stack: &Stack, device: &TestDevice, command: Value, answer: &str) {
    let ops = Admin::ops(stack);
    let queued = ops
        .post(
            "/v1/commands",
            &json!({"devices": [device.udid], "command": command, "push": false}),
        )
        .await
        .expect(StatusCode::CREATED);
    let uuid = queued["command_uuid"].as_str().expect("uuid");
    let received = device
        .idle(stack)
        .await
        .expect("idle")
        .expect("the command");
    assert_eq!(received.command_uuid, uuid);
    assert_eq!(
        device
            .acknowledge(stack, uuid, answer)
            .await
            .expect("report"),
        None
    );
}

/// The device as the API shows it, once `ready` says the inventory arrived.
pub async fn device_when(stack: &Stack, id: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let ops = Admin::ops(stack);
    testkit::eventually(
        Duration::from_secs(10),
        "the inventory to arrive",
        || async {
            let device = ops
                .get(&format!("/v1/devices/{id}"))
                .await
                .expect(StatusCode::OK);
            ready(&device).then_some(device)
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()))
}
