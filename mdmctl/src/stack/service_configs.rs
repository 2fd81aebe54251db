//! Each service's configuration file in a stack: its secrets, its database, and what follows
//! from the stack's PKI and host name. Listen addresses and the addresses of the other services
//! are the compose file's (`MDM_*` variables, which take precedence over the file).

use crate::dev::layout::{Layout, PemPair};
use crate::dev::secrets::Secrets;
use crate::dev::specs::{self, CHECKIN_PATH, SERVER_PATH};
use toml::{Table, Value};

/// Name of the admin token made for the stack (`requested_by` of what it does).
pub const ADMIN_TOKEN_NAME: &str = "admin";

/// What the files are made from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The state directory.
    pub layout: &'a Layout,
    /// The admin token and secret keys.
    pub secrets: &'a Secrets,
    /// `postgres://user:password@host:5432`, without a database.
    pub postgres: &'a str,
    /// The name devices reach the server by.
    pub hostname: &'a str,
    /// The proxy's device port.
    pub device_port: u16,
    /// The proxy's enrollment port.
    pub enrollment_port: u16,
    /// The push topic profiles name.
    pub topic: &'a str,
    /// PayloadOrganization and the O of issued identities.
    pub organization: &'a str,
    /// The certificate the proxy serves devices: the operator's, or the stack's own
    /// (`layout.server()`).
    pub device_server: &'a PemPair,
    /// Whether OTA enrollment also believes the simulated Apple device CA (simulated devices).
    pub trust_simulated_apple_ca: bool,
}

impl Inputs<'_> {
    /// Every service's file, by service name.
    pub fn all(&self) -> [(&'static str, Table); 5] {
        [
            (specs::PROXY, self.proxy()),
            (specs::ENROLL_SVC, self.enroll_svc()),
            (specs::COMMAND_SVC, self.with_database("command")),
            (specs::PUSH_SVC, self.push_svc()),
            (specs::ADMIN_SVC, self.admin_svc()),
        ]
    }

    /// enroll-svc: it issues identities with the device CA (which the proxy trusts), and its
    /// profiles point at the proxy's listeners under the stack's host name.
    pub fn enroll_svc(&self) -> Table {
        let mut file = self.with_database("enroll");
        insert(&mut file, "secret_key", &self.secrets.enroll_secret_key);
        let ca = self.layout.device_ca();
        let mut ca_table = Table::new();
        insert(&mut ca_table, "cert_file", &path(&ca.cert));
        insert(&mut ca_table, "key_file", &path(&ca.key));
        file.insert("ca".into(), Value::Table(ca_table));

        let device = self.url(self.device_port);
        let mut enrollment = Table::new();
        insert(&mut enrollment, "base_url", &self.url(self.enrollment_port));
        insert(
            &mut enrollment,
            "server_url",
            &format!("{device}{SERVER_PATH}"),
        );
        insert(
            &mut enrollment,
            "check_in_url",
            &format!("{device}{CHECKIN_PATH}"),
        );
        insert(&mut enrollment, "topic", self.topic);
        insert(&mut enrollment, "organization", self.organization);
        if self.own_server_certificate() {
            insert(&mut enrollment, "server_ca_file", &path(&ca.cert));
        }
        if self.trust_simulated_apple_ca {
            // The bundle lists Apple's device CAs too: the setting replaces them.
            insert(
                &mut enrollment,
                "device_ca_file",
                &path(&self.layout.ota_device_cas()),
            );
        }
        file.insert("enrollment".into(), Value::Table(enrollment));
        file
    }

    /// The proxy: devices meet `device_server` on both listeners, and their identities must
    /// chain to the device CA.
    pub fn proxy(&self) -> Table {
        let listener = |with_client_ca: bool| {
            let mut table = Table::new();
            insert(&mut table, "cert_file", &path(&self.device_server.cert));
            insert(&mut table, "key_file", &path(&self.device_server.key));
            if with_client_ca {
                let ca = Value::String(path(&self.layout.device_ca().cert));
                table.insert("client_ca_files".into(), Value::Array(vec![ca]));
            }
            Value::Table(table)
        };
        let mut file = Table::new();
        file.insert("device".into(), listener(true));
        file.insert("enrollment".into(), listener(false));
        file
    }

    /// push-svc: its key seals push certificates' keys.
    pub fn push_svc(&self) -> Table {
        let mut file = self.with_database("push");
        insert(&mut file, "secret_key", &self.secrets.push_secret_key);
        file
    }

    /// admin-svc: HTTPS with the stack's own server certificate (it names `admin-svc`, which
    /// the operator's need not), and the stack's admin token (its hash) with every scope, to
    /// make narrower ones with.
    pub fn admin_svc(&self) -> Table {
        let mut file = self.with_database("admin");
        let server = self.layout.server();
        insert(&mut file, "cert_file", &path(&server.cert));
        insert(&mut file, "key_file", &path(&server.key));
        insert(&mut file, "secret_key", &self.secrets.admin_secret_key);
        file.insert(
            "tokens".into(),
            specs::admin_tokens(ADMIN_TOKEN_NAME, &self.secrets.admin_token_sha256()),
        );
        file
    }

    /// Whether devices meet the stack's own certificate (issued by the device CA): then they
    /// are told to trust that CA.
    pub fn own_server_certificate(&self) -> bool {
        *self.device_server == self.layout.server()
    }

    /// `https://<hostname>:<port>`; the host name is bracketed when it is an IPv6 address.
    pub fn url(&self, port: u16) -> String {
        if self.hostname.contains(':') {
            format!("https://[{}]:{port}", self.hostname)
        } else {
            format!("https://{}:{port}", self.hostname)
        }
    }

    /// `[database] url = ".../<name>"`: each service's database of its own.
    fn with_database(&self, name: &str) -> Table {
        let mut database = Table::new();
        insert(&mut database, "url", &format!("{}/{name}", self.postgres));
        let mut file = Table::new();
        file.insert("database".into(), Value::Table(database));
        file
    }
}

