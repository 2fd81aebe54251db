//! The `console` scenario: what an administrator's browser asks admin-svc for, timed one
//! request at a time (as one person clicks) over a signed-in console session, against the fleet
//! the benchmark enrolled: the page itself, the dashboard's summary, the device list's first
//! page, a search by serial number, the "not seen for 7 days" filter, and the list sorted by
//! name and by last contact.

use devsim::sim::{stats::Summary, Stats};
use reqwest::StatusCode;
use std::time::Instant;
use testkit::Stack;

/// Signs in as `token` and times each console request `rounds` times, after one untimed
/// round that warms connections and caches as a browser's first load does; the figures per
/// request, named as the table shows them.
pub async fn run(
    stack: &Stack,
    token: &str,
    serial: &str,
    rounds: usize,
) -> anyhow::Result<Vec<Summary>> {
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
    let requests = [
        ("page", "/".to_owned()),
        ("summary", "/v1/summary".into()),
        ("devices, first page", "/v1/devices?limit=50".into()),
        (
            "devices by serial",
            format!("/v1/devices?limit=50&serial={serial}"),
        ),
        (
            "devices not seen 7 d",
            format!("/v1/devices?limit=50&last_seen_before={week_ago}"),
        ),
        (
            "devices by name, Z-A",
            "/v1/devices?limit=50&sort=name&descending=true".into(),
        ),
        (
            "devices by last contact",
            "/v1/devices?limit=50&sort=last_seen&descending=true".into(),
        ),
    ];
    let stats = Stats::default();
    let started_all = Instant::now();
    for round in 0..=rounds {
        for (name, path) in &requests {
            let started = Instant::now();
            let response = client
                .get(format!("{base}{path}"))
                .header("cookie", &cookie)
                .send()
                .await?;
            let status = response.status();
            let body = response.bytes().await?;
            let took = started.elapsed();
            anyhow::ensure!(
                status == StatusCode::OK,
                "{path} answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
            if round > 0 {
                stats.record(name, took, true);
            }
        }
    }
    Ok(stats.summarize(started_all.elapsed()))
}
