//! Who is calling on the device listener, per its mode (docs/architecture.md §2, §4):
//!
//! | mode | identity from |
//! |---|---|
//! | `mtls` | the client certificate verified in the TLS handshake |
//! | `signature` | the `Mdm-Signature` header: a CMS detached signature of the body by the device identity (a load balancer terminates TLS) |
//! | `mtls-or-signature` | the handshake certificate when there is one, else the header |
//! | `trusted-header` | an RFC 9440 `Client-Cert` header, **only** from an allow-listed load balancer address; from anyone else the header is refused |
//!
//! Whatever the mode, the result is the same [`ClientCertificate`] facts, so the identity policy
//! and the HTTP status policy downstream do not change. Every refusal here is a 403 and happens
//! before any backend is called.

use crate::config::{DeviceAuthMode, DeviceListener};
use crate::error::ProxyError;
use crate::metrics::Metrics;
use crate::tls::{ClientCertificate, ConnectionInfo};
use base64::Engine;
use ipnet::IpNet;
use mdm_pki::signature::{SignatureVerifier, MAX_HEADER_BYTES};
use mdm_pki::{TrustAnchors, VerifiedCertificate};
use mdm_proto::v1::AuthMethod;
use pingora::protocols::http::ServerSession;
use std::time::{Duration, Instant};

/// The header carrying the device's detached signature.
pub const SIGNATURE_HEADER: &str = "mdm-signature";
/// The RFC 9440 header carrying a certificate a load balancer verified.
pub const CLIENT_CERT_HEADER: &str = "client-cert";
/// Behind a load balancer one device's requests may arrive on different upstream connections,
/// and one connection carries many devices: a NotNow then skips its command until the device's
/// next Idle (the start of its next session) instead of for one TCP connection.
const UNTIL_NEXT_IDLE: &str = "until-next-idle";

/// Why the authenticator could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AuthnSetupError {
    /// A device CA file is unusable.
    #[error("device CA {path}: {reason}")]
    Ca {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// A verified caller: its certificate facts and how they were established.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The identity certificate.
    pub cert: ClientCertificate,
    /// How it was verified.
    pub method: AuthMethod,
    /// Identifies the device's session for NotNow handling.
    pub connection_id: String,
}

/// Establishes the caller of a device request. A certificate from a signature or a forwarded
/// header goes through the one trust check, [`TrustAnchors::verify`]; the handshake's is verified
/// by OpenSSL with the same skew rule (`tls.rs`).
pub struct Authenticator {
    mode: DeviceAuthMode,
    signatures: SignatureVerifier,
    trusted_proxies: Vec<IpNet>,
    metrics: Metrics,
}

impl Authenticator {
    /// An authenticator for one device listener.
    pub fn new(
        config: &DeviceListener,
        metrics: Metrics,
    ) -> Result<Authenticator, AuthnSetupError> {
        let skew = Duration::from_secs(config.clock_skew_secs);
        let mut pem = Vec::new();
        for path in &config.client_ca_files {
            let name = path.display().to_string();
            let bytes = std::fs::read(path).map_err(|e| ca_error(&name, e))?;
            // Each file on its own first, so a bad one is named.
            TrustAnchors::from_pem(&bytes, skew).map_err(|e| ca_error(&name, e))?;
            pem.extend_from_slice(&bytes);
            pem.push(b'\n');
        }
        let anchors =
            TrustAnchors::from_pem(&pem, skew).map_err(|e| ca_error("client_ca_files", e))?;
        Ok(Authenticator {
            mode: config.mode,
            signatures: SignatureVerifier::new(anchors),
            trusted_proxies: config.trusted_proxies.clone(),
            metrics,
        })
    }

    /// The caller of this request, whose body is `body`.
    pub fn authenticate(&self, session: &ServerSession, body: &[u8]) -> Result<Caller, ProxyError> {
        let connection = session
            .digest()
            .and_then(|digest| digest.ssl_digest.as_ref())
            .and_then(|ssl| ssl.extension.get::<ConnectionInfo>())
            .cloned()
            .ok_or(ProxyError::NoClientCertificate)?;
        let from_handshake = |cert: ClientCertificate| Caller {
            cert,
            method: AuthMethod::Mtls,
            connection_id: connection.connection_id.clone(),
        };
        match self.mode {
            DeviceAuthMode::Mtls => connection
                .client
                .clone()
                .map(from_handshake)
                .ok_or(ProxyError::NoClientCertificate),
            DeviceAuthMode::MtlsOrSignature => match connection.client.clone() {
                Some(cert) => Ok(from_handshake(cert)),
                None => self.signed(session, body),
            },
            DeviceAuthMode::Signature => self.signed(session, body),
            DeviceAuthMode::TrustedHeader => self.forwarded(session),
        }
    }

