//! `mdmctl stack init`: the state directory's files, made or reused, then what to do next.

use super::service_configs::Inputs;
use super::InitArgs;
use crate::config::file::ConfigFile;
use crate::dev::certs::KeyedCert;
use crate::dev::files;
use crate::dev::layout::{Layout, PemPair};
use crate::dev::pki::DevPki;
use crate::dev::secrets::{self, Secrets};
use crate::exit::Failure;
use anyhow::Context;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Names the stack's own server certificate always carries: this machine (the published ports
/// on loopback), and the proxy's and admin-svc's names on the stack's network.
const STACK_NAMES: [&str; 5] = ["localhost", "127.0.0.1", "::1", "proxy", "admin-svc"];

/// The state directory's files besides the development PKI and `secrets.json`.
struct StateFiles {
    root: PathBuf,
}

impl StateFiles {
    fn postgres_password(&self) -> PathBuf {
        self.root.join("postgres-password")
    }
    fn admin_token(&self) -> PathBuf {
        self.root.join("admin-token")
    }
    fn mdmctl_config(&self) -> PathBuf {
        self.root.join("mdmctl.toml")
    }
    /// The operator's server certificate, copied from the TLS directory.
    fn provided_server(&self) -> PemPair {
        PemPair {
            cert: self.root.join("pki/provided-server.pem"),
            key: self.root.join("pki/provided-server.key"),
        }
    }
    fn config_dir(&self) -> PathBuf {
        self.root.join("config")
    }
    fn service_config(&self, service: &str) -> PathBuf {
        self.config_dir().join(format!("{service}.toml"))
    }
}

/// Runs `mdmctl stack init`; answers what to print: what was made, where things are.
pub fn init(args: &InitArgs) -> anyhow::Result<String> {
    let hostname = checked_hostname(&args.hostname)?;
    let layout = Layout::new(&args.state_dir)?;
    let state = StateFiles {
        root: layout.root().to_path_buf(),
    };
    for dir in [
        layout.root().to_path_buf(),
        layout.pki_dir(),
        state.config_dir(),
    ] {
        files::create_private_dir(&dir)?;
    }

    let (secrets, new_secrets) = Secrets::load_or_create(&layout.secrets_file())?;
    let (password, new_password) = load_or_create_password(&state.postgres_password())?;
    let names = server_names(hostname);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let pki = DevPki::load_or_create(&layout, &names)?;
    let mut made = pki.made.clone();
    let device_server = device_server_certificate(args.tls_dir.as_deref(), &state, &mut made)?
        .unwrap_or_else(|| layout.server());
    let topic = args
        .push_topic
        .as_deref()
        .map(str::trim)
        .filter(|topic| !topic.is_empty())
        .unwrap_or(&pki.topic);

    let postgres = format!(
        "postgres://{}:{password}@{}:5432",
        args.postgres_user, args.postgres_host
    );
    let inputs = Inputs {
        layout: &layout,
        secrets: &secrets,
        postgres: &postgres,
        hostname,
        device_port: args.device_port,
        enrollment_port: args.enrollment_port,
        topic,
        organization: &args.organization,
        device_server: &device_server,
        trust_simulated_apple_ca: args.trust_simulated_apple_ca,
    };
    for (service, file) in inputs.all() {
        let text = toml::to_string(&file).context("writing a service's configuration")?;
        files::write_private(&state.service_config(service), text.as_bytes())?;
    }
    files::write_private(&state.admin_token(), secrets.admin_token.as_bytes())?;
    ConfigFile {
        url: Some(args.admin_url.clone()),
        token: Some(secrets.admin_token.clone()),
        // admin-svc always serves the stack's own certificate.
        ca_file: Some(layout.device_ca().cert),
    }
    .save(&state.mdmctl_config())?;

    if new_secrets {
        made.push("admin token and secret keys");
    }
    if new_password {
        made.push("PostgreSQL password");
    }
    Ok(banner(&inputs, &made, &state))
}

/// What the log of the first start (and every later one) says.
fn banner(inputs: &Inputs<'_>, made: &[&str], state: &StateFiles) -> String {
    let root = state.root.display();
    let what = if made.is_empty() {
        format!("reusing the certificates and secrets in {root}")
    } else {
        format!("made in {root}: {}", made.join(", "))
    };
    let device = inputs.url(inputs.device_port);
    format!(
        "{what}\n\
         devices:      {device}{server} (check-in {device}{checkin}, push topic {topic})\n\
         enrollment:   {enrollment}/enroll/profile?token=<an enrollment token>\n\
         admin token:  docker compose exec admin-svc cat {token}\n\
         its CA:       docker compose exec admin-svc cat {ca}\n\
         mdmctl:       docker compose exec admin-svc mdmctl devices list\n",
        server = crate::dev::specs::SERVER_PATH,
        checkin = crate::dev::specs::CHECKIN_PATH,
        topic = inputs.topic,
        enrollment = inputs.url(inputs.enrollment_port),
        token = state.admin_token().display(),
        ca = inputs.layout.device_ca().cert.display(),
    )
}

