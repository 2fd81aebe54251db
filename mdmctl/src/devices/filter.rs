//! The `devices list` filters applied here: the API filters by status only.

use crate::client::model::Enrollment;
use crate::duration::parse_timestamp;
use std::time::SystemTime;

/// Which enrollments to keep.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// OS version prefix, by whole dot-separated components.
    pub os_prefix: Option<String>,
    /// Last seen at or after this time; never-seen enrollments fail it.
    pub seen_since: Option<SystemTime>,
}

impl Filter {
    /// Whether `device` passes every filter given.
    pub fn matches(&self, device: &Enrollment) -> bool {
        let os_ok = self.os_prefix.as_deref().is_none_or(|prefix| {
            device
                .os_version
                .as_deref()
                .is_some_and(|version| version_has_prefix(version, prefix))
        });
        let seen_ok = self.seen_since.is_none_or(|since| {
            device
                .last_seen_at
                .as_deref()
                .and_then(parse_timestamp)
                .is_some_and(|seen| seen >= since)
        });
        os_ok && seen_ok
    }
}

/// `17.4` is a prefix of `17.4` and `17.4.1` but not of `17.40`.
fn version_has_prefix(version: &str, prefix: &str) -> bool {
    let prefix = prefix.trim().trim_end_matches('.');
    version == prefix
        || version
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::parse_timestamp;

    fn device(os: Option<&str>, seen: Option<&str>) -> Enrollment {
        Enrollment {
            os_version: os.map(str::to_owned),
            last_seen_at: seen.map(str::to_owned),
            ..Enrollment::default()
        }
    }

    #[test]
    fn os_prefixes_match_whole_components() {
        assert!(version_has_prefix("17.4.1", "17"));
        assert!(version_has_prefix("17.4.1", "17.4"));
        assert!(version_has_prefix("17.4", "17.4."));
        assert!(!version_has_prefix("17.40", "17.4"));
        assert!(!version_has_prefix("170.1", "17"));
        let filter = Filter {
            os_prefix: Some("11.3".into()),
            ..Filter::default()
        };
        assert!(filter.matches(&device(Some("11.3.1"), None)));
        assert!(!filter.matches(&device(None, None)), "unknown OS fails");
    }

    #[test]
    fn last_seen_keeps_recent_devices_only() {
        let filter = Filter {
            seen_since: parse_timestamp("2026-11-20T12:00:00Z"),
            ..Filter::default()
        };
        assert!(filter.matches(&device(None, Some("2026-11-21T08:00:00.250Z"))));
        assert!(!filter.matches(&device(None, Some("2026-11-19T08:00:00Z"))));
        assert!(!filter.matches(&device(None, None)), "never seen fails");
        assert!(Filter::default().matches(&device(None, None)));
    }
}
