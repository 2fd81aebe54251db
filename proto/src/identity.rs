//! The device identity the edge verified, as the services receive it: validated types built only
//! through constructors that check them, instead of the raw prost fields.
//!
//! | type | what it guarantees |
//! |---|---|
//! | [`CertSha256`] | exactly 32 bytes |
//! | [`DeviceId`] | a device channel's ID (UDID or EnrollmentID): non-empty, at most [`MAX_ID_LEN`] bytes, no control character, no `:` |
//! | [`EnrollmentId`] | a [`DeviceId`], or `<device>:<user>` for a user channel |
//! | [`VerifiedIdentity`] | the above, consistent with each other, under a named policy that it satisfies |
//!
//! The edge builds the wire form ([`DeviceIdentity`]) from a message's [`EnrollmentRef`] with
//! [`VerifiedIdentity::new`]; a service reads it back with `VerifiedIdentity::try_from`, which
//! repeats every check (a bug or a misrouted call in the edge must not let one device act for
//! another), and compares it with the message it carries with [`VerifiedIdentity::speaks_for`].

use crate::v1::{AuthMethod, DeviceIdentity, IdentityPolicy};
use mdm_core::error::excerpt;
use mdm_core::{EnrollmentRef, MAX_ID_LEN};
use std::fmt;

/// Why an identity is refused (always a 403: it is never a question of enrollment).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IdentityError(String);

fn refuse<T>(why: impl Into<String>) -> Result<T, IdentityError> {
    Err(IdentityError(why.into()))
}

/// The SHA-256 of a certificate's DER: what an enrollment is bound to.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertSha256([u8; 32]);

impl CertSha256 {
    /// The fingerprint `bytes`.
    pub fn new(bytes: [u8; 32]) -> CertSha256 {
        CertSha256(bytes)
    }

    /// A fingerprint from the wire; refuses anything but 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<CertSha256, IdentityError> {
        match <[u8; 32]>::try_from(bytes) {
            Ok(bytes) => Ok(CertSha256(bytes)),
            Err(_) => refuse("the certificate hash is not a SHA-256"),
        }
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for CertSha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in &self.0[..8] {
            write!(f, "{byte:02x}")?;
        }
        f.write_str("…")
    }
}

/// A device channel's ID: the UDID, or the EnrollmentID under User Enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceId(String);

impl DeviceId {
    /// Checks `id`: non-empty, at most [`MAX_ID_LEN`] bytes, no control character, no `:`.
    pub fn new(id: String) -> Result<DeviceId, IdentityError> {
        check_id("device ID", &id)?;
        if id.contains(':') {
            return refuse("a device ID contains ':'");
        }
        Ok(DeviceId(id))
    }

    /// The ID.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An enrollment's ID: its device channel's ID, or `<device>:<user>` for a user channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnrollmentId(String);

impl EnrollmentId {
    /// Checks that `id` is `device`'s own channel or one of its user channels.
    pub fn new(id: String, device: &DeviceId) -> Result<EnrollmentId, IdentityError> {
        let of_device = match id.strip_prefix(device.as_str()) {
            Some("") => true,
            Some(user) => user
                .strip_prefix(':')
                .is_some_and(|user| check_id("user ID", user).is_ok()),
            None => false,
        };
        if !of_device {
            return refuse(format!(
                "enrollment {} is not a channel of device {}",
                excerpt(&id),
                device.as_str()
            ));
        }
        Ok(EnrollmentId(id))
    }

    /// The ID.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a user channel.
    pub fn is_user_channel(&self) -> bool {
        self.0.contains(':')
    }
}

/// Who sent a device message, as the edge verified it: the enrollment and device channel the
/// message names, the certificate that speaks for it, and the policy that certificate satisfies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    enrollment_id: EnrollmentId,
    device_id: DeviceId,
    cert_sha256: CertSha256,
    cert_common_name: String,
    auth_method: AuthMethod,
    policy: IdentityPolicy,
    generation: u64,
}

impl VerifiedIdentity {
    /// The identity of a message naming `enrollment` sent with the certificate `cert_sha256`
    /// (subject CN `cert_common_name`, verified by `auth_method`), under `policy`: refused when
    /// the policy is unspecified or, under `cn-equals-udid`, when the CN is not the device's ID.
    pub fn new(
        enrollment: &EnrollmentRef,
        cert_sha256: CertSha256,
        cert_common_name: &str,
        auth_method: AuthMethod,
        policy: IdentityPolicy,
    ) -> Result<VerifiedIdentity, IdentityError> {
        let device_id = DeviceId::new(enrollment.device_id.clone())?;
        let identity = VerifiedIdentity {
            enrollment_id: EnrollmentId::new(enrollment.id.clone(), &device_id)?,
            device_id,
            cert_sha256,
            cert_common_name: cert_common_name.to_owned(),
            auth_method,
            policy,
            generation: 0,
        };
        identity.check_policy()?;
        Ok(identity)
    }

