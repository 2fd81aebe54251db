//! What became of one push, decided from APNs's status first: reasons are an open set
//! (docs/architecture.md §11), so an unknown reason under a known status is still classified, and kept
//! verbatim beside the outcome.

use crate::apns::ApnsReply;
use mdm_proto::v1::PushOutcome;

/// The outcome of a push for one enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// 200.
    Delivered,
    /// No target registered.
    NoTarget,
    /// The target is inactive: not sent.
    Inactive,
    /// 410: the token is gone; the target becomes inactive and flagged.
    Unregistered,
    /// 400 BadDeviceToken / DeviceTokenNotForTopic: the target is flagged.
    BadToken,
    /// 403, or a topic APNs refuses: the certificate's problem, not the device's.
    CertificateRejected,
    /// No certificate installed.
    NoCertificate,
    /// The target's topic is not the certificate's: not sent, flagged.
    TopicMismatch,
    /// Any other refusal (reason verbatim).
    Rejected,
    /// Unreachable or 5xx/429 after every retry.
    Failed,
}

/// Every outcome, for exhaustive tests and metrics.
pub const ALL: [Outcome; 10] = [
    Outcome::Delivered,
    Outcome::NoTarget,
    Outcome::Inactive,
    Outcome::Unregistered,
    Outcome::BadToken,
    Outcome::CertificateRejected,
    Outcome::NoCertificate,
    Outcome::TopicMismatch,
    Outcome::Rejected,
    Outcome::Failed,
];

/// 400 reasons that say the certificate or topic is wrong rather than the device token.
const CERTIFICATE_REASONS: [&str; 5] = [
    "BadTopic",
    "TopicDisallowed",
    "MissingTopic",
    "BadCertificate",
    "BadCertificateEnvironment",
];

impl Outcome {
    /// The stable name in APIs, the database and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::NoTarget => "no_target",
            Outcome::Inactive => "inactive",
            Outcome::Unregistered => "unregistered",
            Outcome::BadToken => "bad_token",
            Outcome::CertificateRejected => "certificate_rejected",
            Outcome::NoCertificate => "no_certificate",
            Outcome::TopicMismatch => "topic_mismatch",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
        }
    }

    /// The proto enum value.
    pub fn proto(self) -> PushOutcome {
        match self {
            Outcome::Delivered => PushOutcome::Delivered,
            Outcome::NoTarget => PushOutcome::NoTarget,
            Outcome::Inactive => PushOutcome::Inactive,
            Outcome::Unregistered => PushOutcome::Unregistered,
            Outcome::BadToken => PushOutcome::BadToken,
            Outcome::CertificateRejected => PushOutcome::CertificateRejected,
            Outcome::NoCertificate => PushOutcome::NoCertificate,
            Outcome::TopicMismatch => PushOutcome::TopicMismatch,
            Outcome::Rejected => PushOutcome::Rejected,
            Outcome::Failed => PushOutcome::Failed,
        }
    }

    /// Whether APNs was asked (the target's last push is recorded).
    pub fn was_attempted(self) -> bool {
        !matches!(
            self,
            Outcome::NoTarget | Outcome::Inactive | Outcome::NoCertificate
        )
    }
}

/// One enrollment's result: outcome, APNs reason (verbatim) or our explanation, HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushResult {
    /// What happened.
    pub outcome: Outcome,
    /// Why, in APNs's words when APNs answered.
    pub reason: String,
    /// APNs's HTTP status; 0 when APNs was not reached.
    pub status: u16,
}

impl PushResult {
    /// A result decided without APNs.
    pub fn local(outcome: Outcome, reason: impl Into<String>) -> PushResult {
        PushResult {
            outcome,
            reason: reason.into(),
            status: 0,
        }
    }

    /// Classifies APNs's answer.
    pub fn from_reply(reply: ApnsReply) -> PushResult {
        match reply {
            ApnsReply::Unreachable(why) => PushResult::local(Outcome::Failed, why),
            ApnsReply::Answered { status, reason } => {
                let outcome = match status {
                    200 => Outcome::Delivered,
                    410 => Outcome::Unregistered,
                    403 => Outcome::CertificateRejected,
                    400 if reason == "BadDeviceToken" || reason == "DeviceTokenNotForTopic" => {
                        Outcome::BadToken
                    }
                    400 if CERTIFICATE_REASONS.contains(&reason.as_str()) => {
                        Outcome::CertificateRejected
                    }
                    429 | 500..=599 => Outcome::Failed,
                    _ => Outcome::Rejected,
                };
                PushResult {
                    outcome,
                    reason,
                    status,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(status: u16, reason: &str) -> Outcome {
        PushResult::from_reply(ApnsReply::Answered {
            status,
            reason: reason.into(),
        })
        .outcome
    }

    #[test]
    fn statuses_decide_first() {
        assert_eq!(classify(200, ""), Outcome::Delivered);
        assert_eq!(classify(410, "Unregistered"), Outcome::Unregistered);
        assert_eq!(classify(410, "ExpiredToken"), Outcome::Unregistered);
        assert_eq!(classify(410, "SomethingNew"), Outcome::Unregistered);
        assert_eq!(classify(400, "BadDeviceToken"), Outcome::BadToken);
        assert_eq!(classify(400, "DeviceTokenNotForTopic"), Outcome::BadToken);
        assert_eq!(
            classify(400, "TopicDisallowed"),
            Outcome::CertificateRejected
        );
        assert_eq!(
            classify(403, "BadCertificate"),
            Outcome::CertificateRejected
        );
        assert_eq!(classify(403, "NewReason"), Outcome::CertificateRejected);
        assert_eq!(classify(400, "PayloadEmpty"), Outcome::Rejected);
        assert_eq!(classify(413, "PayloadTooLarge"), Outcome::Rejected);
        assert_eq!(classify(429, "TooManyRequests"), Outcome::Failed);
        assert_eq!(classify(503, "ServiceUnavailable"), Outcome::Failed);
        let unknown = PushResult::from_reply(ApnsReply::Answered {
            status: 400,
            reason: "BrandNewReason".into(),
        });
        assert_eq!(unknown.reason, "BrandNewReason", "kept verbatim");
    }

    #[test]
    fn names_are_distinct() {
        let names: std::collections::HashSet<_> = ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(names.len(), ALL.len());
    }
}
