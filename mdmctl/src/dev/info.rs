//! `<data-dir>/dev.json`: what a script (or `mdmctl dev simulate`) needs to use the running
//! development server: its URLs, the admin token, the CA to trust, the device CA to issue
//! device identities with, the simulated Apple device CA for OTA enrollment, and every
//! process's pid. It is written (0600: it holds the token)
//! once everything is ready, and rewritten without pids when the server stops, so a dev.json
//! with pids means a running server.

use super::files;
use crate::exit::Failure;
use anyhow::Context;
use nix::sys::signal::kill;
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The name under which mdmctl's own pid is listed.
pub const LAUNCHER: &str = "mdmctl";

/// The contents of dev.json.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevInfo {
    /// The data directory (absolute).
    pub data_dir: PathBuf,
    /// The proxy's device listener, `https://127.0.0.1:<port>`.
    pub device_url: String,
    /// The MDM payload's ServerURL.
    pub server_url: String,
    /// The MDM payload's CheckInURL.
    pub checkin_url: String,
    /// The proxy's enrollment listener: `/enroll/profile?token=...`, `/scep`, `/trust-profile`.
    pub enrollment_url: String,
    /// admin-svc's admin API.
    pub admin_url: String,
    /// Bearer token of the admin API, every scope.
    pub admin_token: String,
    /// The CA every listener's certificate chains to (`--ca-file` of mdmctl, curl's
    /// `--cacert`).
    pub ca_file: PathBuf,
    /// The device CA's certificate: device identities must chain to it.
    pub device_ca_cert: PathBuf,
    /// The device CA's key, to issue device identities with.
    pub device_ca_key: PathBuf,
    /// Hex SHA-256 of the device CA's certificate.
    pub device_ca_sha256: String,
    /// The simulated Apple device CA's certificate: enroll-svc believes OTA phase 2 answers
    /// signed by certificates it issued (development only). Empty in a dev.json written before
    /// it existed.
    #[serde(default)]
    pub apple_device_ca_cert: PathBuf,
    /// Its key, to issue simulated devices' Apple device certificates with.
    #[serde(default)]
    pub apple_device_ca_key: PathBuf,
    /// The push topic of the installed push certificate.
    pub push_topic: String,
    /// The mock APNs push-svc sends to.
    pub mock_apns_url: String,
    /// The mock APNs's push feed, which simulated devices follow to learn of their pushes
    /// (`mdm-devsim run --push-feed`); empty in a dev.json from before it existed.
    #[serde(default)]
    pub push_feed_url: String,
    /// The proxy's `/healthz`, `/readyz` and `/metrics`.
    pub health_url: String,
    /// Each service's `/metrics` (and `/healthz`, `/readyz`), by process name.
    pub metrics_urls: BTreeMap<String, String>,
    /// Where each process's log is (`<name>.log`).
    pub logs_dir: PathBuf,
    /// Each running process's pid by name, mdmctl's own as `mdmctl`; empty once stopped.
    pub pids: BTreeMap<String, u32>,
}

impl std::fmt::Debug for DevInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevInfo")
            .field("data_dir", &self.data_dir)
            .field("admin_url", &self.admin_url)
            .field("pids", &self.pids)
            .finish_non_exhaustive()
    }
}

impl DevInfo {
    /// Reads dev.json at `path`; a missing file is explained with the command that makes it.
    pub fn read(path: &Path) -> anyhow::Result<DevInfo> {
        let text = match std::fs::read_to_string(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let dir = path.parent().unwrap_or(Path::new("."));
                return Err(Failure {
                    message: format!("{} does not exist", path.display()),
                    hint: Some(format!(
                        "start the development server first: mdmctl dev --data-dir {}",
                        dir.display()
                    )),
                }
                .into());
            }
            other => other.with_context(|| format!("reading {}", path.display()))?,
        };
        serde_json::from_str(&text).with_context(|| format!("{} is not dev.json", path.display()))
    }

    /// Writes it to `path` (0600, atomically).
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        files::write_private(path, format!("{text}\n").as_bytes())
    }

    /// The listed processes that still run: a pid that exists and whose command name is the
    /// one recorded (a pid reused by another program does not count).
    pub fn still_running(&self) -> Vec<(String, u32)> {
        self.pids
            .iter()
            .filter(|(name, pid)| runs_as(**pid, name))
            .map(|(name, pid)| (name.clone(), *pid))
            .collect()
    }
}

