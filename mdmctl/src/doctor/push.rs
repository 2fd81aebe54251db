//! Push, the part whose mistakes devices hide best (an enrolled device that is never woken):
//! `push-certificate` (installed, in date, not refused by APNs), `push-topic` (the topic enroll-svc
//! puts in profiles is one a certificate can push), `apns` (push-svc reaches APNs and completes
//! the handshake with each certificate; no push is sent).

use super::report::Check;
use crate::duration::parse_timestamp;
use mdm_api::diagnostics::ServiceDiagnosis;
use mdm_api::push::PushCertificate;
use std::time::SystemTime;

/// How to install one, for fixes.
const UPLOAD: &str = "mdmctl push-cert upload --cert push.pem --key push.key";

/// `push-certificate`: at least one, none expired; warns about those near expiry or refused.
pub fn certificates(certs: &[PushCertificate], now: SystemTime) -> Check {
    const NAME: &str = "push-certificate";
    if certs.is_empty() {
        return Check::fail(
            NAME,
            "no push certificate is installed: no device can be woken",
            format!(
                "get one from Apple (docs/getting-started.md, step 2) and install it: {UPLOAD}"
            ),
        );
    }
    let expired = certs.iter().find(|c| {
        c.not_after
            .as_deref()
            .and_then(parse_timestamp)
            .is_some_and(|at| at <= now)
    });
    if let Some(c) = expired {
        return Check::fail(
            NAME,
            format!(
                "the certificate of {} expired at {}: its devices cannot be woken",
                c.topic,
                c.not_after.as_deref().unwrap_or("?")
            ),
            format!(
                "renew it at Apple's Push Certificates Portal with the Apple Account that made it (Renew keeps the topic), then {UPLOAD}"
            ),
        );
    }
    if let Some(c) = certs.iter().find(|c| c.last_error.is_some()) {
        return Check::warn(
            NAME,
            format!(
                "APNs refused the certificate of {}: {}",
                c.topic,
                c.last_error.as_deref().unwrap_or("")
            ),
            "check that it is Apple's certificate for this topic and not revoked; renew it if APNs keeps refusing",
        );
    }
    if let Some(c) = certs.iter().find(|c| c.warning.is_some()) {
        return Check::warn(
            NAME,
            format!(
                "the certificate of {} expires in {} days",
                c.topic, c.days_left
            ),
            format!("renew it now at Apple's Push Certificates Portal with the same Apple Account, then {UPLOAD}"),
        );
    }
    let soonest = certs.iter().map(|c| c.days_left).min().unwrap_or_default();
    Check::pass(
        NAME,
        format!(
            "{} installed; the first expires in {soonest} days",
            certs.len()
        ),
    )
}

/// `push-topic`: enroll-svc's `enrollment.topic` is the topic of an installed certificate, so
/// that the TokenUpdate of every device it enrolls is accepted and can be pushed.
pub fn topic(enrollment_topic: &str, certs: &[PushCertificate]) -> Check {
    const NAME: &str = "push-topic";
    if certs.iter().any(|c| c.topic == enrollment_topic) {
        return Check::pass(
            NAME,
            format!("enrollment profiles name {enrollment_topic}, a certificate's topic"),
        );
    }
    let topics: Vec<&str> = certs.iter().map(|c| c.topic.as_str()).collect();
    let installed = if topics.is_empty() {
        "none is installed".to_owned()
    } else {
        format!("the certificates are for {}", topics.join(", "))
    };
    Check::fail(
        NAME,
        format!("enrollment profiles name topic {enrollment_topic}, but {installed}"),
        format!(
            "set enroll-svc's enrollment.topic (MDM_ENROLL_ENROLLMENT__TOPIC) to the push certificate's UID and restart enroll-svc, or install the certificate of {enrollment_topic} ({UPLOAD} --new-topic); until then devices enrolled with it are refused at TokenUpdate"
        ),
    )
}

/// `apns`: push-svc's handshake with APNs with each certificate.
pub fn apns(push: &ServiceDiagnosis) -> Check {
    const NAME: &str = "apns";
    let findings: Vec<_> = push
        .findings
        .iter()
        .filter(|f| f.name == "apns" || f.name.starts_with("apns:"))
        .collect();
    if findings.is_empty() {
        return Check::skip(NAME, "push-svc reported nothing about APNs");
    }
    if let Some(failed) = findings.iter().find(|f| !f.ok) {
        let topic = failed.name.strip_prefix("apns:").unwrap_or("");
        let summary = if topic.is_empty() {
            failed.detail.clone()
        } else {
            format!("{topic}: {}", failed.detail)
        };
        return Check::fail(
            NAME,
            summary,
            "push-svc must reach APNs (TCP 443 to api.push.apple.com; allow it through firewalls and proxies) and trust its root (apns.ca_files, or the public roots); a refused handshake means APNs does not accept the certificate",
        );
    }
    let details: Vec<String> = findings
        .iter()
        .map(|f| {
            let topic = f.name.strip_prefix("apns:").unwrap_or(&f.name);
            format!("{topic}: {}", f.detail)
        })
        .collect();
    Check::pass(NAME, details.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::report::Status;

    fn cert(topic: &str, not_after: &str, days_left: i64) -> PushCertificate {
        PushCertificate {
            topic: topic.into(),
            subject: String::new(),
            issuer: String::new(),
            serial_number: String::new(),
            sha256: String::new(),
            environment: "production".into(),
            not_before: None,
            not_after: Some(not_after.into()),
            days_left,
            warning: None,
            uploaded_at: None,
            uploaded_by: None,
            last_error: None,
            last_error_at: None,
            version: 1,
        }
    }

    #[test]
    fn expiry_and_topics_are_judged() {
        let now = parse_timestamp("2026-12-01T00:00:00Z").expect("time");
        let good = cert("T1", "2027-06-01T00:00:00Z", 182);
        assert_eq!(
            certificates(std::slice::from_ref(&good), now).status,
            Status::Pass
        );
        let old = cert("T1", "2026-11-30T23:59:59Z", 0);
        let check = certificates(&[old], now);
        assert_eq!(check.status, Status::Fail);
        assert!(check.summary.contains("expired"), "{check:?}");
        assert_eq!(certificates(&[], now).status, Status::Fail);
        assert_eq!(
            topic("T1", std::slice::from_ref(&good)).status,
            Status::Pass
        );
        let wrong = topic("T2", &[good]);
        assert_eq!(
            wrong.summary,
            "enrollment profiles name topic T2, but the certificates are for T1"
        );
    }
}
