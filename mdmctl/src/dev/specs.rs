//! How each process of the development server is started: its binary, arguments and `MDM_*`
//! environment (the services read `MDM_<SERVICE>_<KEY>` with `__` between nesting levels, each
//! value a TOML scalar or array), the same settings `testkit::stack` uses. Every listener is on
//! loopback; databases are SQLite files in the data directory; every metrics listener takes a
//! free port, which the process logs.

use super::layout::Layout;
use super::ports::Ports;
use super::secrets::Secrets;
use mdm_api::Scope;
use std::path::{Path, PathBuf};

/// The mock APNs.
pub const MOCK_APNS: &str = "mock-apns";
/// push-svc.
pub const PUSH_SVC: &str = "push-svc";
/// enroll-svc.
pub const ENROLL_SVC: &str = "enroll-svc";
/// command-svc.
pub const COMMAND_SVC: &str = "command-svc";
/// admin-svc: the admin REST API.
pub const ADMIN_SVC: &str = "admin-svc";
/// The proxy.
pub const PROXY: &str = "proxy";
/// Every binary `mdmctl dev` runs, in start order.
pub const BINARIES: [&str; 6] = [
    MOCK_APNS,
    PUSH_SVC,
    ENROLL_SVC,
    COMMAND_SVC,
    ADMIN_SVC,
    PROXY,
];
/// The name of the development admin token (`requested_by` of what it does).
const ADMIN_TOKEN_NAME: &str = "dev";

/// The ServerURL path (the proxy's default).
pub const SERVER_PATH: &str = "/mdm";
/// The CheckInURL path (the proxy's default).
pub const CHECKIN_PATH: &str = "/checkin";
/// PayloadOrganization of profiles and O of issued identities.
const ORGANIZATION: &str = "mdm-server development";

/// One process to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSpec {
    /// Its name, as in logs/<name>.log and dev.json.
    pub name: &'static str,
    /// The binary.
    pub program: PathBuf,
    /// Command-line arguments.
    pub args: Vec<String>,
    /// Environment variables on top of mdmctl's own (minus any `MDM_*`).
    pub env: Vec<(String, String)>,
}

impl ProcessSpec {
    /// The value of the environment variable `key`, if set.
    pub fn env_value(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// What the processes' settings are made from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The data directory.
    pub layout: &'a Layout,
    /// Where the binaries are.
    pub bin_dir: &'a Path,
    /// The ports of this run.
    pub ports: &'a Ports,
    /// The admin token and secret keys.
    pub secrets: &'a Secrets,
    /// The push topic.
    pub topic: &'a str,
}

/// `https://127.0.0.1:<port>`: the URL of a proxy listener or of admin-svc.
pub fn https_url(port: u16) -> String {
    format!("https://{}", Ports::addr(port))
}

impl Inputs<'_> {
    /// The mock APNs: it trusts push certificates from the mock APNs CA and logs
    /// `mock-apns listening addr=...` once it serves on its free port.
    pub fn mock_apns(&self) -> ProcessSpec {
        let server = self.layout.apns_server();
        ProcessSpec {
            name: MOCK_APNS,
            program: self.bin(MOCK_APNS),
            args: vec![
                "--listen".into(),
                Ports::addr(0).to_string(),
                "--feed-listen".into(),
                Ports::addr(0).to_string(),
                "--cert".into(),
                path(&server.cert),
                "--key".into(),
                path(&server.key),
                "--client-ca".into(),
                path(&self.layout.apns_ca().cert),
            ],
            env: common(),
        }
    }

    /// push-svc, sending to the mock APNs at `apns_url` for both environments.
    pub fn push_svc(&self, apns_url: &str) -> ProcessSpec {
        let mut env = self.service("MDM_PUSH_", self.ports.push);
        env.extend(pairs(&[
            ("MDM_PUSH_SECRET_KEY", string(&self.secrets.push_secret_key)),
            ("MDM_PUSH_APNS__PRODUCTION_URL", string(apns_url)),
            ("MDM_PUSH_APNS__SANDBOX_URL", string(apns_url)),
            (
                "MDM_PUSH_APNS__CA_FILES",
                strings(&[path(&self.layout.apns_ca().cert)]),
            ),
        ]));
        self.spec(PUSH_SVC, env)
    }

