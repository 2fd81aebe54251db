//! Why an enrollment failed, and at which step of the flow.

use mdm_pki::scep::{FailInfo, PkiStatus};

/// A step of an enrollment flow, as a device goes through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// OTA phase 1: `GET /enroll?token=…` answers the signed Profile Service payload.
    OtaProfileService,
    /// OTA phase 2: the device's attributes signed by its Apple device certificate, answered
    /// by a profile with a SCEP payload.
    OtaDeviceAttributes,
    /// SCEP for the OTA identity (it signs phase 3, nothing else).
    OtaIdentity,
    /// OTA phase 3: the attributes signed by the OTA identity, answered by the enrollment
    /// profile with its payloads encrypted to that identity.
    OtaEnrollmentProfile,
    /// `GET /enroll/profile?token=…`: the direct enrollment profile.
    DirectProfile,
    /// Reading the enrollment profile's MDM payload and the SCEP payload it names.
    MdmPayload,
    /// SCEP for the MDM identity.
    MdmIdentity,
    /// An enrollment profile received in an InstallProfile command (identity renewal): opened
    /// and decrypted with the current identity.
    RenewalProfile,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::OtaProfileService => "OTA phase 1 (Profile Service)",
            Step::OtaDeviceAttributes => "OTA phase 2 (device attributes)",
            Step::OtaIdentity => "SCEP for the OTA identity",
            Step::OtaEnrollmentProfile => "OTA phase 3 (enrollment profile)",
            Step::DirectProfile => "direct enrollment profile",
            Step::MdmPayload => "enrollment profile's MDM payload",
            Step::MdmIdentity => "SCEP for the MDM identity",
            Step::RenewalProfile => "renewal profile (InstallProfile)",
        })
    }
}

/// Why an enrollment failed.
#[derive(Debug, thiserror::Error)]
pub enum EnrollmentError {
    /// The request could not be sent or its answer read (connection, TLS, timeout).
    #[error("{step}: {request}: {source}")]
    Http {
        /// Where in the flow.
        step: Step,
        /// What was asked, e.g. `POST /enroll` or `GetCACert` (never the token).
        request: &'static str,
        /// The cause.
        source: reqwest::Error,
    },
    /// The server answered with a status other than 200.
    #[error("{step}: {request} answered HTTP {status}: {body}")]
    Refused {
        /// Where in the flow.
        step: Step,
        /// What was asked.
        request: &'static str,
        /// The HTTP status.
        status: u16,
        /// The start of the answer's body, as text.
        body: String,
    },
    /// The answer's body is over the simulator's limit.
    #[error("{step}: {request} answered more than {limit} bytes")]
    TooLarge {
        /// Where in the flow.
        step: Step,
        /// What was asked.
        request: &'static str,
        /// The limit.
        limit: usize,
    },
    /// The server answered 200 with something a device cannot use (a bad signature, a
    /// missing payload or key, a certificate for another key).
    #[error("{step}: {reason}")]
    Unexpected {
        /// Where in the flow.
        step: Step,
        /// What was wrong.
        reason: String,
    },
    /// The SCEP server answered a CertRep without a certificate.
    #[error("{step}: the CertRep is {status:?} (failInfo {fail_info:?}{})", text.as_deref().map(|t| format!(", {t}")).unwrap_or_default())]
    ScepFailure {
        /// Which SCEP enrollment.
        step: Step,
        /// FAILURE or PENDING.
        status: PkiStatus,
        /// failInfo, if any.
        fail_info: Option<FailInfo>,
        /// failInfoText, if any.
        text: Option<String>,
    },
    /// Something on the device's own side failed: its HTTPS client, a key, a signature.
    #[error("{step}: {reason}")]
    Device {
        /// Where in the flow.
        step: Step,
        /// What failed.
        reason: String,
    },
}

impl EnrollmentError {
    /// The step that failed.
    pub fn step(&self) -> Step {
        match self {
            EnrollmentError::Http { step, .. }
            | EnrollmentError::Refused { step, .. }
            | EnrollmentError::TooLarge { step, .. }
            | EnrollmentError::Unexpected { step, .. }
            | EnrollmentError::ScepFailure { step, .. }
            | EnrollmentError::Device { step, .. } => *step,
        }
    }

    /// The HTTP status the server refused with, if that is what happened.
    pub fn refused_status(&self) -> Option<u16> {
        match self {
            EnrollmentError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub(super) fn unexpected(step: Step, reason: impl Into<String>) -> EnrollmentError {
        EnrollmentError::Unexpected {
            step,
            reason: reason.into(),
        }
    }

    pub(super) fn device(step: Step, reason: impl std::fmt::Display) -> EnrollmentError {
        EnrollmentError::Device {
            step,
            reason: reason.to_string(),
        }
    }
}
