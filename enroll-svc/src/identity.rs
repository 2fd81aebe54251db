//! The identity the edge verified, as enroll-svc receives it, and the checks enroll-svc repeats.
//!
//! The edge applies the identity policy before calling; enroll-svc checks again that the identity
//! fits the message it forwarded (defence in depth: a bug or a misrouted call in the edge must not
//! let one device act for another). The certificate binding is enforced by the store.

use crate::error::Error;
use mdm_core::EnrollmentRef;
use mdm_proto::v1::{DeviceIdentity, IdentityPolicy};

/// A verified device identity.
#[derive(Debug, Clone)]
pub struct VerifiedIdentity {
    /// Enrollment ID the edge derived from the message.
    pub enrollment_id: String,
    /// Device channel the certificate speaks for.
    pub device_id: String,
    /// SHA-256 of the client certificate.
    pub cert_sha256: Vec<u8>,
    /// Subject CN of the certificate.
    pub cert_common_name: String,
    /// The policy the edge applied.
    pub policy: IdentityPolicy,
}

impl TryFrom<Option<DeviceIdentity>> for VerifiedIdentity {
    type Error = Error;
    fn try_from(identity: Option<DeviceIdentity>) -> Result<Self, Error> {
        let identity =
            identity.ok_or_else(|| Error::IdentityMismatch("no identity was forwarded".into()))?;
        if identity.cert_sha256.len() != 32 {
            return Err(Error::IdentityMismatch(
                "the certificate hash is not a SHA-256".into(),
            ));
        }
        let policy = identity.policy();
        if policy == IdentityPolicy::Unspecified {
            return Err(Error::IdentityMismatch(
                "no identity policy was applied".into(),
            ));
        }
        Ok(VerifiedIdentity {
            enrollment_id: identity.enrollment_id,
            device_id: identity.device_id,
            cert_sha256: identity.cert_sha256,
            cert_common_name: identity.cert_common_name,
            policy,
        })
    }
}

impl VerifiedIdentity {
    /// Checks that this identity is the one the message names, under the policy applied.
    pub fn check(&self, enrollment: &EnrollmentRef) -> Result<(), Error> {
        if self.enrollment_id != enrollment.id || self.device_id != enrollment.device_id {
            return Err(Error::IdentityMismatch(format!(
                "forwarded for {:?} but the message is from {:?}",
                self.enrollment_id, enrollment.id
            )));
        }
        self.check_policy()
    }

    /// Checks the identity policy the edge says it applied: under `cn-equals-udid` the
    /// certificate's CN must be the device channel's ID.
    pub fn check_policy(&self) -> Result<(), Error> {
        if self.policy == IdentityPolicy::CnEqualsUdid && self.cert_common_name != self.device_id {
            return Err(Error::IdentityMismatch(format!(
                "certificate CN {:?} is not {:?}",
                self.cert_common_name, self.device_id
            )));
        }
        Ok(())
    }
}
