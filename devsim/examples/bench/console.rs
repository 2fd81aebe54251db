//! The `console` scenario: what an administrator's browser asks admin-svc for, timed one
//! request at a time (as one person clicks) over a signed-in console session, against the fleet
//! the benchmark enrolled: the page itself, the dashboard's summary, the device list's first
//! page, a search by serial number, the "not seen for 7 days" filter, and the list sorted by
//! name and by last contact.

use reqwest::StatusCode;
use std::time::{Duration, Instant};
use testkit::Stack;

/// What one endpoint took over the rounds.
pub struct Timing {
    /// What was asked.
    pub name: &'static str,
    /// The path.
    pub path: String,
    /// Each request's time, sorted.
    pub samples: Vec<Duration>,
}

impl Timing {
    fn quantile(&self, q: f64) -> f64 {
        let last = self.samples.len().saturating_sub(1);
        let index = ((last as f64) * q).round() as usize;
        self.samples
            .get(index)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }

    /// The figures as JSON (milliseconds).
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({"path": self.path, "requests": self.samples.len(),
            "p50_ms": self.quantile(0.5), "p95_ms": self.quantile(0.95),
            "p99_ms": self.quantile(0.99), "max_ms": self.quantile(1.0)})
    }

    /// One line of the table.
    pub fn line(&self) -> String {
        format!(
            "{:<24} p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  ({} requests)",
            self.name,
            self.quantile(0.5),
            self.quantile(0.95),
            self.quantile(0.99),
            self.quantile(1.0),
            self.samples.len()
        )
    }
}

/// Signs in as `token` and times each console request `rounds` times, after one untimed
/// round that warms connections and caches as a browser's first load does.
pub async fn run(
    stack: &Stack,
    token: &str,
    serial: &str,
    rounds: usize,
) -> anyhow::Result<Vec<Timing>> {
    let client = testkit::https_client(&stack.device_ca.cert_pem(), None);
    let base = &stack.admin_url;
    let signed_in = client
        .post(format!("{base}/console/session"))
        .header("content-type", "application/json")
        .body(serde_json::json!({ "token": token }).to_string())
        .send()
        .await?;
    anyhow::ensure!(
        signed_in.status() == StatusCode::CREATED,
        "sign-in answered {}",
        signed_in.status()
    );
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))?
        .to_owned();
    let week_ago = time::OffsetDateTime::now_utc() - time::Duration::days(7);
    let week_ago = week_ago.format(&time::format_description::well_known::Rfc3339)?;
    let mut timings = vec![
        timing("page", "/".into()),
        timing("summary", "/v1/summary".into()),
        timing("devices, first page", "/v1/devices?limit=50".into()),
        timing(
            "devices by serial",
            format!("/v1/devices?limit=50&serial={serial}"),
        ),
        timing(
            "devices not seen 7 d",
            format!("/v1/devices?limit=50&last_seen_before={week_ago}"),
        ),
        timing(
            "devices by name, Z-A",
            "/v1/devices?limit=50&sort=name&descending=true".into(),
        ),
        timing(
            "devices by last contact",
            "/v1/devices?limit=50&sort=last_seen&descending=true".into(),
        ),
    ];
    for round in 0..=rounds {
        for timing in &mut timings {
            let started = Instant::now();
            let response = client
                .get(format!("{base}{}", timing.path))
                .header("cookie", &cookie)
                .send()
                .await?;
            let status = response.status();
            let body = response.bytes().await?;
            let took = started.elapsed();
            anyhow::ensure!(
                status == StatusCode::OK,
                "{} answered {status}: {}",
                timing.path,
                String::from_utf8_lossy(&body)
            );
            if round > 0 {
                timing.samples.push(took);
            }
        }
    }
    for timing in &mut timings {
        timing.samples.sort();
    }
    Ok(timings)
}

fn timing(name: &'static str, path: String) -> Timing {
    Timing {
        name,
        path,
        samples: Vec::new(),
    }
}
