//! An MDM server in the test's process, over HTTPS: it hands out queued commands on the
//! ServerURL and answers `DeclarativeManagement` check-ins from its declarations with the
//! documents `mdm_core::ddm` makes, reading each check-in and status report with the server's
//! parsers, and records what it was asked.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use mdm_core::ddm::{
    declaration_items, declarations_token, parse_declarative_checkin, parse_status_report, tokens,
    Category, Declaration, Endpoint, StatusReport,
};
use plist::Value;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use testkit::TestCa;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// What the server holds and saw.
#[derive(Default)]
pub struct Seen {
    /// Declarations served.
    pub declarations: Vec<Declaration>,
    /// Command plists still to hand out.
    pub commands: VecDeque<Vec<u8>>,
    /// Answers that fail with a status, by endpoint.
    pub failures: BTreeMap<String, u16>,
    /// `Status` of each report on the ServerURL (`Idle`, `Acknowledged`…).
    pub statuses: Vec<String>,
    /// Each `Endpoint` asked for, with the `UserID` of the channel if any.
    pub asked: Vec<(String, Option<String>)>,
    /// Status reports received.
    pub reports: Vec<StatusReport>,
    /// Requests without an `Mdm-Signature` header.
    pub unsigned: usize,
}

pub struct FakeMdm {
    /// `https://127.0.0.1:<port>`.
    pub url: String,
    /// The CA the server's certificate chains to.
    pub ca_pem: String,
    pub seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeMdm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeMdm {
    pub async fn start() -> FakeMdm {
        let ca = TestCa::new("fake MDM CA");
        let issued = ca.issue_server(&["127.0.0.1"]);
        let chain = CertificateDer::pem_slice_iter(issued.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("certificate");
        let key = PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).expect("key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = Arc::clone(&seen);
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, seen) = (acceptor.clone(), Arc::clone(&shared));
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(move |request| {
                        let seen = Arc::clone(&seen);
                        async move { Ok::<_, hyper::Error>(handle(&seen, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        FakeMdm {
            url: format!("https://127.0.0.1:{port}"),
            ca_pem: ca.cert_pem(),
            seen,
            task,
        }
    }

    pub fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().expect("not poisoned")
    }
}

async fn handle(
    seen: &Mutex<Seen>,
    request: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let signed = request.headers().contains_key("Mdm-Signature");
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes().to_vec(),
        Err(_) => return reply(StatusCode::BAD_REQUEST, Vec::new()),
    };
    let mut seen = seen.lock().expect("not poisoned");
    seen.unsigned += usize::from(!signed);
    let answer = match path.as_str() {
        "/mdm" => server_url(&mut seen, &body),
        "/checkin" => checkin(&mut seen, &body),
        _ => Err(StatusCode::NOT_FOUND),
    };
    match answer {
        Ok(bytes) => reply(StatusCode::OK, bytes),
        Err(status) => reply(status, Vec::new()),
    }
}

fn reply(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}

/// A report on the ServerURL: its status is recorded, the next command handed out.
fn server_url(seen: &mut Seen, body: &[u8]) -> Result<Vec<u8>, StatusCode> {
    let report =
        Value::from_reader(std::io::Cursor::new(body)).map_err(|_| StatusCode::BAD_REQUEST)?;
    let status = report
        .as_dictionary()
        .and_then(|d| d.get("Status"))
        .and_then(Value::as_string)
        .unwrap_or_default()
        .to_owned();
    seen.statuses.push(status);
    Ok(seen.commands.pop_front().unwrap_or_default())
}

/// A check-in: `DeclarativeManagement` ones are answered, the others acknowledged.
fn checkin(seen: &mut Seen, body: &[u8]) -> Result<Vec<u8>, StatusCode> {
    let message =
        Value::from_reader(std::io::Cursor::new(body)).map_err(|_| StatusCode::BAD_REQUEST)?;
    let message_type = message
        .as_dictionary()
        .and_then(|d| d.get("MessageType"))
        .and_then(Value::as_string);
    if message_type != Some("DeclarativeManagement") {
        return Ok(Vec::new());
    }
    let checkin = parse_declarative_checkin(body).map_err(|_| StatusCode::BAD_REQUEST)?;
    let endpoint = match &checkin.endpoint {
        Endpoint::Tokens => "tokens".to_owned(),
        Endpoint::DeclarationItems => "declaration-items".to_owned(),
        Endpoint::Status => "status".to_owned(),
        Endpoint::Declaration {
            category,
            identifier,
        } => format!("declaration/{}/{identifier}", category.url_segment()),
    };
    seen.asked
        .push((endpoint.clone(), checkin.ids.user_id.clone()));
    if let Some(status) = seen.failures.get(&endpoint) {
        return Err(StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    }
    let json = match checkin.endpoint {
        Endpoint::Tokens => tokens(
            &declarations_token(&seen.declarations),
            "2026-01-01T00:00:00Z",
        ),
        Endpoint::DeclarationItems => declaration_items(&seen.declarations),
        Endpoint::Declaration {
            category,
            identifier,
        } => seen
            .declarations
            .iter()
            .find(|d| {
                d.identifier == identifier && Category::of(&d.declaration_type) == Some(category)
            })
            .map(Declaration::body)
            .ok_or(StatusCode::NOT_FOUND)?,
        Endpoint::Status => {
            let data = checkin.data.unwrap_or_default();
            let report = parse_status_report(&data).map_err(|_| StatusCode::BAD_REQUEST)?;
            seen.reports.push(report);
            return Ok(Vec::new());
        }
    };
    Ok(json.to_string().into_bytes())
}