    fn signed(&self, session: &ServerSession, body: &[u8]) -> Result<Caller, ProxyError> {
        let header = session
            .req_header()
            .headers
            .get(SIGNATURE_HEADER)
            .ok_or(ProxyError::NoClientCertificate)?;
        let started = Instant::now();
        let verified =
            self.signatures
                .verify(header.as_bytes(), body, service_kit::now_ms() / 1000);
        self.metrics
            .signature_verify_seconds
            .observe(started.elapsed().as_secs_f64());
        let signer = verified.map_err(ProxyError::BadSignature)?;
        Ok(Caller {
            cert: facts(signer),
            method: AuthMethod::Signature,
            connection_id: UNTIL_NEXT_IDLE.into(),
        })
    }

    fn forwarded(&self, session: &ServerSession) -> Result<Caller, ProxyError> {
        let peer = session
            .client_addr()
            .and_then(|addr| addr.as_inet())
            .map(|addr| addr.ip());
        let trusted =
            peer.is_some_and(|ip| self.trusted_proxies.iter().any(|net| net.contains(&ip)));
        let header = session.req_header().headers.get(CLIENT_CERT_HEADER);
        if !trusted {
            // Never trust a forwarded certificate from an address that is not the balancer:
            // anyone could write the header.
            return Err(ProxyError::UntrustedForwardedCertificate(format!(
                "{CLIENT_CERT_HEADER} from {peer:?}, which is not an allow-listed load balancer"
            )));
        }
        let header = header.ok_or(ProxyError::NoClientCertificate)?;
        let der = parse_client_cert_header(header.as_bytes())
            .map_err(ProxyError::UntrustedForwardedCertificate)?;
        let verified = self
            .signatures
            .anchors()
            .verify(&der, service_kit::now_ms() / 1000)
            .map_err(|e| {
                ProxyError::UntrustedForwardedCertificate(format!(
                    "forwarded certificate does not verify: {e}"
                ))
            })?;
        Ok(Caller {
            cert: facts(verified),
            method: AuthMethod::ForwardedCert,
            connection_id: UNTIL_NEXT_IDLE.into(),
        })
    }
}

/// What the edge keeps of a verified certificate.
fn facts(verified: VerifiedCertificate) -> ClientCertificate {
    ClientCertificate {
        sha256: verified.sha256,
        common_name: verified.common_name,
        der: verified.cert_der,
    }
}

/// Parses an RFC 9440 `Client-Cert` value, an RFC 8941 byte sequence `:<base64 DER>:`, to the
/// DER it carries (checked by the trust check, not here).
pub fn parse_client_cert_header(value: &[u8]) -> Result<Vec<u8>, String> {
    if value.len() > MAX_HEADER_BYTES {
        return Err(format!(
            "{CLIENT_CERT_HEADER} is over {MAX_HEADER_BYTES} bytes"
        ));
    }
    let text = std::str::from_utf8(value)
        .map_err(|_| "header is not ASCII".to_string())?
        .trim();
    let inner = text
        .strip_prefix(':')
        .and_then(|t| t.strip_suffix(':'))
        .ok_or_else(|| format!("{CLIENT_CERT_HEADER} is not a :base64: byte sequence"))?;
    base64::engine::general_purpose::STANDARD
        .decode(inner)
        .map_err(|_| format!("{CLIENT_CERT_HEADER} is not valid base64"))
}

fn ca_error(path: &str, error: impl std::fmt::Display) -> AuthnSetupError {
    AuthnSetupError::Ca {
        path: path.to_string(),
        reason: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_client_cert_header;

    #[test]
    fn client_cert_header_must_be_a_byte_sequence_of_a_certificate() {
        assert!(parse_client_cert_header(b"not-a-sequence").is_err());
        assert!(parse_client_cert_header(b":!!!:").is_err());
        assert_eq!(
            parse_client_cert_header(b" :aGVsbG8=: ").as_deref(),
            Ok(&b"hello"[..]),
            "the bytes, for the trust check to refuse"
        );
        assert!(
            parse_client_cert_header(&vec![b'A'; 20_000]).is_err(),
            "bounded"
        );
    }
}
