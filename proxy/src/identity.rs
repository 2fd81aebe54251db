//! The identity policy (docs/architecture.md §4): does this certificate speak for the device that the
//! message names? The certificate binding (one certificate, one enrollment) is enforced by
//! enroll-svc, which owns it; this is the part the edge can decide alone, before any backend
//! is called.

use crate::config::IdentityPolicy;
use crate::error::ProxyError;
use crate::tls::ClientCertificate;
use mdm_core::EnrollmentRef;
use mdm_proto::v1::{self, AuthMethod, DeviceIdentity};
use mdm_proto::{CertSha256, VerifiedIdentity};

/// Applies `policy` and builds the identity forwarded to the services.
pub fn verify(
    policy: IdentityPolicy,
    method: AuthMethod,
    cert: &ClientCertificate,
    enrollment: &EnrollmentRef,
) -> Result<VerifiedIdentity, ProxyError> {
    VerifiedIdentity::new(
        enrollment,
        CertSha256::new(cert.sha256),
        &cert.common_name,
        method,
        proto_policy(policy),
    )
    .map_err(|e| ProxyError::IdentityMismatch(e.to_string()))
}

/// The identity naming `policy` without applying it: what the edge asks enroll-svc to admit,
/// which may answer a stricter policy (see [`crate::admission`]). The bound-certificate policy
/// checks nothing of the CN, so the claim is built through it, then names the one configured.
pub fn unchecked(
    policy: IdentityPolicy,
    method: AuthMethod,
    cert: &ClientCertificate,
    enrollment: &EnrollmentRef,
) -> Result<DeviceIdentity, ProxyError> {
    let claim = verify(IdentityPolicy::BoundCertificate, method, cert, enrollment)?;
    Ok(DeviceIdentity {
        policy: proto_policy(policy).into(),
        ..claim.into()
    })
}

fn proto_policy(policy: IdentityPolicy) -> v1::IdentityPolicy {
    match policy {
        IdentityPolicy::CnEqualsUdid => v1::IdentityPolicy::CnEqualsUdid,
        IdentityPolicy::BoundCertificate => v1::IdentityPolicy::BoundCertificate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdm_core::ChannelIds;

    fn enrollment(udid: &str, user: Option<&str>) -> EnrollmentRef {
        ChannelIds {
            udid: Some(udid.into()),
            user_id: user.map(Into::into),
            ..Default::default()
        }
        .enrollment()
        .expect("valid ids")
    }

    fn cert(cn: &str) -> ClientCertificate {
        ClientCertificate {
            sha256: [7; 32],
            common_name: cn.into(),
            der: Vec::new().into(),
        }
    }

    #[test]
    fn cn_must_equal_the_udid() {
        let ok = verify(
            IdentityPolicy::CnEqualsUdid,
            AuthMethod::Mtls,
            &cert("UDID-1"),
            &enrollment("UDID-1", None),
        )
        .expect("matches");
        assert_eq!(ok.enrollment_id().as_str(), "UDID-1");
        assert_eq!(ok.cert_sha256(), &CertSha256::new([7; 32]));
        let err = verify(
            IdentityPolicy::CnEqualsUdid,
            AuthMethod::Mtls,
            &cert("UDID-2"),
            &enrollment("UDID-1", None),
        )
        .expect_err("mismatch");
        assert_eq!(err.status(), http::StatusCode::FORBIDDEN);
    }

    #[test]
    fn user_channels_are_authorized_by_the_device_certificate() {
        let id = verify(
            IdentityPolicy::CnEqualsUdid,
            AuthMethod::Mtls,
            &cert("UDID-1"),
            &enrollment("UDID-1", Some("USER")),
        )
        .expect("device cert covers its users");
        let id = DeviceIdentity::from(id);
        assert_eq!(id.enrollment_id, "UDID-1:USER");
        assert_eq!(id.device_id, "UDID-1");
        assert_eq!(id.user_id, "USER");
    }

    #[test]
    fn bound_certificate_policy_leaves_the_cn_alone() {
        let id = verify(
            IdentityPolicy::BoundCertificate,
            AuthMethod::Mtls,
            &cert(""),
            &enrollment("UDID-1", None),
        )
        .expect("binding is checked by enroll-svc");
        assert_eq!(id.policy(), v1::IdentityPolicy::BoundCertificate);
    }
}