    /// enroll-svc: the device CA is its identity CA (SCEP issues from it, as the simulator
    /// does), and profiles point at the proxy's listeners. OTA phase 2 signatures must chain
    /// to the bundle of Apple's device CAs and the simulated one (`enrollment.device_ca_file`
    /// replaces Apple's compiled-in CAs, so the bundle lists them too; see [`super::pki`]).
    pub fn enroll_svc(&self) -> ProcessSpec {
        let ca = self.layout.device_ca();
        let mut env = self.service("MDM_ENROLL_", self.ports.enroll);
        let device = https_url(self.ports.device);
        env.extend(pairs(&[
            ("MDM_ENROLL_PUSH_URL", string(&grpc_url(self.ports.push))),
            (
                "MDM_ENROLL_SECRET_KEY",
                string(&self.secrets.enroll_secret_key),
            ),
            ("MDM_ENROLL_CA__CERT_FILE", string(&path(&ca.cert))),
            ("MDM_ENROLL_CA__KEY_FILE", string(&path(&ca.key))),
            (
                "MDM_ENROLL_ENROLLMENT__BASE_URL",
                string(&https_url(self.ports.enrollment)),
            ),
            (
                "MDM_ENROLL_ENROLLMENT__SERVER_URL",
                string(&format!("{device}{SERVER_PATH}")),
            ),
            (
                "MDM_ENROLL_ENROLLMENT__CHECK_IN_URL",
                string(&format!("{device}{CHECKIN_PATH}")),
            ),
            ("MDM_ENROLL_ENROLLMENT__TOPIC", string(self.topic)),
            ("MDM_ENROLL_ENROLLMENT__ORGANIZATION", string(ORGANIZATION)),
            (
                "MDM_ENROLL_ENROLLMENT__SERVER_CA_FILE",
                string(&path(&ca.cert)),
            ),
            (
                "MDM_ENROLL_ENROLLMENT__DEVICE_CA_FILE",
                string(&path(&self.layout.ota_device_cas())),
            ),
        ]));
        self.spec(ENROLL_SVC, env)
    }

    /// command-svc.
    pub fn command_svc(&self) -> ProcessSpec {
        let mut env = self.service("MDM_COMMAND_", self.ports.command);
        env.extend(pairs(&[
            (
                "MDM_COMMAND_ENROLL_URL",
                string(&grpc_url(self.ports.enroll)),
            ),
            ("MDM_COMMAND_PUSH__URL", string(&grpc_url(self.ports.push))),
        ]));
        self.spec(COMMAND_SVC, env)
    }

    /// admin-svc: the admin API over HTTPS with the localhost certificate on the admin port,
    /// its admin tokens in a SQLite file of the data directory, and one configured token (by
    /// hash) with every scope, `admin` included, so that the developer can make more.
    pub fn admin_svc(&self) -> ProcessSpec {
        let server = self.layout.server();
        let mut env = self.service("MDM_ADMIN_", self.ports.admin);
        env.extend(pairs(&[
            ("MDM_ADMIN_CERT_FILE", string(&path(&server.cert))),
            ("MDM_ADMIN_KEY_FILE", string(&path(&server.key))),
            (
                "MDM_ADMIN_TOKENS",
                admin_tokens(ADMIN_TOKEN_NAME, &self.secrets.admin_token_sha256()).to_string(),
            ),
            (
                "MDM_ADMIN_SECRET_KEY",
                string(&self.secrets.admin_secret_key),
            ),
            (
                "MDM_ADMIN_SERVICES__ENROLL_URL",
                string(&grpc_url(self.ports.enroll)),
            ),
            (
                "MDM_ADMIN_SERVICES__COMMAND_URL",
                string(&grpc_url(self.ports.command)),
            ),
            (
                "MDM_ADMIN_SERVICES__PUSH_URL",
                string(&grpc_url(self.ports.push)),
            ),
        ]));
        self.spec(ADMIN_SVC, env)
    }

