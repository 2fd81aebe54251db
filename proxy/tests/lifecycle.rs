//! Every binary's life cycle as an operator sees it: `--check-config` accepts a valid
//! configuration and names the problem in an invalid one (admin-svc's tokens included); services
//! report gRPC health; the proxy answers `/healthz`; SIGTERM stops each (admin-svc too) within a
//! few seconds.

use std::process::Command;
use std::time::{Duration, Instant};
use testkit::stack::{listening_addr, STARTUP};
use testkit::{workspace_bin, ChildProcess, Engine, Stack, StackOptions};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

const KEY: &str = "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"";
const STOP_WITHIN: Duration = Duration::from_secs(6);

fn check_config(bin: &str, env: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(workspace_bin(bin));
    command.arg("--check-config");
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("MDM_")) {
        command.env_remove(key);
    }
    command.envs(env.iter().copied());
    let output = command.output().expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn check_config_accepts_valid_and_explains_invalid_settings() {
    let (ok, text) = check_config("enroll-svc", &[("MDM_ENROLL_SECRET_KEY", KEY)]);
    assert!(ok && text.contains("configuration is valid"), "{text}");

    let (ok, text) = check_config("enroll-svc", &[]);
    assert!(
        !ok && text.contains("secret_key"),
        "a missing secret key is named: {text}"
    );
    let (ok, text) = check_config("enroll-svc", &[("MDM_ENROLL_SECRET_KEY", "\"short\"")]);
    assert!(!ok && text.contains("32 bytes"), "{text}");
    let (ok, text) = check_config(
        "enroll-svc",
        &[
            ("MDM_ENROLL_SECRET_KEY", KEY),
            ("MDM_ENROLL_DATABSE__URL", "x"),
        ],
    );
    assert!(
        !ok && text.contains("databse"),
        "a misspelt key is named: {text}"
    );

    for (bin, listen, required) in [
        ("command-svc", "MDM_COMMAND_LISTEN", None),
        (
            "push-svc",
            "MDM_PUSH_LISTEN",
            Some(("MDM_PUSH_SECRET_KEY", KEY)),
        ),
    ] {
        let base: Vec<(&str, &str)> = required.into_iter().collect();
        let (ok, text) = check_config(bin, &base);
        assert!(ok, "{bin}: {text}");
        let mut bad = base.clone();
        bad.push((listen, "not-an-address"));
        let (ok, text) = check_config(bin, &bad);
        assert!(!ok && text.contains("invalid"), "{bin}: {text}");
        assert!(
            !text.contains("Config("),
            "errors are for people, not Debug: {text}"
        );
    }

    let (ok, text) = check_config(
        "proxy",
        &[
            ("MDM_PROXY_DEVICE__CERT_FILE", "/nonexistent/server.pem"),
            ("MDM_PROXY_DEVICE__KEY_FILE", "/nonexistent/server.key"),
            (
                "MDM_PROXY_DEVICE__CLIENT_CA_FILES",
                "[\"/nonexistent/ca.pem\"]",
            ),
        ],
    );
    assert!(!ok && text.contains("device.cert_file"), "{text}");

    // admin-svc: the admin API's listener and tokens are its own now.
    let (ok, text) = check_config(
        "admin-svc",
        &[
            ("MDM_ADMIN_CERT_FILE", "/nonexistent/server.pem"),
            ("MDM_ADMIN_KEY_FILE", "/nonexistent/server.key"),
        ],
    );
    assert!(!ok && text.contains("cert_file"), "{text}");
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("server.pem"), dir.path().join("server.key"));
    for file in [&cert, &key] {
        std::fs::write(file, "").expect("write");
    }
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    let files = [
        ("MDM_ADMIN_CERT_FILE", cert.as_str()),
        ("MDM_ADMIN_KEY_FILE", key.as_str()),
    ];
    let (ok, text) = check_config("admin-svc", &files);
    assert!(
        !ok && text.contains("tokens"),
        "an API nobody can call is refused: {text}"
    );
    let token = format!(
        "[{{name = \"ops\", sha256 = \"{}\", scopes = [\"read\"]}}]",
        "ab".repeat(32)
    );
    let mut env = files.to_vec();
    env.push(("MDM_ADMIN_TOKENS", &token));
    let (ok, text) = check_config("admin-svc", &env);
    assert!(ok && text.contains("configuration is valid"), "{text}");
    let bad_scope = token.replace("read", "root");
    env.pop();
    env.push(("MDM_ADMIN_TOKENS", &bad_scope));
    let (ok, text) = check_config("admin-svc", &env);
    assert!(
        !ok && text.contains("root"),
        "an unknown scope is named: {text}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("enroll.toml");
    std::fs::write(&file, "secret_key = \"x\"\n[database\n").expect("write");
    let output = Command::new(workspace_bin("enroll-svc"))
        .args(["--check-config", "--config"])
        .arg(&file)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && text.contains("enroll.toml"),
        "{text}"
    );
}