fn path(path: &std::path::Path) -> String {
    path.display().to_string()
}

fn insert(table: &mut Table, key: &str, value: &str) {
    table.insert(key.into(), Value::String(value.into()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn with_inputs(own: bool, check: impl FnOnce(Inputs<'_>)) {
        let layout = Layout::new(Path::new("/state")).expect("layout");
        let device_server = if own {
            layout.server()
        } else {
            PemPair {
                cert: "/state/pki/provided-server.pem".into(),
                key: "/state/pki/provided-server.key".into(),
            }
        };
        let secrets = Secrets {
            admin_token: "abc".into(),
            enroll_secret_key: "ZW5yb2xs".into(),
            push_secret_key: "cHVzaA==".into(),
            admin_secret_key: "YWRtaW4=".into(),
        };
        check(Inputs {
            layout: &layout,
            secrets: &secrets,
            postgres: "postgres://mdm:pw@postgres:5432",
            hostname: "mdm.example.com",
            device_port: 443,
            enrollment_port: 8444,
            topic: "com.apple.mgmt.External.t",
            organization: "Example",
            device_server: &device_server,
            trust_simulated_apple_ca: own,
        });
    }

    #[test]
    fn enroll_svc_issues_with_the_device_ca_and_names_the_public_urls() {
        with_inputs(true, |inputs| {
            let file = inputs.enroll_svc();
            assert_eq!(
                file["database"]["url"].as_str(),
                Some("postgres://mdm:pw@postgres:5432/enroll")
            );
            assert_eq!(file["secret_key"].as_str(), Some("ZW5yb2xs"));
            assert_eq!(
                file["ca"]["key_file"].as_str(),
                Some("/state/pki/device-ca.key")
            );
            let enrollment = &file["enrollment"];
            assert_eq!(
                enrollment["server_url"].as_str(),
                Some("https://mdm.example.com:443/mdm")
            );
            assert_eq!(
                enrollment["base_url"].as_str(),
                Some("https://mdm.example.com:8444")
            );
            assert_eq!(
                enrollment["server_ca_file"].as_str(),
                Some("/state/pki/device-ca.pem")
            );
            assert_eq!(
                enrollment["device_ca_file"].as_str(),
                Some("/state/pki/ota-device-cas.pem")
            );
        });
        with_inputs(false, |inputs| {
            let file = inputs.enroll_svc();
            assert!(file["enrollment"].get("server_ca_file").is_none());
            // Apple's compiled-in device CAs only, unless asked.
            assert!(file["enrollment"].get("device_ca_file").is_none());
        });
    }

    #[test]
    fn admin_svc_holds_only_the_tokens_hash_and_every_service_its_own_database() {
        with_inputs(true, |inputs| {
            let text = toml::to_string(&inputs.admin_svc()).expect("TOML");
            assert!(
                text.contains(&inputs.secrets.admin_token_sha256()),
                "{text}"
            );
            assert!(!text.contains("\"abc\""), "{text}");
            let databases: Vec<String> = inputs
                .all()
                .iter()
                .skip(1)
                .map(|(_, file)| file["database"]["url"].as_str().unwrap_or("").to_owned())
                .collect();
            assert_eq!(
                databases
                    .iter()
                    .map(|url| url.rsplit('/').next().unwrap_or(""))
                    .collect::<Vec<_>>(),
                ["enroll", "command", "push", "admin"]
            );
        });
    }

    #[test]
    fn the_proxy_trusts_the_device_ca_on_its_device_listener_only() {
        with_inputs(true, |inputs| {
            let file = inputs.proxy();
            assert_eq!(
                file["device"]["client_ca_files"][0].as_str(),
                Some("/state/pki/device-ca.pem")
            );
            assert_eq!(
                file["enrollment"]["cert_file"].as_str(),
                Some("/state/pki/server.pem")
            );
            assert!(file["enrollment"].get("client_ca_files").is_none());
        });
    }

    #[test]
    fn an_ipv6_host_is_bracketed() {
        let layout = Layout::new(Path::new("/state")).expect("layout");
        let secrets = Secrets::generate().expect("secrets");
        let device_server = layout.server();
        let inputs = Inputs {
            layout: &layout,
            secrets: &secrets,
            postgres: "",
            hostname: "2001:db8::1",
            device_port: 8443,
            enrollment_port: 8444,
            topic: "t",
            organization: "o",
            device_server: &device_server,
            trust_simulated_apple_ca: false,
        };
        assert_eq!(inputs.url(8443), "https://[2001:db8::1]:8443");
    }
}
