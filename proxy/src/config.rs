//! Proxy configuration (`MDM_PROXY_*`).

pub use crate::enrollment::EnrollmentListener;
use serde::Deserialize;
use service_kit::config::{ConfigError, ServiceConfig};
use service_kit::telemetry::LogConfig;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Settings of the edge.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The device listener: where enrolled devices connect (the ServerURL and CheckInURL host).
    pub device: DeviceListener,
    /// Plain-HTTP operations listener: `/healthz`, `/readyz`, `/peers` and `/metrics`, for load
    /// balancers, orchestrators and Prometheus.
    #[serde(default = "default_health_listen")]
    pub health_listen: SocketAddr,
    /// The gRPC services behind the edge.
    #[serde(default)]
    pub services: Services,
    /// Worker threads of the edge's runtime.
    #[serde(default = "default_threads")]
    pub threads: usize,
    /// Seconds a stopping proxy keeps serving before it closes listeners (SIGTERM). Load
    /// balancers need a moment to notice; tests want it short.
    #[serde(default = "default_grace")]
    pub shutdown_grace_secs: u64,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// The enrollment listener (SCEP, OTA and direct profiles, MDMServiceConfig); off when
    /// absent.
    #[serde(default)]
    pub enrollment: Option<EnrollmentListener>,
}

/// The device-facing HTTPS listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceListener {
    /// Listen address.
    #[serde(default = "default_device_listen")]
    pub listen: SocketAddr,
    /// PEM server certificate chain presented to devices.
    pub cert_file: PathBuf,
    /// PEM private key of the server certificate.
    pub key_file: PathBuf,
    /// PEM files of the CAs that issue device identity certificates. A client certificate must
    /// chain to one of them.
    pub client_ca_files: Vec<PathBuf>,
    /// Seconds of clock skew tolerated on a client certificate's validity period: a freshly
    /// issued identity may be used before the server's clock reaches its notBefore.
    #[serde(default = "default_skew")]
    pub clock_skew_secs: u64,
    /// How a device proves its identity on this listener: `mtls`, `signature`,
    /// `mtls-or-signature` or `trusted-header`.
    #[serde(default)]
    pub mode: DeviceAuthMode,
    /// Addresses (CIDRs) of the load balancers whose RFC 9440 `Client-Cert` header is trusted
    /// in `trusted-header` mode. From any other address the header is refused.
    #[serde(default)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How a message's UDID is tied to the certificate.
    #[serde(default)]
    pub identity_policy: IdentityPolicy,
    /// Path of the CheckInURL.
    #[serde(default = "default_checkin_path")]
    pub checkin_path: String,
    /// Path of the ServerURL. Check-in messages arriving here are handled too (a profile may
    /// omit CheckInURL).
    #[serde(default = "default_server_path")]
    pub server_path: String,
    /// Path under which devices fetch the data of assets the server keeps (`GET
    /// <assets_path>/<identifier>`, authenticated as the device): enroll-svc's
    /// `enrollment.assets_url` must point here.
    #[serde(default = "default_assets_path")]
    pub assets_path: String,
    /// Largest request body accepted. The default leaves room for a Mac's multi-megabyte
    /// InstalledApplicationList.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// TLS sessions kept for resumption (two per device that connected, about 1 KiB each; the
    /// certificate is shared): a device reconnecting within two hours resumes its session (an
    /// abbreviated handshake, its verified certificate kept) while it is among those kept.
    #[serde(default = "default_tls_session_cache_size")]
    pub tls_session_cache_size: u64,
}

/// How devices prove who they are on a device listener (see `authn`).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceAuthMode {
    /// The client certificate in the TLS handshake (required).
    #[default]
    Mtls,
    /// The `Mdm-Signature` header on every request (TLS terminated by a load balancer).
    Signature,
    /// The handshake certificate when presented, else the `Mdm-Signature` header.
    MtlsOrSignature,
    /// An RFC 9440 `Client-Cert` header from an allow-listed load balancer.
    TrustedHeader,
}

/// The identity policy (docs/architecture.md §4).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum IdentityPolicy {
    /// The certificate's subject CN must equal the message's UDID or EnrollmentID.
    #[default]
    CnEqualsUdid,
    /// Only the certificate binding made at Authenticate is checked (certificates that do not
    /// carry the UDID, e.g. devices migrated from another server).
    BoundCertificate,
}