async fn assert_serving(addr: std::net::SocketAddr) {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("url")
        .connect()
        .await
        .expect("connects");
    let mut health = HealthClient::new(channel);
    let response = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health answers");
    assert_eq!(response.into_inner().status(), ServingStatus::Serving);
}

async fn assert_stops_quickly(process: &mut ChildProcess) {
    let started = Instant::now();
    let status = process
        .terminate(STOP_WITHIN)
        .await
        .expect("stops after SIGTERM");
    assert!(
        status.success(),
        "{}: {status}\n{}",
        process.name(),
        process.logs()
    );
    assert!(started.elapsed() < STOP_WITHIN);
}

#[tokio::test]
async fn services_report_health_and_stop_on_sigterm() {
    // A database of the test's own: the default file under ./data outlives the test, and one
    // left by an older build may hold migrations this build does not know.
    let dir = tempfile::tempdir().expect("tempdir");
    for (bin, prefix) in [("command-svc", "MDM_COMMAND_"), ("push-svc", "MDM_PUSH_")] {
        let mut env = vec![
            (format!("{prefix}LISTEN"), "127.0.0.1:0".to_string()),
            (format!("{prefix}METRICS_LISTEN"), "127.0.0.1:0".to_string()),
            (
                format!("{prefix}DATABASE__URL"),
                format!(
                    "sqlite://{}",
                    dir.path().join(format!("{bin}.db")).display()
                ),
            ),
        ];
        if bin == "push-svc" {
            env.push(("MDM_PUSH_SECRET_KEY".to_string(), KEY.to_string()));
        }
        let mut process = ChildProcess::spawn(bin, &workspace_bin(bin), &[], &env)
            .await
            .expect("spawns");
        let line = process
            .wait_for_line(&format!("{bin} listening"), STARTUP)
            .await
            .expect("listens");
        assert_serving(listening_addr(&line).expect("address")).await;
        assert_stops_quickly(&mut process).await;
    }
}

#[tokio::test]
async fn the_stack_serves_health_and_stops_on_sigterm() {
    let mut stack = Stack::start(StackOptions::new(Engine::Sqlite))
        .await
        .expect("starts")
        .expect("sqlite");
    assert_serving(stack.enroll_addr).await;
    let healthz = reqwest::get(format!("http://{}/healthz", stack.health_addr))
        .await
        .expect("healthz");
    assert_eq!(healthz.status(), reqwest::StatusCode::OK);

    // Hold a connection from the proxy to enroll-svc open: shutdown must not wait for it.
    let udid = "SHUTDOWN-DEVICE";
    let cert = stack.device_ca.issue_client(udid);
    let response = stack
        .device_client(Some(&cert))
        .put(format!("{}/checkin", stack.device_url))
        .body(testkit::messages::authenticate(udid))
        .send()
        .await
        .expect("check-in");
    assert_eq!(response.status(), reqwest::StatusCode::OK);

    assert_stops_quickly(&mut stack.enroll).await;
    assert_stops_quickly(&mut stack.proxy).await;
    assert_stops_quickly(&mut stack.admin).await;
}
