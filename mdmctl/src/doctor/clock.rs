//! `clock`: are the servers' clocks within the bound of this machine's? A device's identity is
//! checked against the proxy's clock and issued with enroll-svc's, push certificates expire by
//! push-svc's: a clock minutes off refuses fresh identities or keeps dead ones.
//!
//! Each service reports its clock as its diagnosis leaves (`clock_unix_ms`); the proxy's comes
//! from its HTTP `Date` header (whole seconds). A reading is compared with the middle of the
//! request's round trip, and only the part of the difference the round trip cannot explain
//! counts.

use super::report::Check;
use mdm_api::diagnostics::Diagnostics;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One clock read remotely.
#[derive(Debug, Clone)]
pub struct Reading {
    /// Whose clock.
    pub source: String,
    /// What it said.
    pub said: SystemTime,
    /// This machine's clock when the request left.
    pub sent: SystemTime,
    /// When the answer arrived, by this machine's clock.
    pub received: SystemTime,
    /// How coarse `said` is (1 s for a `Date` header).
    pub resolution: Duration,
}

impl Reading {
    /// Milliseconds by which the remote clock is ahead (negative: behind), beyond what the
    /// round trip and the resolution could explain (0 when within them).
    fn unexplained_ms(&self) -> i64 {
        let ms = |t: SystemTime| {
            let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        };
        let (sent, received, said) = (ms(self.sent), ms(self.received), ms(self.said));
        let slack = i64::try_from(self.resolution.as_millis()).unwrap_or(i64::MAX);
        if said > received {
            said - received
        } else if said + slack < sent {
            said + slack - sent
        } else {
            0
        }
    }
}

/// The services' clocks from their diagnoses, all read within `sent..received`.
pub fn service_readings(
    diagnostics: &Diagnostics,
    sent: SystemTime,
    received: SystemTime,
) -> Vec<Reading> {
    diagnostics
        .services
        .iter()
        .filter_map(|s| {
            let ms: u64 = s.facts.get("clock_unix_ms")?.parse().ok()?;
            Some(Reading {
                source: s.service.clone(),
                said: UNIX_EPOCH + Duration::from_millis(ms),
                sent,
                received,
                resolution: Duration::ZERO,
            })
        })
        .collect()
}

/// The check: the worst reading against `bound`.
pub fn check(readings: &[Reading], bound: Duration) -> Check {
    let Some((worst, off)) = readings
        .iter()
        .map(|r| (r, r.unexplained_ms()))
        .max_by_key(|(_, off)| off.unsigned_abs())
    else {
        return Check::skip("clock", "no server clock could be read");
    };
    let bound_ms = bound.as_millis();
    let seconds = |ms: i64| format!("{:.1} s", ms as f64 / 1000.0);
    let direction = if off > 0 { "ahead of" } else { "behind" };
    if u128::from(off.unsigned_abs()) > bound_ms {
        return Check::fail(
            "clock",
            format!(
                "{}'s clock is {} {direction} this machine's (bound {} s)",
                worst.source,
                seconds(off.abs()),
                bound.as_secs()
            ),
            format!(
                "synchronise {}'s host with NTP (chrony, systemd-timesyncd); if this machine is the one that is off, fix it first",
                worst.source
            ),
        );
    }
    let names: Vec<&str> = readings.iter().map(|r| r.source.as_str()).collect();
    Check::pass(
        "clock",
        format!(
            "{} within {} of this machine (bound {} s)",
            names.join(", "),
            seconds(off.abs()),
            bound.as_secs()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::report::Status;

    fn reading(said_ms: u64, sent_ms: u64, received_ms: u64) -> Reading {
        let at = |ms| UNIX_EPOCH + Duration::from_millis(ms);
        Reading {
            source: "push-svc".into(),
            said: at(said_ms),
            sent: at(sent_ms),
            received: at(received_ms),
            resolution: Duration::ZERO,
        }
    }

    #[test]
    fn only_what_the_round_trip_cannot_explain_counts() {
        assert_eq!(reading(1_050, 1_000, 1_100).unexplained_ms(), 0);
        assert_eq!(reading(1_300, 1_000, 1_100).unexplained_ms(), 200);
        assert_eq!(reading(700, 1_000, 1_100).unexplained_ms(), -300);
        let date = Reading {
            resolution: Duration::from_secs(1),
            ..reading(1_000, 1_900, 2_000)
        };
        assert_eq!(
            date.unexplained_ms(),
            0,
            "a Date header truncates to the second"
        );
    }

    #[test]
    fn a_clock_past_the_bound_fails() {
        let bound = Duration::from_secs(60);
        let fine = check(&[reading(1_000_000, 1_000_000, 1_000_010)], bound);
        assert_eq!(fine.status, Status::Pass, "{fine:?}");
        let off = check(&[reading(1_000_000 - 120_000, 1_000_000, 1_000_010)], bound);
        assert_eq!(off.status, Status::Fail);
        assert_eq!(
            off.summary,
            "push-svc's clock is 120.0 s behind this machine's (bound 60 s)"
        );
        assert_eq!(check(&[], bound).status, Status::Skip);
    }
}