    /// The proxy: device and enrollment listeners with the localhost certificate, device
    /// identities from the device CA.
    pub fn proxy(&self) -> ProcessSpec {
        let server = self.layout.server();
        let (cert, key) = (string(&path(&server.cert)), string(&path(&server.key)));
        let listen = |port: u16| string(&Ports::addr(port).to_string());
        let mut env = common();
        env.extend(pairs(&[
            ("MDM_PROXY_DEVICE__LISTEN", listen(self.ports.device)),
            ("MDM_PROXY_DEVICE__CERT_FILE", cert.clone()),
            ("MDM_PROXY_DEVICE__KEY_FILE", key.clone()),
            (
                "MDM_PROXY_DEVICE__CLIENT_CA_FILES",
                strings(&[path(&self.layout.device_ca().cert)]),
            ),
            (
                "MDM_PROXY_ENROLLMENT__LISTEN",
                listen(self.ports.enrollment),
            ),
            ("MDM_PROXY_ENROLLMENT__CERT_FILE", cert),
            ("MDM_PROXY_ENROLLMENT__KEY_FILE", key),
            ("MDM_PROXY_HEALTH_LISTEN", listen(self.ports.health)),
            (
                "MDM_PROXY_SERVICES__ENROLL_URL",
                string(&grpc_url(self.ports.enroll)),
            ),
            (
                "MDM_PROXY_SERVICES__COMMAND_URL",
                string(&grpc_url(self.ports.command)),
            ),
            // A laptop needs no more; the default is one per core.
            ("MDM_PROXY_THREADS", "2".into()),
            // Nothing to drain for on a developer's machine: Ctrl-C stops at once.
            ("MDM_PROXY_SHUTDOWN_GRACE_SECS", "0".into()),
        ]));
        self.spec(PROXY, env)
    }

    /// What every service shares: its API (gRPC, or HTTPS for admin-svc) on `port`, metrics on
    /// a free port, SQLite in the data directory.
    fn service(&self, prefix: &str, port: u16) -> Vec<(String, String)> {
        let mut env = common();
        env.extend([
            (
                format!("{prefix}LISTEN"),
                string(&Ports::addr(port).to_string()),
            ),
            (
                format!("{prefix}METRICS_LISTEN"),
                string(&Ports::addr(0).to_string()),
            ),
            (
                format!("{prefix}DATA_DIR"),
                string(&path(self.layout.root())),
            ),
        ]);
        env
    }

    fn spec(&self, name: &'static str, env: Vec<(String, String)>) -> ProcessSpec {
        ProcessSpec {
            name,
            program: self.bin(name),
            args: Vec::new(),
            env,
        }
    }

    fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
    }
}

/// admin-svc's `tokens`: `[{name, sha256, scopes = [every scope]}]`, only the token's hash,
/// and every scope the API knows ([`Scope::ALL`]), so a new scope reaches the holder too.
pub fn admin_tokens(name: &str, sha256: &str) -> toml::Value {
    let mut token = toml::Table::new();
    token.insert("name".into(), toml::Value::String(name.into()));
    token.insert("sha256".into(), toml::Value::String(sha256.into()));
    token.insert(
        "scopes".into(),
        toml::Value::Array(
            Scope::ALL
                .iter()
                .map(|s| toml::Value::String(s.as_str().into()))
                .collect(),
        ),
    );
    toml::Value::Array(vec![toml::Value::Table(token)])
}

/// What every process gets: no colour codes in the log files.
fn common() -> Vec<(String, String)> {
    vec![("NO_COLOR".into(), "1".into())]
}

/// `http://127.0.0.1:<port>`: a gRPC URL.
fn grpc_url(port: u16) -> String {
    format!("http://{}", Ports::addr(port))
}

/// `text` as a TOML string: quoted, so that no value is read as a number or a boolean.
fn string(text: &str) -> String {
    toml::Value::String(text.into()).to_string()
}

/// A TOML array of strings.
fn strings(items: &[String]) -> String {
    toml::Value::Array(items.iter().cloned().map(toml::Value::String).collect()).to_string()
}

fn path(path: &Path) -> String {
    path.display().to_string()
}

