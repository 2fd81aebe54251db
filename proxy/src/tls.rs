//! TLS of the device listener: the server certificate, a required client certificate chained
//! to the configured device CAs (with clock skew tolerated on its validity period), and the
//! facts about that certificate the request handlers need.

use crate::config::{DeviceAuthMode, DeviceListener};
use crate::metrics::HandshakeLabels;
use async_trait::async_trait;
use mdm_pki::ChainCert;
use openssl::nid::Nid;
use openssl::ssl::{SslFiletype, SslRef, SslVerifyMode};
use openssl::x509::{X509StoreContextRef, X509};
use pingora::listeners::tls::TlsSettings;
use pingora::listeners::TlsAccept;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use sha2::{Digest, Sha256};
use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

mod sessions;

/// The verified client certificate of a connection, attached by the handshake callback.
#[derive(Debug, Clone)]
pub struct ClientCertificate {
    /// SHA-256 of the leaf's DER.
    pub sha256: [u8; 32],
    /// Subject CN (empty when the subject has none: Apple signers sometimes have an empty subject).
    pub common_name: String,
    /// The leaf's DER: enroll-svc keeps certificates its CA did not issue (for their expiry,
    /// and to encrypt a renewal profile to them), from what admission forwards.
    pub der: Arc<[u8]>,
}

/// What the handshake established about a connection, attached to every request on it.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// A random identifier of this TLS connection: a NotNow skips its command for the rest
    /// of the connection it was sent on.
    pub connection_id: String,
    /// The verified client certificate, when the client presented one.
    pub client: Option<ClientCertificate>,
}

impl ClientCertificate {
    /// Facts of a certificate.
    pub fn from_x509(cert: &X509) -> Option<ClientCertificate> {
        let der = cert.to_der().ok()?;
        let common_name = cert
            .subject_name()
            .entries_by_nid(Nid::COMMONNAME)
            .next()
            .and_then(|entry| entry.data().to_string().ok())
            .unwrap_or_default();
        Some(ClientCertificate {
            sha256: Sha256::digest(&der).into(),
            common_name,
            der: der.into(),
        })
    }
}

/// Attaches [`ConnectionInfo`] to each connection and counts its handshake.
struct CaptureClientCertificate {
    handshakes: Family<HandshakeLabels, Counter>,
    /// The clock skew tolerated on a certificate's validity period.
    skew: Duration,
}

#[async_trait]
impl TlsAccept for CaptureClientCertificate {
    async fn handshake_complete_callback(
        &self,
        ssl: &SslRef,
    ) -> Option<Arc<dyn Any + Send + Sync>> {
        let resumed = ssl.session_reused();
        let kind = if resumed { "resumed" } else { "full" };
        self.handshakes
            .get_or_create(&HandshakeLabels { kind })
            .inc();
        // A full handshake verified the certificate, its validity period included; a resumed
        // session carries it from an earlier connection (and its chain of tickets from earlier
        // still), so the period is checked again: an expired certificate speaks for no one.
        let client = ssl
            .peer_certificate()
            .and_then(|cert| ClientCertificate::from_x509(&cert))
            .filter(|client| !resumed || within_validity(client.der.to_vec(), self.skew));
        Some(Arc::new(ConnectionInfo {
            connection_id: uuid::Uuid::new_v4().simple().to_string(),
            client,
        }))
    }
}

/// Why the device listener's TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// An OpenSSL call failed (bad PEM, key not matching the certificate).
    #[error("{what}: {source}")]
    OpenSsl {
        /// What was being loaded.
        what: String,
        /// The OpenSSL error stack.
        source: openssl::error::ErrorStack,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// pingora refused the settings.
    #[error("TLS settings: {0}")]
    Pingora(String),
}

/// Names the device listener's TLS sessions, so that they can be resumed (see
/// [`device_tls`]).
const SESSION_ID_CONTEXT: &[u8] = b"mdm-server device listener";

