//! The mock APNs for a test: a CA that issues both the mock's server certificate and the push
//! certificates it accepts, the mock itself (from `devsim`, on its own runtime), and a push
//! certificate for [`PUSH_TOPIC`] ready to upload.

use crate::pki::{Issued, PkiFiles, TestCa, PUSH_TOPIC};
use devsim::{MockApns, MockApnsConfig};
use std::path::PathBuf;

/// A running mock APNs and the PKI around it. Dropping it stops the mock.
pub struct ApnsFixture {
    /// Issues the mock's server certificate and push certificates.
    pub ca: TestCa,
    /// The mock.
    pub mock: MockApns,
    /// A push certificate for [`PUSH_TOPIC`] from `ca`.
    pub push_cert: Issued,
    /// `ca` as a PEM file: push-svc's `apns.ca_files`.
    pub ca_file: PathBuf,
    _files: PkiFiles,
}

impl ApnsFixture {
    /// Starts a mock APNs on a free loopback port that records every delivery.
    pub fn start() -> ApnsFixture {
        ApnsFixture::start_with(|_| {})
    }

    /// Starts one with its configuration adjusted by `tune` (e.g. no recording for benchmarks).
    pub fn start_with(tune: impl FnOnce(&mut MockApnsConfig)) -> ApnsFixture {
        let ca = TestCa::new("Mock APNs CA");
        let server = ca.issue_server(&["127.0.0.1", "localhost"]);
        let mut config = MockApnsConfig::new(&server.cert_pem, &server.key_pem, &ca.cert_pem());
        tune(&mut config);
        let mock = MockApns::start(config).expect("start the mock APNs");
        let files = PkiFiles::new();
        let ca_file = files.write("apns-ca.pem", &ca.cert_pem());
        let push_cert = ca.issue_push(PUSH_TOPIC);
        ApnsFixture {
            ca,
            mock,
            push_cert,
            ca_file,
            _files: files,
        }
    }

    /// The push certificate and its key in one PEM: the usual upload.
    pub fn push_pem(&self) -> String {
        self.push_cert.identity_pem()
    }
}
