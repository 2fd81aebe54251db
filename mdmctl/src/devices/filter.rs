//! The `devices list` filters as the API's query: the server filters everything (an OS version
//! by whole components: `17.4` finds 17.4.1, never 17.40).

use super::ListArgs;
use crate::duration::rfc3339;
use mdm_api::devices::DeviceQuery;
use std::time::SystemTime;

/// The query of `args`, with durations counted back from `now`.
pub fn query(args: &ListArgs, now: SystemTime) -> DeviceQuery {
    let since =
        |within: Option<std::time::Duration>| within.and_then(|d| now.checked_sub(d)).map(rfc3339);
    DeviceQuery {
        status: args.status,
        serial: args.serial.clone(),
        model: args.model.clone(),
        os_version: args
            .os_version
            .as_deref()
            .map(|v| v.trim().trim_end_matches('.').to_owned()),
        name: args.name.clone(),
        last_seen_after: since(args.last_seen_within),
        last_seen_before: since(args.not_seen_within),
        sort: args.sort,
        descending: args.descending.then_some(true),
        cursor: None,
        limit: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::parse_timestamp;
    use mdm_api::devices::EnrollmentStatus;
    use std::time::Duration;

    #[test]
    fn durations_become_times_before_now() {
        let now = parse_timestamp("2026-11-21T12:00:00Z").expect("time");
        let args = ListArgs {
            status: Some(EnrollmentStatus::Enrolled),
            os_version: Some(" 17. ".into()),
            last_seen_within: Some(Duration::from_secs(3600)),
            not_seen_within: Some(Duration::from_secs(86_400)),
            ..ListArgs::default()
        };
        let query = query(&args, now);
        assert_eq!(query.status, Some(EnrollmentStatus::Enrolled));
        assert_eq!(query.os_version.as_deref(), Some("17"));
        assert_eq!(
            query.last_seen_after.as_deref(),
            Some("2026-11-21T11:00:00Z")
        );
        assert_eq!(
            query.last_seen_before.as_deref(),
            Some("2026-11-20T12:00:00Z")
        );
        assert_eq!(query.serial, None);
    }
}
