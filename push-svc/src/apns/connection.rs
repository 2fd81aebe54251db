//! Opening one HTTP/2 connection to APNs: TCP with TCP_NODELAY (a push is one small request;
//! Nagle's delay would dominate its latency), TLS with the push certificate as client
//! certificate and ALPN `h2`, then the HTTP/2 handshake. The connection task runs on its own.

use crate::error::Error;
use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::RootCertStore;
use rustls_pki_types::ServerName;
use std::sync::Arc;
use std::time::Duration;

/// Where a base URL points.
#[derive(Debug, Clone)]
pub(super) struct Endpoint {
    /// `https://host:port` without a trailing slash.
    pub(super) base: String,
    host: String,
    port: u16,
    server_name: ServerName<'static>,
}

impl Endpoint {
    /// Parses `https://host[:port]`.
    pub(super) fn parse(base_url: &str) -> Result<Endpoint, Error> {
        let uri: http::Uri = base_url
            .parse()
            .map_err(|e| Error::Tls(format!("APNs URL {base_url:?}: {e}")))?;
        if uri.scheme_str() != Some("https") {
            return Err(Error::Tls(format!("APNs URL {base_url:?} is not https")));
        }
        let host = uri
            .host()
            .ok_or_else(|| Error::Tls(format!("APNs URL {base_url:?} has no host")))?
            .trim_matches(['[', ']'])
            .to_owned();
        let port = uri.port_u16().unwrap_or(443);
        let server_name = ServerName::try_from(host.clone())
            .map_err(|e| Error::Tls(format!("APNs host {host:?}: {e}")))?;
        Ok(Endpoint {
            base: base_url.trim_end_matches('/').to_owned(),
            host,
            port,
            server_name,
        })
    }
}

/// The TLS client: the given roots, the push certificate, HTTP/2 only.
pub(super) fn tls_connector(
    roots: &Arc<RootCertStore>,
    certified: Arc<rustls::sign::CertifiedKey>,
) -> Result<tokio_rustls::TlsConnector, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_root_certificates(Arc::clone(roots))
        .with_client_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// Opens a connection and starts its task; answers the handle requests are sent on.
pub(super) async fn connect(
    endpoint: &Endpoint,
    tls: &tokio_rustls::TlsConnector,
    timeout: Duration,
) -> Result<SendRequest<Full<Bytes>>, String> {
    let connecting = async {
        let tcp = tokio::net::TcpStream::connect((endpoint.host.as_str(), endpoint.port))
            .await
            .map_err(|e| format!("connect to {}: {e}", endpoint.base))?;
        tcp.set_nodelay(true)
            .map_err(|e| format!("TCP_NODELAY: {e}"))?;
        let stream = tls
            .connect(endpoint.server_name.clone(), tcp)
            .await
            .map_err(|e| format!("TLS with {}: {e}", endpoint.base))?;
        let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            // Idle connections are kept: the next burst of pushes should not pay a handshake.
            .keep_alive_interval(Duration::from_secs(60))
            .keep_alive_timeout(Duration::from_secs(20))
            .keep_alive_while_idle(true)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP/2 with {}: {e}", endpoint.base))?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "APNs connection ended");
            }
        });
        Ok(sender)
    };
    tokio::time::timeout(timeout, connecting)
        .await
        .map_err(|_| format!("connecting to {} took over {timeout:?}", endpoint.base))?
}