/// Whether process `pid` exists and is named `name` (Linux: `/proc/<pid>/comm`; elsewhere any
/// existing pid counts).
pub fn runs_as(pid: u32, name: &str) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if kill(Pid::from_raw(raw), None).is_err() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/comm")) {
        // The kernel keeps the first 15 bytes of the name.
        Ok(comm) => {
            name.as_bytes().get(..15).unwrap_or(name.as_bytes()) == comm.trim_end().as_bytes()
        }
        Err(_) => !Path::new("/proc/self").exists(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DevInfo {
        DevInfo {
            data_dir: "/srv/dev".into(),
            device_url: "https://127.0.0.1:8443".into(),
            server_url: "https://127.0.0.1:8443/mdm".into(),
            checkin_url: "https://127.0.0.1:8443/checkin".into(),
            enrollment_url: "https://127.0.0.1:8444".into(),
            admin_url: "https://127.0.0.1:9443".into(),
            admin_token: "mdmdev_x".into(),
            ca_file: "/srv/dev/pki/device-ca.pem".into(),
            device_ca_cert: "/srv/dev/pki/device-ca.pem".into(),
            device_ca_key: "/srv/dev/pki/device-ca.key".into(),
            device_ca_sha256: "00".into(),
            apple_device_ca_cert: "/srv/dev/pki/apple-device-ca.pem".into(),
            apple_device_ca_key: "/srv/dev/pki/apple-device-ca.key".into(),
            push_topic: "com.apple.mgmt.External.x".into(),
            mock_apns_url: "https://127.0.0.1:2197".into(),
            push_feed_url: "http://127.0.0.1:2198".into(),
            health_url: "http://127.0.0.1:8081".into(),
            metrics_urls: BTreeMap::new(),
            logs_dir: "/srv/dev/logs".into(),
            pids: BTreeMap::from([(LAUNCHER.to_owned(), std::process::id())]),
        }
    }

    #[test]
    fn round_trips_and_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dev.json");
        sample().write(&path).expect("write");
        assert_eq!(DevInfo::read(&path).expect("read"), sample());
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!format!("{:?}", sample()).contains("mdmdev_x"));
    }

    #[test]
    fn a_dev_json_from_before_the_apple_device_ca_still_reads() {
        let mut older = serde_json::to_value(sample()).expect("json");
        let fields = older.as_object_mut().expect("object");
        fields.remove("apple_device_ca_cert");
        fields.remove("apple_device_ca_key");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dev.json");
        std::fs::write(&path, older.to_string()).expect("write");
        let read = DevInfo::read(&path).expect("read");
        assert_eq!(read.apple_device_ca_cert, PathBuf::new());
        assert_eq!(read.admin_url, sample().admin_url);
    }

    #[test]
    fn a_missing_file_says_how_to_make_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = DevInfo::read(&dir.path().join("dev.json")).expect_err("missing");
        let hint = crate::exit::hint_of(&error).unwrap_or_default();
        assert!(hint.contains("mdmctl dev --data-dir"), "{hint}");
    }

    #[test]
    fn only_processes_with_the_recorded_name_count_as_running() {
        let me = std::process::id();
        let own_name = std::fs::read_to_string("/proc/self/comm")
            .map(|c| c.trim_end().to_owned())
            .unwrap_or_default();
        if !own_name.is_empty() {
            assert!(runs_as(me, &own_name));
        }
        assert!(!runs_as(me, "surely-not-this-name"));
        assert!(!runs_as(u32::MAX, LAUNCHER));
    }
}
