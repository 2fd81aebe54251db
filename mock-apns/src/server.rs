//! The mock's network side: a TLS listener that requires a client certificate from the
//! configured CA, and one HTTP/2 connection task per client.
//!
//! Each request is handled on a task of its own, so injected latency delays answers without
//! limiting concurrency, exactly like a slow APNs. After every `goaway_every` requests on a
//! connection the server starts a graceful shutdown of it (GOAWAY): streams already accepted
//! are answered, later ones are refused, and the client has to open a new connection.

use super::record::{Recorder, Refusal};
use super::validate::{self, MAX_BODY};
use super::{certificates, private_key, MockApnsConfig};
use crate::error::Error;
use bytes::Bytes;
use h2::server::SendResponse;
use http::{Request, Response};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The UID attribute (OID 0.9.2342.19200300.100.1.1) that holds an MDM push certificate's topic.
const UID_OID: &str = "0.9.2342.19200300.100.1.1";

/// The rustls server configuration: our certificate, required client certificates, ALPN h2.
pub(super) fn tls_config(config: &MockApnsConfig) -> Result<Arc<rustls::ServerConfig>, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for ca in certificates(&config.client_ca_pem, "client CA")? {
        roots.add(ca)?;
    }
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .build()
            .map_err(|e| Error::Verifier(e.to_string()))?;
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            certificates(&config.server_cert_pem, "server certificate")?,
            private_key(&config.server_key_pem)?,
        )?;
    tls.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(tls))
}

/// The serving half of a [`super::MockApns`].
pub(super) struct Server {
    pub(super) tls: Arc<rustls::ServerConfig>,
    pub(super) recorder: Arc<Recorder>,
    pub(super) max_concurrent_streams: u32,
}

impl Server {
    /// Accepts connections until `stop` fires.
    pub(super) async fn run(
        self,
        listener: TcpListener,
        mut stop: tokio::sync::oneshot::Receiver<()>,
    ) {
        let acceptor = TlsAcceptor::from(Arc::clone(&self.tls));
        let shared = Arc::new(self);
        loop {
            let (tcp, peer) = tokio::select! {
                _ = &mut stop => return,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "mock APNs accept failed");
                        continue;
                    }
                },
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                match acceptor.accept(tcp).await {
                    Ok(tls) => shared.connection(tls).await,
                    // A client without a certificate from the CA ends here, as at Apple.
                    Err(error) => tracing::info!(%peer, %error, "mock APNs TLS handshake refused"),
                }
            });
        }
    }

    async fn connection(
        self: Arc<Self>,
        tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    ) {
        let topic = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|leaf| uid_of(leaf.as_ref()))
            .unwrap_or_default();
        let handshake = h2::server::Builder::new()
            .max_concurrent_streams(self.max_concurrent_streams)
            .handshake::<_, Bytes>(tls)
            .await;
        let mut connection = match handshake {
            Ok(connection) => connection,
            Err(error) => {
                tracing::info!(%error, "mock APNs HTTP/2 handshake failed");
                return;
            }
        };
        self.recorder.connection_opened();
        let topic: Arc<str> = Arc::from(topic);
        let mut requests = 0u64;
        let mut going_away = false;
        while let Some(accepted) = connection.accept().await {
            let Ok((request, respond)) = accepted else {
                break;
            };
            requests += 1;
            let shared = Arc::clone(&self);
            let topic = Arc::clone(&topic);
            tokio::spawn(async move { shared.request(request, respond, &topic).await });
            let every = self.recorder.goaway_every();
            if !going_away && every > 0 && requests.is_multiple_of(every) {
                // Streams already accepted are still answered; accept() keeps driving them.
                connection.graceful_shutdown();
                self.recorder.goaway_sent();
                going_away = true;
            }
        }
    }

    async fn request(
        &self,
        request: Request<h2::RecvStream>,
        respond: SendResponse<Bytes>,
        topic: &str,
    ) {
        let (parts, mut body) = request.into_parts();
        let mut bytes = Vec::new();
        while let Some(chunk) = body.data().await {
            let Ok(chunk) = chunk else { return };
            let _ = body.flow_control().release_capacity(chunk.len());
            if bytes.len() + chunk.len() > MAX_BODY {
                return self.refuse(respond, parts.uri.path(), (413, "PayloadTooLarge"), false);
            }
            bytes.extend_from_slice(&chunk);
        }
        let path = parts.uri.path().to_owned();
        let delivery = match validate::check(&parts.method, &path, &parts.headers, &bytes, topic) {
            Ok(delivery) => delivery,
            Err(refused) => return self.refuse(respond, &path, refused, false),
        };
        let latency = self.recorder.latency();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if let Some(fault) = self.recorder.fault_for(&delivery.token) {
            return self.refuse(respond, &path, (fault.status, &fault.reason), true);
        }
        let apns_id = self.recorder.delivered(delivery);
        let response = Response::builder()
            .status(200)
            .header("apns-id", apns_id)
            .body(());
        if let Ok(response) = response {
            let mut respond = respond;
            let _ = respond.send_response(response, true);
        }
    }

    fn refuse(
        &self,
        mut respond: SendResponse<Bytes>,
        path: &str,
        (status, reason): (u16, &str),
        injected: bool,
    ) {
        self.recorder.refused(Refusal {
            status,
            reason: reason.to_owned(),
            path: path.to_owned(),
            injected,
        });
        let body = Bytes::from(format!("{{\"reason\":\"{reason}\"}}"));
        let response = Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header("apns-id", uuid::Uuid::new_v4().to_string())
            .body(());
        let Ok(response) = response else { return };
        if let Ok(mut stream) = respond.send_response(response, false) {
            let _ = stream.send_data(body, true);
        }
    }
}

/// The UID attribute of a certificate's subject (the push topic), if it has one.
pub fn uid_of(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let uid = cert
        .subject()
        .iter_attributes()
        .find(|attr| attr.attr_type().to_id_string() == UID_OID)?;
    uid.as_str().ok().map(str::to_owned)
}