/// The stack's names and the public one, each once.
fn server_names(hostname: &str) -> Vec<String> {
    let mut names: Vec<String> = STACK_NAMES.iter().map(|name| (*name).to_owned()).collect();
    if !names.iter().any(|name| name == hostname) {
        names.push(hostname.to_owned());
    }
    names
}

/// A DNS name or an IP address, nothing else (no scheme, port or path: they are given apart).
fn checked_hostname(hostname: &str) -> anyhow::Result<&str> {
    let hostname = hostname.trim();
    let dns = !hostname.is_empty()
        && hostname.len() <= 253
        && hostname.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if dns || hostname.parse::<IpAddr>().is_ok() {
        return Ok(hostname);
    }
    Err(Failure {
        message: format!("{hostname:?} is not a host name or an IP address"),
        hint: Some(
            "MDM_HOSTNAME is the name devices reach the server by, e.g. mdm.example.com (no \
             https://, port or path)"
                .into(),
        ),
    }
    .into())
}

/// Where the operator's server certificate is kept, when the TLS directory holds one: copied
/// into the state when it is new or changed (a renewal is a restart).
fn device_server_certificate(
    tls_dir: Option<&Path>,
    state: &StateFiles,
    made: &mut Vec<&'static str>,
) -> anyhow::Result<Option<PemPair>> {
    let Some(cert) = provided_server_certificate(tls_dir)? else {
        return Ok(None);
    };
    let pair = state.provided_server();
    let kept = KeyedCert::load(&pair).ok();
    if kept.and_then(|kept| kept.sha256_hex().ok()) != Some(cert.sha256_hex()?) {
        cert.save(&pair)?;
        made.push("your server certificate (copied)");
    }
    Ok(Some(pair))
}

/// The operator's server certificate in `dir` (`server.pem` and `server.key`), if both are
/// there; one without the other is an error.
fn provided_server_certificate(dir: Option<&Path>) -> anyhow::Result<Option<KeyedCert>> {
    let Some(dir) = dir else {
        return Ok(None);
    };
    let pair = PemPair {
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    };
    match (pair.cert.is_file(), pair.key.is_file()) {
        (false, false) => Ok(None),
        (true, true) => KeyedCert::load(&pair).map(Some),
        (true, false) => anyhow::bail!("{} has no key beside it", pair.cert.display()),
        (false, true) => anyhow::bail!("{} has no certificate beside it", pair.key.display()),
    }
}

