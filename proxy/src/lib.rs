//! The edge of the MDM server, on pingora. It terminates TLS, establishes *who* is calling
//! (today: the client certificate verified in the handshake), parses the plist envelope, applies
//! the identity policy and forwards the verified identity and the message to the owning service
//! over gRPC. It owns no database. Its HTTP status codes are part of the MDM protocol
//! (docs/architecture.md §4): a device unenrolls on 401, so only a service's explicit "not managed" becomes
//! a 401 and every fault inside is a 5xx.
//!
//! # Layout
//! - [`config`]: settings (`MDM_PROXY_*`).
//! - [`tls`]: the device listener's TLS: server certificate, required client certificate.
//! - [`identity`]: the identity policy (CN equals UDID, or certificate binding only).
//! - [`device`]: the device app: routing, body limit, envelope, forwarding.
//! - [`authn`]: who is calling: mTLS, Mdm-Signature, or a trusted forwarded certificate.
//! - [`admission`]: may this certificate speak for this enrollment? enroll-svc's answer, cached
//!   while its stream of changes says it is current.
//! - [`backends`]: gRPC clients of the services.
//! - [`body`]: bounded body reading and responses.
//! - [`error`]: why a request failed, mapped once to an HTTP status.
//! - [`health`]: `/healthz`, `/readyz` and `/metrics`.
//! - [`http_app`]: serving an app on pingora so that even unreadable requests get a status.
//! - [`metrics`]: the edge's Prometheus metrics.
//! - [`pingora_log`]: pingora's log lines, counted, bounded and without credentials.
//! - [`enrollment`]: the enrollment listener: SCEP, OTA and direct profiles, `/MDMServiceConfig`
//!   (when `[enrollment]` is configured).
//!
//! The binary calls [`build_server`] and runs it; tests start the binary as a process.

pub mod admission;
pub mod authn;
pub mod backends;
pub mod body;
pub mod config;
pub mod device;
pub mod enrollment;
pub mod error;
pub mod health;
pub mod http_app;
pub mod identity;
pub mod metrics;
pub mod pingora_log;
pub mod tls;

pub use config::Config;

use pingora::server::configuration::ServerConf;
use pingora::server::Server;
use pingora::services::listening::Service;
use std::sync::Arc;

/// Why the edge could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Device CAs are unusable for signature or forwarded-certificate checks.
    #[error("device authentication: {0}")]
    Authn(#[from] authn::AuthnSetupError),
    /// TLS material is unusable.
    #[error("device listener TLS: {0}")]
    Tls(#[from] tls::TlsSetupError),
    /// The enrollment listener's TLS material is unusable.
    #[error("enrollment listener TLS: {0}")]
    EnrollmentTls(tls::TlsSetupError),
    /// A service URL is unusable.
    #[error("service endpoint: {0}")]
    Endpoint(#[from] service_kit::upstream::UpstreamError),
}

/// Builds the pingora server with the device and health listeners.
pub fn build_server(config: &Config) -> Result<Server, SetupError> {
    let run_dir = std::env::temp_dir();
    let pid = std::process::id();
    let conf = ServerConf {
        threads: config.threads,
        // pingora's defaults (300 s grace, shared paths in /tmp) suit neither tests nor several
        // proxies on one host.
        grace_period_seconds: Some(config.shutdown_grace_secs),
        graceful_shutdown_timeout_seconds: Some(3),
        pid_file: run_dir
            .join(format!("mdm-proxy-{pid}.pid"))
            .display()
            .to_string(),
        upgrade_sock: run_dir
            .join(format!("mdm-proxy-{pid}.sock"))
            .display()
            .to_string(),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();

    let backends = Arc::new(backends::Backends::new(&config.services)?);
    let admissions = Arc::new(admission::Admissions::new(&config.services));
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = metrics::Metrics::register(&mut registry);
    // The edge keeps no state: once its listeners are up it is ready. The services behind it are
    // reported at /peers; a device request that needs one that is down gets 503.
    let observability = service_kit::observe::Observability::with_peers(
        registry,
        service_kit::observe::always_ready(),
        backends.peers(),
    );
    if let Some(enroll_config) = &config.enrollment {
        let mut enrollment = Service::new(
            "enrollment listener".to_string(),
            http_app::Answering(enrollment::EnrollmentApp::new(
                enroll_config.clone(),
                Arc::clone(&backends),
                metrics.clone(),
            )),
        );
        enrollment.add_tls_with_settings(
            &enroll_config.listen.to_string(),
            None,
            enrollment::enrollment_tls(enroll_config).map_err(SetupError::EnrollmentTls)?,
        );
        server.add_service(enrollment);
        tracing::info!(enrollment = %enroll_config.listen, "enrollment listening");
    }
    let mut device = Service::new(
        "device listener".to_string(),
        http_app::Answering(device::DeviceApp::new(
            config.device.clone(),
            Arc::clone(&backends),
            Arc::clone(&admissions),
            authn::Authenticator::new(&config.device, metrics.clone())?,
            metrics.clone(),
        )),
    );
    device.add_tls_with_settings(
        &config.device.listen.to_string(),
        None,
        tls::device_tls(&config.device, metrics.tls_handshakes.clone())?,
    );
    let mut health = Service::new(
        "health listener".to_string(),
        health::HealthApp::new(observability),
    );
    health.add_tcp(&config.health_listen.to_string());

    server.add_service(device);
    server.add_service(health);
    server.add_service(pingora::services::background::background_service(
        "admission watch",
        admission::AdmissionWatch::new(
            admissions,
            &config.services,
            metrics.admission_stream_up.clone(),
        )?,
    ));
    tracing::info!(
        device = %config.device.listen,
        health = %config.health_listen,
        policy = ?config.device.identity_policy,
        "proxy listening"
    );
    Ok(server)
}
