//! `mdmctl doctor`: checks a running deployment the way a device will meet it, and from the
//! server's own view, and says for each check what is wrong and how to fix it. Exit code 1 when
//! a check fails; `-o json` for monitoring. It changes nothing and sends no push.
//!
//! The server's view comes from admin-svc's `GET /v1/diagnostics` (every service's database,
//! migrations, clock; enroll-svc's enrollment settings; push-svc's handshake with APNs) and
//! `GET /v1/push-certificates`; the device's view from the URLs enroll-svc puts in its profiles,
//! reached from this machine. One file per concern:
//! - [`services`]: `services`, `databases`; [`clock`]: `clock`.
//! - [`enrollment`]: `enrollment-listener`, `service-config`, `scep`; [`tls`]: `tls-enrollment`,
//!   `tls-device`.
//! - [`push`]: `push-certificate`, `push-topic`, `apns`.
//! - [`report`]: the outcome of each and how it is printed; [`fetch`]: reading public routes.

pub mod clock;
pub mod enrollment;
pub mod fetch;
pub mod push;
pub mod report;
pub mod services;
pub mod tls;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::Api;
use crate::config::Env;
use crate::exit::Failure;
use crate::output;
use clap::Args;
use enrollment::Settings;
use fetch::Fetcher;
use mdm_api::diagnostics::Diagnostics;
use report::{Check, Report};
use std::time::{Duration, SystemTime};

/// `mdmctl doctor`
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Largest difference tolerated between a server's clock and this machine's, in seconds
    /// (the proxy tolerates device.clock_skew_secs, 300 by default, on device certificates).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub max_clock_skew: u64,
}

/// The checks that need enroll-svc's enrollment settings, in the order they are reported.
const ENROLLMENT_CHECKS: [&str; 5] = [
    "enrollment-listener",
    "tls-enrollment",
    "tls-device",
    "service-config",
    "scep",
];

/// Every check after `admin-api`, in the order they are reported.
const AFTER_ADMIN: [&str; 11] = [
    "services",
    "databases",
    "clock",
    "enrollment-listener",
    "tls-enrollment",
    "tls-device",
    "service-config",
    "scep",
    "push-certificate",
    "push-topic",
    "apns",
];

/// Runs `mdmctl doctor`.
pub async fn run(args: DoctorArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let api = Api::connect(global, env)?;
    let bound = Duration::from_secs(args.max_clock_skew);
    let report = Report::new(checks(&api, bound).await?);
    match global.output {
        OutputFormat::Json => output::json(&report)?,
        OutputFormat::Table => output::text(&report.text())?,
    }
    if !report.ok {
        return Err(Failure {
            message: format!("{} check(s) failed", report.failed()),
            hint: None,
        }
        .into());
    }
    Ok(())
}

/// Every check, in report order.
async fn checks(api: &Api, bound: Duration) -> anyhow::Result<Vec<Check>> {
    let sent = SystemTime::now();
    let diagnostics = api.diagnostics().await;
    let received = SystemTime::now();
    let diagnostics = match diagnostics {
        Ok(answer) => answer.value,
        Err(error) => {
            let hint = error
                .hint()
                .unwrap_or_else(|| "check the URL, the token and admin-svc's log".into());
            let mut checks = vec![Check::fail("admin-api", error.to_string(), hint)];
            checks.extend(
                AFTER_ADMIN
                    .iter()
                    .map(|name| Check::skip(name, "the admin API did not answer")),
            );
            return Ok(checks);
        }
    };
    let mut checks = vec![
        Check::pass(
            "admin-api",
            format!("{} answers and accepts the token", api.base()),
        ),
        services::services(&diagnostics),
        services::databases(&diagnostics),
    ];
    let mut readings = clock::service_readings(&diagnostics, sent, received);
    let enrollment = services::answered(&diagnostics, "enroll-svc").map(enrollment::settings);
    let (enrollment_checks, settings) = match enrollment {
        None => (
            skip_all(&services::unanswered("enroll-svc")),
            Err(services::unanswered("enroll-svc")),
        ),
        Some(Err(why)) => {
            let mut checks = vec![Check::fail(
                "enrollment-listener",
                why,
                enrollment::SETTINGS_FIX,
            )];
            checks.extend(
                ENROLLMENT_CHECKS[1..]
                    .iter()
                    .map(|n| Check::skip(n, "enroll-svc has no enrollment settings")),
            );
            (checks, Err("enroll-svc has no enrollment settings".into()))
        }
        Some(Ok(settings)) => {
            let checks = enrollment_side(&settings, &mut readings).await?;
            (checks, Ok(settings))
        }
    };
    checks.push(clock::check(&readings, bound));
    checks.extend(enrollment_checks);
    checks.extend(
        push_side(
            api,
            &diagnostics,
            settings.as_ref().map(|s| s.topic.as_str()),
        )
        .await,
    );
    Ok(checks)
}

