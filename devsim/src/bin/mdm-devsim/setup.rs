//! From the command line to an enrolled fleet: the shared device settings, where identities
//! come from (creating an enrollment token through the admin API if none was given), and the
//! enrollment itself.

use crate::options::{read, required, EnrollBy, FleetArgs, TransportArg};
use devsim::admin::AdminApi;
use devsim::sim::fleet::{self, FleetSpec, KeyPair, Provisioning};
use devsim::sim::{EnrollmentServer, SimConfig, SimDevice, Stats, Transport};
use std::sync::Arc;
use std::time::Instant;

/// An enrolled fleet and what its enrollment took.
pub struct Fleet {
    /// Device and user channels.
    pub devices: Vec<SimDevice>,
    /// Latency of every request so far.
    pub stats: Stats,
    /// Seconds the enrollment took.
    pub enroll_seconds: f64,
    /// The admin API, when configured.
    pub admin: Option<AdminApi>,
}

/// Enrolls the fleet `args` describes; fails if any device could not enroll.
pub async fn enroll(args: &FleetArgs) -> anyhow::Result<Fleet> {
    let ca_pem = read(required(&args.ca_file, "--ca-file")?)?;
    let admin = match (&args.admin_url, &args.admin_token) {
        (Some(url), Some(token)) => Some(AdminApi::new(url, token, &ca_pem)?),
        _ => None,
    };
    let base = Arc::new(SimConfig {
        server: required(&args.server, "--server")?
            .trim_end_matches('/')
            .to_owned(),
        checkin_path: args.checkin_path.clone(),
        server_path: args.server_path.clone(),
        server_ca_pem: ca_pem.clone(),
        transport: match args.transport {
            TransportArg::Mtls => Transport::Mtls,
            TransportArg::Signature => Transport::Signature,
        },
        topic: args.topic.clone().unwrap_or_default(),
        not_now_rate: args.not_now_rate,
        error_rate: args.error_rate,
    });
    let provisioning = provisioning(args, &ca_pem, admin.as_ref()).await?;
    let spec = FleetSpec {
        devices: args.devices,
        macs: args.macs.min(args.devices),
        users_per_mac: args.users_per_mac,
        first: 1,
        udid_prefix: args.udid_prefix.clone(),
        concurrency: args.enroll_concurrency,
        resume_tls: args.resume_tls,
    };
    let stats = Stats::default();
    let started = Instant::now();
    let (devices, failures) = fleet::enroll_fleet(&spec, &provisioning, &base, &stats).await;
    let enroll_seconds = started.elapsed().as_secs_f64();
    if let Some(first) = failures.first() {
        anyhow::bail!(
            "{} of {} devices failed to enroll; the first: {first}",
            failures.len(),
            args.devices
        );
    }
    Ok(Fleet {
        devices,
        stats,
        enroll_seconds,
        admin,
    })
}

async fn provisioning(
    args: &FleetArgs,
    ca_pem: &str,
    admin: Option<&AdminApi>,
) -> anyhow::Result<Provisioning> {
    let server = || -> anyhow::Result<EnrollmentServer> {
        Ok(EnrollmentServer {
            enrollment_url: required(&args.enrollment_url, "--enrollment-url")?.clone(),
            server_ca_pem: ca_pem.to_owned(),
        })
    };
    let token = || async {
        if let Some(token) = &args.enrollment_token {
            return anyhow::Ok(token.clone());
        }
        let admin = admin.ok_or_else(|| {
            anyhow::anyhow!("--enrollment-token, or --admin-url and --admin-token to create one")
        })?;
        admin.enrollment_token("mdm-devsim", args.devices).await
    };
    Ok(match args.enroll {
        EnrollBy::Preissued => Provisioning::Preissued {
            ca: key_pair(&args.device_ca_cert, &args.device_ca_key, "--device-ca")?,
        },
        EnrollBy::Profile => Provisioning::DirectProfile {
            server: server()?,
            token: token().await?,
        },
        EnrollBy::Ota => Provisioning::Ota {
            server: server()?,
            token: token().await?,
            apple_device_ca: key_pair(
                &args.apple_device_ca_cert,
                &args.apple_device_ca_key,
                "--apple-device-ca",
            )?,
        },
    })
}

fn key_pair(
    cert: &Option<std::path::PathBuf>,
    key: &Option<std::path::PathBuf>,
    flag: &str,
) -> anyhow::Result<KeyPair> {
    let cert_path = required(cert, &format!("{flag}-cert"))?;
    let key_path = required(key, &format!("{flag}-key"))?;
    fleet::key_pair(&read(cert_path)?, &read(key_path)?)
        .map_err(|e| anyhow::anyhow!("{} and {}: {e}", cert_path.display(), key_path.display()))
}