fn pairs(list: &[(&str, String)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_inputs(check: impl FnOnce(Inputs<'_>)) {
        let layout = Layout::new(Path::new("/srv/dev")).expect("layout");
        let ports = Ports {
            device: 8443,
            admin: 9443,
            enrollment: 8444,
            health: 7001,
            enroll: 7002,
            command: 7003,
            push: 7004,
        };
        let secrets = Secrets {
            admin_token: "abc".into(),
            enroll_secret_key: "ZW5yb2xs".into(),
            push_secret_key: "cHVzaA==".into(),
            admin_secret_key: "YWRtaW4=".into(),
        };
        check(Inputs {
            layout: &layout,
            bin_dir: Path::new("/opt/bin"),
            ports: &ports,
            secrets: &secrets,
            topic: "com.apple.mgmt.External.t",
        });
    }

    #[test]
    fn services_find_each_other_and_keep_data_in_the_data_dir() {
        with_inputs(|inputs| {
            let enroll = inputs.enroll_svc();
            assert_eq!(enroll.program, Path::new("/opt/bin/enroll-svc"));
            assert_eq!(
                enroll.env_value("MDM_ENROLL_LISTEN"),
                Some("\"127.0.0.1:7002\"")
            );
            assert_eq!(
                enroll.env_value("MDM_ENROLL_METRICS_LISTEN"),
                Some("\"127.0.0.1:0\"")
            );
            assert_eq!(
                enroll.env_value("MDM_ENROLL_PUSH_URL"),
                Some("\"http://127.0.0.1:7004\"")
            );
            assert_eq!(
                enroll.env_value("MDM_ENROLL_DATA_DIR"),
                Some("\"/srv/dev\"")
            );
            assert_eq!(
                enroll.env_value("MDM_ENROLL_ENROLLMENT__SERVER_URL"),
                Some("\"https://127.0.0.1:8443/mdm\"")
            );
            assert_eq!(
                enroll.env_value("MDM_ENROLL_ENROLLMENT__DEVICE_CA_FILE"),
                Some("\"/srv/dev/pki/ota-device-cas.pem\"")
            );
            let command = inputs.command_svc();
            assert_eq!(
                command.env_value("MDM_COMMAND_PUSH__URL"),
                Some("\"http://127.0.0.1:7004\"")
            );
            let push = inputs.push_svc("https://127.0.0.1:5555");
            assert_eq!(
                push.env_value("MDM_PUSH_APNS__CA_FILES"),
                Some("[\"/srv/dev/pki/apns-ca.pem\"]")
            );
            assert_eq!(push.env_value("MDM_PUSH_SECRET_KEY"), Some("\"cHVzaA==\""));
        });
    }

    #[test]
    fn admin_svc_holds_only_the_hash_of_the_admin_token_with_every_scope() {
        with_inputs(|inputs| {
            let admin = inputs.admin_svc();
            assert_eq!(admin.program, Path::new("/opt/bin/admin-svc"));
            let tokens = admin.env_value("MDM_ADMIN_TOKENS").expect("tokens");
            assert!(
                tokens.contains(&inputs.secrets.admin_token_sha256()),
                "{tokens}"
            );
            let parsed: toml::Table = toml::from_str(&format!("v = {tokens}")).expect("TOML");
            let scopes: Vec<&str> = parsed["v"][0]["scopes"]
                .as_array()
                .expect("scopes")
                .iter()
                .filter_map(toml::Value::as_str)
                .collect();
            assert_eq!(scopes, Scope::ALL.map(Scope::as_str));
            assert!(scopes.contains(&"admin"));
            assert!(admin.env.iter().all(|(_, v)| !v.contains("\"abc\"")));
            assert_eq!(
                admin.env_value("MDM_ADMIN_LISTEN"),
                Some("\"127.0.0.1:9443\"")
            );
            assert_eq!(admin.env_value("MDM_ADMIN_DATA_DIR"), Some("\"/srv/dev\""));
            assert_eq!(
                admin.env_value("MDM_ADMIN_CERT_FILE"),
                Some("\"/srv/dev/pki/server.pem\"")
            );
            assert_eq!(
                admin.env_value("MDM_ADMIN_SERVICES__PUSH_URL"),
                Some("\"http://127.0.0.1:7004\"")
            );
        });
    }

    #[test]
    fn the_proxy_serves_devices_and_enrollment_only() {
        with_inputs(|inputs| {
            let proxy = inputs.proxy();
            assert!(
                proxy
                    .env
                    .iter()
                    .all(|(k, _)| !k.starts_with("MDM_PROXY_ADMIN") && !k.contains("PUSH_URL")),
                "{:?}",
                proxy.env
            );
            assert_eq!(
                proxy.env_value("MDM_PROXY_ENROLLMENT__LISTEN"),
                Some("\"127.0.0.1:8444\"")
            );
        });
    }

    #[test]
    fn the_mock_apns_takes_its_settings_as_flags() {
        with_inputs(|inputs| {
            let mock = inputs.mock_apns();
            assert_eq!(mock.args[..2], ["--listen", "127.0.0.1:0"]);
            assert!(mock
                .args
                .contains(&"/srv/dev/pki/apns-server.pem".to_string()));
        });
    }

    #[test]
    fn strings_are_quoted_for_toml() {
        assert_eq!(string("8443"), "\"8443\"");
        assert_eq!(strings(&["a".into(), "b".into()]), "[\"a\", \"b\"]");
    }
}