fn skip_all(why: &str) -> Vec<Check> {
    ENROLLMENT_CHECKS
        .iter()
        .map(|name| Check::skip(name, why))
        .collect()
}

/// The enrollment listener, both listeners' certificates, `/MDMServiceConfig` and SCEP; adds the
/// proxy's clock to `readings`.
async fn enrollment_side(
    settings: &Settings,
    readings: &mut Vec<clock::Reading>,
) -> anyhow::Result<Vec<Check>> {
    let fetcher = Fetcher::new()?;
    let sent = SystemTime::now();
    let (listener, page) = enrollment::listener(&fetcher, settings).await;
    if let Some(date) = page.as_ref().and_then(|p| p.date) {
        readings.push(clock::Reading {
            source: "proxy".into(),
            said: date,
            sent,
            received: SystemTime::now(),
            resolution: Duration::from_secs(1),
        });
    }
    let tls_enrollment = match page {
        Some(_) => tls_check(ENROLLMENT_TLS, &settings.base, settings).await,
        None => Check::skip("tls-enrollment", "the enrollment listener does not answer"),
    };
    let tls_device = tls_check(DEVICE_TLS, &settings.server, settings).await;
    let (service_config, scep) = match &page {
        Some(page) => (
            enrollment::service_config(&fetcher, settings, page).await,
            enrollment::scep(&fetcher, settings).await,
        ),
        None => (
            Check::skip("service-config", "the enrollment listener does not answer"),
            Check::skip("scep", "the enrollment listener does not answer"),
        ),
    };
    Ok(vec![
        listener,
        tls_enrollment,
        tls_device,
        service_config,
        scep,
    ])
}

const ENROLLMENT_TLS: tls::Listener = tls::Listener {
    check: "tls-enrollment",
    what: "the enrollment listener",
    cert_setting: "enrollment.cert_file",
    url_setting: "enrollment.base_url",
};

const DEVICE_TLS: tls::Listener = tls::Listener {
    check: "tls-device",
    what: "the device listener",
    cert_setting: "device.cert_file",
    url_setting: "enrollment.server_url",
};

/// The TLS check of the listener at `url`, off the async runtime (OpenSSL blocks).
async fn tls_check(listener: tls::Listener, url: &reqwest::Url, settings: &Settings) -> Check {
    let (host, port) = enrollment::host_port(url);
    let anchors = settings.roots.clone();
    tokio::task::spawn_blocking(move || tls::check(listener, &host, port, &anchors))
        .await
        .unwrap_or_else(|e| Check::fail(listener.check, format!("the check failed: {e}"), "retry"))
}

/// The push certificates, their topic against enroll-svc's (or why it is unknown), and APNs
/// from push-svc.
async fn push_side(
    api: &Api,
    diagnostics: &Diagnostics,
    enrollment_topic: Result<&str, &String>,
) -> Vec<Check> {
    let Some(push) = services::answered(diagnostics, "push-svc") else {
        let why = services::unanswered("push-svc");
        return ["push-certificate", "push-topic", "apns"]
            .iter()
            .map(|n| Check::skip(n, why.clone()))
            .collect();
    };
    let apns = push::apns(push);
    let certs = match api.push_certificates().await {
        Ok(listing) => listing.items,
        Err(error) => {
            return vec![
                Check::fail(
                    "push-certificate",
                    format!("the push certificates cannot be read: {error}"),
                    error
                        .hint()
                        .unwrap_or_else(|| "read admin-svc's and push-svc's logs".into()),
                ),
                Check::skip("push-topic", "the push certificates cannot be read"),
                apns,
            ];
        }
    };
    let topic = match enrollment_topic {
        Ok(topic) => push::topic(topic, &certs),
        Err(why) => Check::skip("push-topic", why.clone()),
    };
    vec![push::certificates(&certs, SystemTime::now()), topic, apns]
}