    /// The same identity at the enrollment's `generation` (as enroll-svc admitted it).
    pub fn at_generation(mut self, generation: u64) -> VerifiedIdentity {
        self.generation = generation;
        self
    }

    /// The same identity held to `policy` instead (enroll-svc holds a direct-profile certificate
    /// to the certificate binding); refused if it does not satisfy it.
    pub fn under(mut self, policy: IdentityPolicy) -> Result<VerifiedIdentity, IdentityError> {
        self.policy = policy;
        self.check_policy()?;
        Ok(self)
    }

    /// Checks that this identity is the one `enrollment` (from the message it came with) names.
    pub fn speaks_for(&self, enrollment: &EnrollmentRef) -> Result<(), IdentityError> {
        if self.enrollment_id.as_str() != enrollment.id
            || self.device_id.as_str() != enrollment.device_id
        {
            return refuse(format!(
                "forwarded for {:?} but the message is from {:?}",
                self.enrollment_id.as_str(),
                excerpt(&enrollment.id)
            ));
        }
        Ok(())
    }

    fn check_policy(&self) -> Result<(), IdentityError> {
        match self.policy {
            IdentityPolicy::Unspecified => refuse("no identity policy was applied"),
            IdentityPolicy::CnEqualsUdid if self.cert_common_name != self.device_id.as_str() => {
                refuse(format!(
                    "certificate CN {:?} is not the message's device {:?}",
                    excerpt(&self.cert_common_name),
                    self.device_id.as_str()
                ))
            }
            _ => Ok(()),
        }
    }

    /// The enrollment.
    pub fn enrollment_id(&self) -> &EnrollmentId {
        &self.enrollment_id
    }

    /// The device channel the certificate speaks for.
    pub fn device_id(&self) -> &DeviceId {
        &self.device_id
    }

    /// The certificate's fingerprint.
    pub fn cert_sha256(&self) -> &CertSha256 {
        &self.cert_sha256
    }

    /// The certificate's subject CN (empty if it has none).
    pub fn cert_common_name(&self) -> &str {
        &self.cert_common_name
    }

    /// The policy the identity satisfies.
    pub fn policy(&self) -> IdentityPolicy {
        self.policy
    }

    /// The enrollment's generation when it was admitted to the command channel (0 otherwise).
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

impl TryFrom<DeviceIdentity> for VerifiedIdentity {
    type Error = IdentityError;

    fn try_from(wire: DeviceIdentity) -> Result<VerifiedIdentity, IdentityError> {
        let device_id = DeviceId::new(wire.device_id)?;
        let enrollment_id = EnrollmentId::new(wire.enrollment_id, &device_id)?;
        let identity = VerifiedIdentity {
            auth_method: AuthMethod::try_from(wire.auth_method).unwrap_or(AuthMethod::Unspecified),
            policy: IdentityPolicy::try_from(wire.policy).unwrap_or(IdentityPolicy::Unspecified),
            enrollment_id,
            device_id,
            cert_sha256: CertSha256::from_slice(&wire.cert_sha256)?,
            cert_common_name: wire.cert_common_name,
            generation: wire.generation,
        };
        identity.check_policy()?;
        Ok(identity)
    }
}

impl TryFrom<Option<DeviceIdentity>> for VerifiedIdentity {
    type Error = IdentityError;

    fn try_from(wire: Option<DeviceIdentity>) -> Result<VerifiedIdentity, IdentityError> {
        match wire {
            Some(wire) => VerifiedIdentity::try_from(wire),
            None => refuse("no identity was forwarded"),
        }
    }
}

impl From<VerifiedIdentity> for DeviceIdentity {
    fn from(identity: VerifiedIdentity) -> DeviceIdentity {
        let user_id = identity
            .enrollment_id
            .as_str()
            .split_once(':')
            .map(|(_, user)| user.to_owned())
            .unwrap_or_default();
        DeviceIdentity {
            enrollment_id: identity.enrollment_id.0,
            device_id: identity.device_id.0,
            user_id,
            cert_sha256: identity.cert_sha256.0.to_vec(),
            cert_common_name: identity.cert_common_name,
            auth_method: identity.auth_method.into(),
            policy: identity.policy.into(),
            generation: identity.generation,
        }
    }
}

fn check_id(what: &str, id: &str) -> Result<(), IdentityError> {
    if id.is_empty() || id.len() > MAX_ID_LEN || id.chars().any(char::is_control) {
        return refuse(format!(
            "{what} {:?} is empty, over {MAX_ID_LEN} bytes or has a control character",
            excerpt(id)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
