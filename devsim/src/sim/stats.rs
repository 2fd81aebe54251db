//! Latency and error counts per message type, shared by every device of a run, and the report
//! the benchmark prints (a table for people, JSON for scripts).

use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Default)]
struct Series {
    latencies_us: Vec<u64>,
    errors: u64,
}

/// A shared recorder.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    series: Arc<Mutex<BTreeMap<&'static str, Series>>>,
}

/// One message type's figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    /// Message type (Idle, Acknowledged, Authenticate, ...).
    pub message_type: String,
    /// Successful requests.
    pub count: usize,
    /// Failed requests.
    pub errors: u64,
    /// Requests per second over `elapsed`.
    pub per_second: f64,
    /// Latency percentiles and maximum, milliseconds.
    pub p50_ms: f64,
    /// p95.
    pub p95_ms: f64,
    /// p99.
    pub p99_ms: f64,
    /// Maximum.
    pub max_ms: f64,
}

impl Stats {
    /// Records one request.
    pub fn record(&self, message_type: &'static str, latency: Duration, ok: bool) {
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let entry = series.entry(message_type).or_default();
        if ok {
            entry
                .latencies_us
                .push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
        } else {
            entry.errors += 1;
        }
    }

    /// Figures per message type over a run that took `elapsed`.
    pub fn summarize(&self, elapsed: Duration) -> Vec<Summary> {
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
        series
            .iter_mut()
            .map(|(name, s)| {
                s.latencies_us.sort_unstable();
                let pct = |p: f64| -> f64 {
                    if s.latencies_us.is_empty() {
                        return 0.0;
                    }
                    let index = ((s.latencies_us.len() as f64 - 1.0) * p).round() as usize;
                    s.latencies_us[index.min(s.latencies_us.len() - 1)] as f64 / 1000.0
                };
                Summary {
                    message_type: name.to_string(),
                    count: s.latencies_us.len(),
                    errors: s.errors,
                    per_second: s.latencies_us.len() as f64 / seconds,
                    p50_ms: pct(0.50),
                    p95_ms: pct(0.95),
                    p99_ms: pct(0.99),
                    max_ms: pct(1.0),
                }
            })
            .collect()
    }
}

/// The figures as an aligned table.
pub fn table(summaries: &[Summary]) -> String {
    let mut out = format!(
        "{:<22} {:>9} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9}\n",
        "message", "count", "errors", "per sec", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    for s in summaries {
        out.push_str(&format!(
            "{:<22} {:>9} {:>7} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2}\n",
            s.message_type, s.count, s.errors, s.per_second, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_rates() {
        let stats = Stats::default();
        for ms in 1..=100 {
            stats.record("Idle", Duration::from_millis(ms), true);
        }
        stats.record("Idle", Duration::from_millis(1), false);
        let summary = &stats.summarize(Duration::from_secs(10))[0];
        assert_eq!((summary.count, summary.errors), (100, 1));
        assert_eq!(summary.per_second, 10.0);
        assert_eq!((summary.p50_ms, summary.max_ms), (51.0, 100.0));
        assert!(table(std::slice::from_ref(summary)).contains("Idle"));
    }
}
