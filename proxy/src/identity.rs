//! The identity policy (docs/architecture.md §4): does this certificate speak for the device that the
//! message names? The certificate binding (one certificate, one enrollment) is enforced by
//! enroll-svc, which owns it; this is the part the edge can decide alone, before any backend
//! is called.

use crate::config::IdentityPolicy;
use crate::error::ProxyError;
use crate::tls::ClientCertificate;
use mdm_core::EnrollmentRef;
use mdm_proto::v1::{self, AuthMethod, DeviceIdentity};

/// Applies `policy` and builds the identity forwarded to the services.
pub fn verify(
    policy: IdentityPolicy,
    method: AuthMethod,
    cert: &ClientCertificate,
    enrollment: &EnrollmentRef,
) -> Result<DeviceIdentity, ProxyError> {
    let proto_policy = match policy {
        IdentityPolicy::CnEqualsUdid => {
            if cert.common_name != enrollment.device_id {
                return Err(ProxyError::IdentityMismatch(format!(
                    "certificate CN {:?} is not the message's device {:?}",
                    cert.common_name, enrollment.device_id
                )));
            }
            v1::IdentityPolicy::CnEqualsUdid
        }
        IdentityPolicy::BoundCertificate => v1::IdentityPolicy::BoundCertificate,
    };
    Ok(DeviceIdentity {
        enrollment_id: enrollment.id.clone(),
        device_id: enrollment.device_id.clone(),
        user_id: enrollment.user_id.clone().unwrap_or_default(),
        cert_sha256: cert.sha256.to_vec(),
        cert_common_name: cert.common_name.clone(),
        auth_method: method.into(),
        policy: proto_policy.into(),
        // Known once enroll-svc has authorized the identity (command channel).
        generation: 0,
    })
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
        assert_eq!(ok.enrollment_id, "UDID-1");
        assert_eq!(ok.cert_sha256, vec![7; 32]);
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