/// PostgreSQL's password: made once (hex, so that it needs no escaping in a URL), kept after.
fn load_or_create_password(path: &Path) -> anyhow::Result<(String, bool)> {
    if path.exists() {
        let password = files::read_text(path)?.trim().to_owned();
        anyhow::ensure!(
            !password.is_empty(),
            "{} is empty; remove it only together with the PostgreSQL volume",
            path.display()
        );
        return Ok((password, false));
    }
    let password = hex::encode(secrets::random_bytes()?);
    files::write_private(path, password.as_bytes())?;
    Ok((password, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(state: &Path, tls: Option<&Path>) -> InitArgs {
        InitArgs {
            state_dir: state.to_path_buf(),
            hostname: "mdm.example.com".into(),
            device_port: 8443,
            enrollment_port: 8444,
            tls_dir: tls.map(Path::to_path_buf),
            push_topic: None,
            organization: "Example".into(),
            trust_simulated_apple_ca: false,
            postgres_host: "postgres".into(),
            postgres_user: "mdm".into(),
            admin_url: "https://admin-svc:9443".into(),
        }
    }

    fn read(path: PathBuf) -> String {
        std::fs::read_to_string(path).expect("written")
    }

    #[test]
    fn made_once_then_reused_with_configs_rewritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = StateFiles {
            root: dir.path().to_path_buf(),
        };
        let banner = init(&args(dir.path(), None)).expect("first start");
        let password = read(state.postgres_password());
        let token = read(state.admin_token());
        assert!(banner.starts_with("made in"), "{banner}");
        assert!(banner.contains("cat "), "{banner}");
        // The log says where the secrets are, never what they are.
        assert!(
            !banner.contains(&token) && !banner.contains(&password),
            "{banner}"
        );
        let enroll = read(state.service_config("enroll-svc"));
        assert!(
            enroll.contains(&format!("mdm:{password}@postgres:5432/enroll")),
            "{enroll}"
        );
        let layout = Layout::new(dir.path()).expect("layout");
        let server = KeyedCert::load(&layout.server()).expect("server certificate");
        let names = crate::dev::certs::names_of(&server.cert);
        assert!(names.contains(&"mdm.example.com".to_owned()), "{names:?}");
        assert!(names.contains(&"admin-svc".to_owned()), "{names:?}");
        let mdmctl = ConfigFile::load(&state.mdmctl_config()).expect("mdmctl.toml");
        assert_eq!(mdmctl.token.as_deref(), Some(token.as_str()));

        let mut renamed = args(dir.path(), None);
        renamed.hostname = "mdm.example.org".into();
        renamed.push_topic = Some("com.apple.mgmt.External.real".into());
        let banner = init(&renamed).expect("second start");
        // A new name: only the server certificate is new.
        assert!(
            banner
                .lines()
                .next()
                .unwrap_or("")
                .ends_with(": server certificate"),
            "{banner}"
        );
        let banner = init(&renamed).expect("third start");
        assert!(banner.starts_with("reusing"), "{banner}");
        assert_eq!(read(state.postgres_password()), password);
        assert_eq!(read(state.admin_token()), token);
        let enroll = read(state.service_config("enroll-svc"));
        assert!(
            enroll.contains("https://mdm.example.org:8443/mdm"),
            "{enroll}"
        );
        assert!(enroll.contains("com.apple.mgmt.External.real"), "{enroll}");
        let mode = |path: PathBuf| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(path).expect("file").permissions().mode() & 0o777
        };
        assert_eq!(mode(state.service_config("admin-svc")), 0o600);
        assert_eq!(mode(state.postgres_password()), 0o600);
    }

    #[test]
    fn an_operators_certificate_serves_devices_who_are_not_told_to_trust_the_stack_ca() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tls = tempfile::tempdir().expect("tempdir");
        let ca = crate::dev::certs::new_ca("Operator CA", false).expect("ca");
        let theirs = crate::dev::certs::server(&ca, &["mdm.example.com"]).expect("cert");
        let pair = PemPair {
            cert: tls.path().join("server.pem"),
            key: tls.path().join("server.key"),
        };
        std::fs::write(&pair.cert, theirs.cert_pem().expect("pem")).expect("write");
        init(&args(dir.path(), Some(tls.path()))).expect_err("the key is missing");
        std::fs::write(&pair.key, theirs.key_pem().expect("pem")).expect("write");
        let banner = init(&args(dir.path(), Some(tls.path()))).expect("init");
        assert!(
            banner.contains("your server certificate (copied)"),
            "{banner}"
        );
        let banner = init(&args(dir.path(), Some(tls.path()))).expect("again");
        assert!(banner.starts_with("reusing"), "{banner}");
        // A renewal: new files in the TLS directory, copied at the next start.
        let renewed = crate::dev::certs::server(&ca, &["mdm.example.com"]).expect("cert");
        std::fs::write(&pair.cert, renewed.cert_pem().expect("pem")).expect("write");
        std::fs::write(&pair.key, renewed.key_pem().expect("pem")).expect("write");
        let banner = init(&args(dir.path(), Some(tls.path()))).expect("renewed");
        assert!(
            banner.contains("your server certificate (copied)"),
            "{banner}"
        );
        let state = StateFiles {
            root: dir.path().to_path_buf(),
        };
        assert!(!read(state.service_config("enroll-svc")).contains("server_ca_file"));
        let proxy = read(state.service_config("proxy"));
        assert!(proxy.contains("provided-server.pem"), "{proxy}");
        let admin = read(state.service_config("admin-svc"));
        assert!(admin.contains("pki/server.pem"), "{admin}");
    }

    #[test]
    fn host_names_are_names_or_addresses() {
        for good in ["mdm.localhost", "mdm-1.example.com", "10.0.0.5", "::1"] {
            assert_eq!(checked_hostname(good).expect(good), good);
        }
        for bad in [
            "",
            "https://mdm.example.com",
            "mdm.example.com:8443",
            "a b",
            "-x.com",
        ] {
            assert!(checked_hostname(bad).is_err(), "{bad}");
        }
    }
}
