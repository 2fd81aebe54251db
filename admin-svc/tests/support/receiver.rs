//! A webhook receiver for tests: plain HTTP on a loopback port reserved up front, so that it
//! can be down (nothing listens: connections are refused) and come back on the same URL. It
//! records every delivery and answers the status it is told to.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One delivery as received.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// `Mdm-Signature`.
    pub signature: String,
    /// `Mdm-Event-Id`.
    pub event_id: String,
    /// The body.
    pub body: Vec<u8>,
}

impl Delivery {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Clone)]
struct Shared {
    received: Arc<Mutex<Vec<Delivery>>>,
    status: Arc<AtomicU16>,
}

/// The receiver: its URL is fixed; it listens only while [`Receiver::up`].
pub struct Receiver {
    /// `http://127.0.0.1:<port>/hook`.
    pub url: String,
    port: u16,
    shared: Shared,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// A receiver that is down until [`Receiver::up`].
    pub fn down() -> Receiver {
        let port = testkit::free_port();
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            port,
            shared: Shared {
                received: Arc::new(Mutex::new(Vec::new())),
                status: Arc::new(AtomicU16::new(200)),
            },
            server: None,
        }
    }

    /// A receiver listening now.
    pub async fn listening() -> Receiver {
        let mut receiver = Receiver::down();
        receiver.up().await;
        receiver
    }

    /// Starts listening on its port.
    pub async fn up(&mut self) {
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(self.shared.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("the receiver's port is free");
        self.server = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
    }

    /// Answers `status` from now on.
    pub fn answer(&self, status: u16) {
        self.shared.status.store(status, Ordering::Release);
    }

    /// What it got, in order.
    pub fn received(&self) -> Vec<Delivery> {
        self.shared
            .received
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Waits until `ready` holds for what it got (at most `deadline`); what it got then.
    pub async fn until(
        &self,
        deadline: Duration,
        what: &str,
        ready: impl Fn(&[Delivery]) -> bool,
    ) -> Vec<Delivery> {
        testkit::eventually(deadline, what, || async {
            let received = self.received();
            ready(&received).then_some(received)
        })
        .await
        .unwrap_or_else(|e| panic!("{e}: got {:#?}", self.bodies()))
    }

    fn bodies(&self) -> Vec<Value> {
        self.received().iter().map(Delivery::json).collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let status = shared.status.load(Ordering::Acquire);
    if status == 200 {
        if let Ok(mut received) = shared.received.lock() {
            received.push(Delivery {
                signature: header("mdm-signature"),
                event_id: header("mdm-event-id"),
                body: body.to_vec(),
            });
        }
    }
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}
