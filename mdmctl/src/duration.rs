//! Durations on the command line (`24h`, `5m`, `1h30m`) and the ages shown in tables
//! (`3h ago`), from the API's RFC 3339 timestamps.

use mdm_api::commands::{ExpiresAfter, Expiry};
use std::time::{Duration, SystemTime};

/// Parses a positive duration such as `90s`, `5m`, `24h`, `7d` or `1h 30m`: the value parser of
/// `--timeout`, `--ttl` and `--last-seen-within`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?} is not a duration ({e}); write e.g. 90s, 5m, 24h or 7d"))?;
    if duration.is_zero() {
        return Err("the duration must be more than zero".into());
    }
    Ok(duration)
}

/// An RFC 3339 timestamp from the API; `None` if it does not parse.
pub fn parse_timestamp(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(text).ok()
}

/// A lifetime given on the command line (`--ttl`, `--expires-in`) as the API's expiry. The API
/// counts whole seconds: rounded up, so that `500ms` does not become "already expired"; a
/// lifetime beyond what a `u32` holds is left for the server to refuse as too long.
pub fn ttl(duration: Duration) -> Expiry {
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    Expiry::After(ExpiresAfter {
        ttl_seconds: u32::try_from(secs).unwrap_or(u32::MAX),
    })
}

/// `time` as RFC 3339 in UTC, to whole seconds: how the API takes times.
pub fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

/// Whether the RFC 3339 time `at` is at or before `now` (an expiry that has come); `false`
/// without a time.
pub fn is_past(at: Option<&str>, now: SystemTime) -> bool {
    at.and_then(parse_timestamp).is_some_and(|at| at <= now)
}

/// How long before `now` the RFC 3339 time `at` was, in its largest whole unit: `45s ago`,
/// `12m ago`, `3h ago`, `5d ago`. A time after `now` (clock skew) shows as `just now`; text
/// that is not a timestamp is shown unchanged.
pub fn age(now: SystemTime, at: &str) -> String {
    let Some(then) = parse_timestamp(at) else {
        return at.to_owned();
    };
    let secs = now.duration_since(then).map_or(0, |d| d.as_secs());
    match secs {
        0..=4 => "just now".into(),
        5..=59 => format!("{secs}s ago"),
        60..=3599 => format!("{}m ago", secs / 60),
        3600..=86_399 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_human_units() {
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration(" 1h 30m "), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn bad_and_zero_durations_are_refused_with_an_example() {
        for bad in ["", "24", "soon", "-5m", "5 parsecs"] {
            let error = parse_duration(bad).expect_err(bad);
            assert!(error.contains("e.g. 90s"), "{bad}: {error}");
        }
        assert!(parse_duration("0s").is_err());
    }

    #[test]
    fn lifetimes_are_whole_seconds_rounded_up() {
        let secs = |d| match ttl(d) {
            Expiry::After(after) => after.ttl_seconds,
            Expiry::At(at) => panic!("{at:?}"),
        };
        assert_eq!(secs(Duration::from_millis(500)), 1);
        assert_eq!(secs(Duration::from_secs(3600)), 3600);
        assert_eq!(secs(Duration::from_millis(1500)), 2);
    }

    #[test]
    fn times_are_written_for_the_api_and_compared() {
        let now = parse_timestamp("2026-11-21T12:00:00.750Z").expect("valid");
        assert_eq!(rfc3339(now), "2026-11-21T12:00:00Z");
        assert!(is_past(Some("2026-11-21T11:00:00Z"), now));
        assert!(!is_past(Some("2026-11-22T00:00:00Z"), now));
        assert!(!is_past(None, now));
    }

    #[test]
    fn ages_use_the_largest_whole_unit() {
        let now = parse_timestamp("2026-11-21T12:00:00Z").expect("valid");
        assert_eq!(age(now, "2026-11-21T12:00:00Z"), "just now");
        assert_eq!(age(now, "2026-11-21T11:59:15.500Z"), "44s ago");
        assert_eq!(age(now, "2026-11-21T11:48:00Z"), "12m ago");
        assert_eq!(age(now, "2026-11-21T09:00:00Z"), "3h ago");
        assert_eq!(age(now, "2026-11-16T12:00:00Z"), "5d ago");
        assert_eq!(age(now, "2026-11-21T12:05:00Z"), "just now", "clock skew");
        assert_eq!(age(now, "yesterday"), "yesterday");
    }
}
