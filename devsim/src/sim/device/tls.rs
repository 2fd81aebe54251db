//! A simulated device's TLS client: trusts only the server's CA, presents the identity in mTLS
//! mode, and does a full handshake on every new connection (no session resumption), as the
//! conservative case for the server: a device woken by a push opens a fresh connection.

use super::{SimConfig, SimError, Transport};
use rustls::client::Resumption;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;
use std::time::Duration;

/// How long one request may take before the device gives up on it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The device's TLS configuration, built once and shared by all its connections.
pub(super) fn client_config(
    config: &SimConfig,
    cert_pem: &str,
    key_pem: &str,
) -> Result<Arc<rustls::ClientConfig>, SimError> {
    let identity = |e: &dyn std::fmt::Display| SimError::Identity(e.to_string());
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(config.server_ca_pem.as_bytes()) {
        roots
            .add(ca.map_err(|e| identity(&e))?)
            .map_err(|e| identity(&e))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| identity(&e))?
        .with_root_certificates(roots);
    let mut tls = match config.transport {
        Transport::Mtls => {
            let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| identity(&e))?;
            let key =
                PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| identity(&e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| identity(&e))?
        }
        Transport::Signature => builder.with_no_client_auth(),
    };
    tls.resumption = Resumption::disabled();
    Ok(Arc::new(tls))
}

/// An HTTP/1.1 client on `tls`: its first request opens a new connection, later ones reuse it.
pub(super) fn http_client(tls: &rustls::ClientConfig) -> Result<reqwest::Client, SimError> {
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(tls.clone())
        .http1_only()
        .timeout(REQUEST_TIMEOUT)
        .build()?)
}