/// Builds the device listener's TLS settings; its handshakes are counted in `handshakes`.
pub fn device_tls(
    config: &DeviceListener,
    handshakes: Family<HandshakeLabels, Counter>,
) -> Result<TlsSettings, TlsSetupError> {
    let ossl = |what: String| move |source| TlsSetupError::OpenSsl { what, source };
    let skew = Duration::from_secs(config.clock_skew_secs);
    let mut tls =
        TlsSettings::with_callbacks(Box::new(CaptureClientCertificate { handshakes, skew }))
            .map_err(|e| TlsSetupError::Pingora(e.to_string()))?;
    let cert_file = config.cert_file.display().to_string();
    let key_file = config.key_file.display().to_string();
    tls.set_certificate_chain_file(&cert_file)
        .map_err(ossl(format!("server certificate {cert_file}")))?;
    tls.set_private_key_file(&key_file, SslFiletype::PEM)
        .map_err(ossl(format!("server key {key_file}")))?;
    tls.check_private_key()
        .map_err(ossl("server key does not match the certificate".into()))?;
    for path in &config.client_ca_files {
        let name = path.display().to_string();
        let pem = std::fs::read(path).map_err(|source| TlsSetupError::Read {
            path: name.clone(),
            source,
        })?;
        for ca in X509::stack_from_pem(&pem).map_err(ossl(format!("device CA {name}")))? {
            tls.cert_store_mut()
                .add_cert(ca.clone())
                .map_err(ossl(format!("device CA {name}")))?;
            tls.add_client_ca(&ca)
                .map_err(ossl(format!("device CA {name}")))?;
        }
    }
    // mtls requires a certificate; mtls-or-signature asks for one; behind a balancer that
    // terminates TLS there is none to ask for.
    let mode = match config.mode {
        DeviceAuthMode::Mtls => SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
        DeviceAuthMode::MtlsOrSignature => SslVerifyMode::PEER,
        DeviceAuthMode::Signature | DeviceAuthMode::TrustedHeader => SslVerifyMode::NONE,
    };
    tls.set_verify_callback(mode, move |preverified, ctx| {
        preverified || within_skew(ctx, skew)
    });
    // With client certificates requested, OpenSSL refuses any attempt to resume a TLS session
    // ("session id context uninitialized") unless the context has an ID, and fails the whole
    // handshake: a device offering a ticket (from this listener or from the enrollment listener
    // on the same host name) could not connect at all. With the ID set, a ticket of this
    // listener resumes the session and its verified certificate; any other is ignored and the
    // handshake is a full one.
    tls.set_session_id_context(SESSION_ID_CONTEXT)
        .map_err(ossl("session ID context".into()))?;
    sessions::install(&mut tls, config.tls_session_cache_size);
    tls.enable_h2();
    Ok(tls)
}

/// Accepts a validity-period failure when the certificate is valid within `skew`: the same
/// answer the trust check gives ([`ChainCert::check_validity`]); every other verification
/// failure stands.
fn within_skew(ctx: &mut X509StoreContextRef, skew: Duration) -> bool {
    let error = ctx.error().as_raw();
    if error != openssl_sys_codes::NOT_YET_VALID && error != openssl_sys_codes::EXPIRED {
        return false;
    }
    ctx.current_cert()
        .and_then(|cert| cert.to_der().ok())
        .is_some_and(|der| within_validity(der, skew))
}

/// Whether the certificate `der` is within its validity period now, with `skew`: the trust
/// check's rule ([`ChainCert::check_validity`]).
fn within_validity(der: Vec<u8>, skew: Duration) -> bool {
    ChainCert::from_der(der)
        .and_then(|cert| cert.check_validity(service_kit::now_ms() / 1000, skew))
        .is_ok()
}

/// X509_V_ERR codes (stable across OpenSSL versions).
mod openssl_sys_codes {
    pub const NOT_YET_VALID: i32 = 9;
    pub const EXPIRED: i32 = 10;
}
