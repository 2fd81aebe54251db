//! The files of a development server under its data directory, in one place:
//!
//! ```text
//! <data-dir>/
//!   dev.json                 URLs, admin token, file paths, pids (0600)
//!   secrets.json             admin token and the services' secret keys (0600)
//!   pki/                     device CA, localhost server certificate, mock APNs CA and
//!                            server certificate, push certificate, simulated Apple device
//!                            CA and the OTA device CA bundle; keys 0600
//!   enroll.db command.db push.db admin.db
//!   logs/<process>.log       this run's output of each process (the previous run's: .1)
//! ```

use anyhow::Context;
use std::path::{Path, PathBuf};

/// A certificate and its key on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemPair {
    /// The certificate, PEM.
    pub cert: PathBuf,
    /// Its private key, PKCS#8 PEM, readable by the owner only.
    pub key: PathBuf,
}

/// The data directory, made absolute: children run with other working directories in mind and
/// the paths end up in dev.json for scripts.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout under `data_dir` (which need not exist yet), made absolute against the
    /// working directory.
    pub fn new(data_dir: &Path) -> anyhow::Result<Layout> {
        let root = std::path::absolute(data_dir)
            .with_context(|| format!("resolving the data directory {}", data_dir.display()))?;
        Ok(Layout { root })
    }

    /// Creates the directories (owner-only: they hold keys and the admin token).
    pub fn create(&self) -> anyhow::Result<()> {
        for dir in [self.root.clone(), self.pki_dir(), self.logs_dir()] {
            super::files::create_private_dir(&dir)?;
        }
        Ok(())
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `dev.json`.
    pub fn info_file(&self) -> PathBuf {
        self.root.join("dev.json")
    }

    /// `secrets.json`.
    pub fn secrets_file(&self) -> PathBuf {
        self.root.join("secrets.json")
    }

    /// Where certificates and keys are kept.
    pub fn pki_dir(&self) -> PathBuf {
        self.root.join("pki")
    }

    /// Where each process's log goes.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// The log of the process `name`.
    pub fn log_file(&self, name: &str) -> PathBuf {
        self.logs_dir().join(format!("{name}.log"))
    }

    /// The CA that issues device identities (enroll-svc's SCEP, the simulator) and the server
    /// certificate; devices and mdmctl trust it.
    pub fn device_ca(&self) -> PemPair {
        self.pair("device-ca")
    }

    /// The TLS certificate of the proxy's listeners and admin-svc's (localhost, 127.0.0.1,
    /// ::1).
    pub fn server(&self) -> PemPair {
        self.pair("server")
    }

    /// The CA standing in for Apple's: it issues the mock APNs's server certificate and the
    /// push certificate the mock accepts.
    pub fn apns_ca(&self) -> PemPair {
        self.pair("apns-ca")
    }

    /// The mock APNs's TLS certificate.
    pub fn apns_server(&self) -> PemPair {
        self.pair("apns-server")
    }

    /// The MDM push certificate (UID = the push topic).
    pub fn push(&self) -> PemPair {
        self.pair("push")
    }

    /// The stand-in for Apple's device CA (development only): it issues simulated devices'
    /// "Apple device certificates", which sign OTA phase 2.
    pub fn apple_device_ca(&self) -> PemPair {
        self.pair("apple-device-ca")
    }

    /// The PEM bundle enroll-svc checks OTA phase 2 signatures against
    /// (`enrollment.device_ca_file`): Apple's public device CAs and the simulated one.
    pub fn ota_device_cas(&self) -> PathBuf {
        self.pki_dir().join("ota-device-cas.pem")
    }

    fn pair(&self, stem: &str) -> PemPair {
        let dir = self.pki_dir();
        PemPair {
            cert: dir.join(format!("{stem}.pem")),
            key: dir.join(format!("{stem}.key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_data_dirs_become_absolute() {
        let layout = Layout::new(Path::new("data/dev")).expect("layout");
        assert!(layout.root().is_absolute());
        assert!(layout.root().ends_with("data/dev"));
        assert_eq!(layout.info_file(), layout.root().join("dev.json"));
        assert_eq!(
            layout.device_ca().key,
            layout.root().join("pki/device-ca.key")
        );
        assert_eq!(
            layout.log_file("proxy"),
            layout.root().join("logs/proxy.log")
        );
    }
}