/// Where the services are.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Services {
    /// enroll-svc gRPC URL.
    /// Replicas: several URLs separated by commas, or a name resolving to one address per replica
    /// (re-resolved every 5 s); requests go to the healthy ones in turn.
    #[serde(default = "default_enroll_url")]
    pub enroll_url: String,
    /// command-svc gRPC URL.
    /// Replicas: several URLs separated by commas, or a name resolving to one address per replica
    /// (re-resolved every 5 s); requests go to the healthy ones in turn.
    #[serde(default = "default_command_url")]
    pub command_url: String,
    /// Milliseconds a positive admission from enroll-svc (this certificate may speak for this
    /// enrollment, under this policy, at this generation) is reused; 0 = ask for every request.
    /// A change (Authenticate, CheckOut, revocation) through any edge evicts it sooner: see
    /// `admission_coherence_ms`.
    #[serde(default = "default_admission_cache_ms")]
    pub admission_cache_ms: u64,
    /// The bound, in milliseconds, on how long a change made through another edge may go
    /// unenforced here: cached admissions are used only while enroll-svc's stream of changes
    /// (a heartbeat every 250 ms) was heard within this time; otherwise every request asks.
    /// At least 500.
    #[serde(default = "default_admission_coherence_ms")]
    pub admission_coherence_ms: u64,
    /// Deadline of one gRPC call, in milliseconds. A call past it answers the device 503.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

impl Default for Services {
    fn default() -> Self {
        Services {
            enroll_url: default_enroll_url(),
            command_url: default_command_url(),
            admission_cache_ms: default_admission_cache_ms(),
            admission_coherence_ms: default_admission_coherence_ms(),
            timeout_ms: default_timeout_ms(),
        }
    }
}

fn default_health_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8081))
}
fn default_device_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8443))
}
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}
fn default_grace() -> u64 {
    5
}
fn default_skew() -> u64 {
    300
}
fn default_checkin_path() -> String {
    "/checkin".into()
}
fn default_server_path() -> String {
    "/mdm".into()
}
fn default_assets_path() -> String {
    "/assets".into()
}
fn default_max_body() -> usize {
    32 * 1024 * 1024
}
fn default_tls_session_cache_size() -> u64 {
    20_000
}
fn default_enroll_url() -> String {
    "http://127.0.0.1:50051".into()
}
fn default_command_url() -> String {
    "http://127.0.0.1:50052".into()
}
fn default_admission_cache_ms() -> u64 {
    10_000
}
fn default_admission_coherence_ms() -> u64 {
    1_000
}
fn default_timeout_ms() -> u64 {
    10_000
}

impl ServiceConfig for Config {
    const ENV_PREFIX: &'static str = "MDM_PROXY_";

    fn validate(&self) -> Result<(), ConfigError> {
        let d = &self.device;
        let setting = |key: &str, reason: String| ConfigError::Setting {
            key: key.into(),
            reason,
        };
        for (key, path) in [
            ("device.cert_file", &d.cert_file),
            ("device.key_file", &d.key_file),
        ] {
            if !path.is_file() {
                return Err(setting(
                    key,
                    format!("{} is not a readable file", path.display()),
                ));
            }
        }
        if d.client_ca_files.is_empty() {
            return Err(setting(
                "device.client_ca_files",
                "name at least one CA that issues device identities".into(),
            ));
        }
        for path in &d.client_ca_files {
            if !path.is_file() {
                return Err(setting(
                    "device.client_ca_files",
                    format!("{} is not a readable file", path.display()),
                ));
            }
        }
        for (key, path) in [
            ("device.checkin_path", &d.checkin_path),
            ("device.server_path", &d.server_path),
            ("device.assets_path", &d.assets_path),
        ] {
            if !path.starts_with('/') {
                return Err(setting(key, format!("{path:?} must start with '/'")));
            }
        }
        if d.mode == DeviceAuthMode::TrustedHeader && d.trusted_proxies.is_empty() {
            return Err(setting(
                "device.trusted_proxies",
                "trusted-header mode needs the load balancers' addresses: without them any client could forge the header".into(),
            ));
        }
        if d.max_body_bytes < 1024 {
            return Err(setting(
                "device.max_body_bytes",
                "must be at least 1024".into(),
            ));
        }
        if d.tls_session_cache_size < 1 {
            return Err(setting(
                "device.tls_session_cache_size",
                "must be at least 1".into(),
            ));
        }
        if self.threads == 0 {
            return Err(setting("threads", "must be at least 1".into()));
        }
        service_kit::config::check_service_urls("services.enroll_url", &self.services.enroll_url)?;
        service_kit::config::check_service_urls(
            "services.command_url",
            &self.services.command_url,
        )?;
        if self.services.admission_coherence_ms < 500 {
            // Heartbeats come every 250 ms: a shorter bound would leave the cache unused.
            return Err(setting(
                "services.admission_coherence_ms",
                "must be at least 500".into(),
            ));
        }
        if let Some(enrollment) = &self.enrollment {
            enrollment.validate()?;
            if enrollment.listen == d.listen || enrollment.listen == self.health_listen {
                return Err(setting(
                    "enrollment.listen",
                    "must differ from the device and health listeners".into(),
                ));
            }
        }
        Ok(())
    }
}
