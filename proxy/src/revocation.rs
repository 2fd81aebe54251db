//! Certificate status at the edge: a certificate our CA revoked is refused (403) before any
//! message is forwarded, and a certificate issued by the direct-profile flow, whose CN is a
//! random identifier rather than the UDID, is held to the bound-certificate policy even on a
//! `cn-equals-udid` listener.
//!
//! enroll-svc owns the registry of issued certificates; the edge asks it
//! (`Provisioning.CertificateStatus`) once per certificate and keeps the answer for
//! `services.authorization_cache_ms`, so a revocation takes effect within that time (and at once
//! in enroll-svc, which refuses revoked certificates at check-in and authorization as well). If
//! enroll-svc cannot answer, the request fails with 503: it could not be served anyway.
//!
//! The device app owns one [`CertificateScreen`], built with it by [`crate::build_server`].

use crate::backends::Backends;
use crate::config::IdentityPolicy;
use crate::error::ProxyError;
use crate::tls::ClientCertificate;
use mdm_proto::v1::{CertificateFlow, CertificateStatusRequest};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most certificates remembered; past it the cache starts afresh (bounded memory under a flood
/// of distinct certificates).
const MAX_ENTRIES: usize = 100_000;

/// What enroll-svc said about one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Issued by our CA.
    pub issued_here: bool,
    /// Issued for the direct profile.
    pub direct: bool,
    /// Revoked.
    pub revoked: bool,
}

impl Status {
    /// The policy a request with this certificate is held to, or why it is refused.
    pub fn policy(self, configured: IdentityPolicy) -> Result<IdentityPolicy, ProxyError> {
        if self.revoked {
            return Err(ProxyError::IdentityMismatch(
                "the certificate has been revoked".into(),
            ));
        }
        // The direct profile cannot know the UDID when it is made, so its certificates carry
        // a random CN; the binding made at Authenticate is what ties them to a device.
        if self.issued_here && self.direct {
            return Ok(IdentityPolicy::BoundCertificate);
        }
        Ok(configured)
    }
}

/// Certificate statuses from enroll-svc, briefly cached.
pub struct CertificateScreen {
    backends: Arc<Backends>,
    ttl: Duration,
    cache: Mutex<HashMap<[u8; 32], (Instant, Status)>>,
}

impl CertificateScreen {
    /// A screen asking enroll-svc through `backends`, remembering answers for `ttl`.
    pub fn new(backends: Arc<Backends>, ttl: Duration) -> CertificateScreen {
        CertificateScreen {
            backends,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The policy to apply to `cert` (the configured one, or bound-certificate for a
    /// direct-flow certificate), or 403 for a revoked certificate.
    pub async fn policy(
        &self,
        cert: &ClientCertificate,
        configured: IdentityPolicy,
    ) -> Result<IdentityPolicy, ProxyError> {
        self.status(&cert.sha256).await?.policy(configured)
    }

    /// The status of a certificate, from the cache or from enroll-svc.
    pub async fn status(&self, sha256: &[u8; 32]) -> Result<Status, ProxyError> {
        if let Some(status) = self.cached(sha256) {
            return Ok(status);
        }
        let answer = self
            .backends
            .provisioning_client()
            .certificate_status(CertificateStatusRequest {
                cert_sha256: sha256.to_vec(),
            })
            .await
            .map_err(|status| ProxyError::backend("enroll-svc", &status))?
            .into_inner();
        let status = Status {
            issued_here: answer.issued_here,
            direct: answer.flow() == CertificateFlow::Direct,
            revoked: answer.revoked,
        };
        if !self.ttl.is_zero() {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= MAX_ENTRIES {
                cache.clear();
            }
            cache.insert(*sha256, (Instant::now(), status));
        }
        Ok(status)
    }

    fn cached(&self, sha256: &[u8; 32]) -> Option<Status> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(sha256)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, status)| *status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: Status = Status {
        issued_here: true,
        direct: false,
        revoked: false,
    };

    #[test]
    fn revoked_certificates_are_403_never_401() {
        let revoked = Status {
            revoked: true,
            ..OURS
        };
        let err = revoked
            .policy(IdentityPolicy::CnEqualsUdid)
            .expect_err("refused");
        assert_eq!(err.status(), http::StatusCode::FORBIDDEN);
    }

    #[test]
    fn the_screen_can_run_in_the_device_path() {
        // DeviceApp::handle runs in pingora's Send futures: the check must be Send.
        fn assert_send<T: Send>(_: T) {}
        let backends = Arc::new(
            Backends::new(&crate::config::Services::default()).expect("default service URLs"),
        );
        let screen = CertificateScreen::new(backends, Duration::from_secs(1));
        let cert = ClientCertificate {
            sha256: [0; 32],
            common_name: String::new(),
        };
        assert_send(screen.policy(&cert, IdentityPolicy::CnEqualsUdid));
    }

    #[test]
    fn direct_flow_certificates_use_the_binding() {
        let direct = Status {
            direct: true,
            ..OURS
        };
        assert_eq!(
            direct.policy(IdentityPolicy::CnEqualsUdid).expect("ok"),
            IdentityPolicy::BoundCertificate
        );
        assert_eq!(
            OURS.policy(IdentityPolicy::CnEqualsUdid).expect("ok"),
            IdentityPolicy::CnEqualsUdid
        );
        let foreign = Status {
            issued_here: false,
            direct: false,
            revoked: false,
        };
        assert_eq!(
            foreign
                .policy(IdentityPolicy::BoundCertificate)
                .expect("ok"),
            IdentityPolicy::BoundCertificate
        );
    }
}
