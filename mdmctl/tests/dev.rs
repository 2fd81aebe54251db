//! `mdmctl dev` as a person runs it: the launcher as a child process on free ports and a
//! temporary data directory, waited for through its dev.json; `mdmctl dev simulate` enrolls a
//! device through it (by the direct profile, then by OTA, then with a preissued identity) and
//! completes a DeviceInformation round trip; SIGINT stops everything
//! (exit 0, every process gone); a second run reuses the certificates, secrets and databases.
//! A child that dies takes the launcher down with exit 1 and its name. Needs
//! `cargo build --workspace --bins` first.

use mdmctl::dev::info::{DevInfo, LAUNCHER};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use testkit::workspace_bin;

/// How long the launcher may take until dev.json is written (a debug build, first run).
const STARTUP: Duration = Duration::from_secs(120);
/// How long stopping may take (the launcher's grace period is 5 s).
const STOP: Duration = Duration::from_secs(20);
/// How long one short mdmctl command may take.
const COMMAND: Duration = Duration::from_secs(90);
/// Pause between polls.
const POLL: Duration = Duration::from_millis(50);

/// A running `mdmctl dev`, its output in files of its own directory (outside the data dir).
struct Launcher {
    child: Child,
    output: TempDir,
}

impl Launcher {
    fn start(data_dir: &Path) -> Launcher {
        let output = tempfile::Builder::new()
            .prefix("mdmctl-dev-output-")
            .tempdir()
            .expect("a directory for the launcher's output");
        let file = |name: &str| std::fs::File::create(output.path().join(name)).expect("file");
        let child = mdmctl(output.path())
            .args(["dev", "--data-dir"])
            .arg(data_dir)
            .args(["--device-port", "0", "--admin-port", "0"])
            .args(["--enrollment-port", "0"])
            .stdout(file("stdout"))
            .stderr(file("stderr"))
            .spawn()
            .expect("start mdmctl dev");
        Launcher { child, output }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(self.output.path().join("stdout")).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.output.path().join("stderr")).unwrap_or_default()
    }

    fn describe(&self) -> String {
        format!(
            "--- launcher stdout ---\n{}\n--- launcher stderr ---\n{}",
            self.stdout(),
            self.stderr()
        )
    }

    /// dev.json once this launcher has written it (every process ready).
    fn wait_until_ready(&mut self, data_dir: &Path) -> DevInfo {
        let path = data_dir.join("dev.json");
        let end = Instant::now() + STARTUP;
        loop {
            if let Ok(info) = DevInfo::read(&path) {
                if info.pids.get(LAUNCHER) == Some(&self.pid()) {
                    return info;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "mdmctl dev exited ({status}) before it was ready\n{}",
                    self.describe()
                );
            }
            assert!(
                Instant::now() < end,
                "no dev.json within {STARTUP:?}\n{}",
                self.describe()
            );
            std::thread::sleep(POLL);
        }
    }

    /// Waits for the launcher to exit by itself.
    fn wait_for_exit(&mut self) -> ExitStatus {
        let end = Instant::now() + STOP;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() >= end {
                let _ = self.child.kill();
                panic!(
                    "mdmctl dev did not exit within {STOP:?}\n{}",
                    self.describe()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Ctrl-C, and its exit status.
    fn interrupt(&mut self) -> ExitStatus {
        signal(self.pid(), Signal::SIGINT);
        self.wait_for_exit()
    }
}

impl Drop for Launcher {
    fn drop(&mut self) {
        // A failed test must not leave the server running: SIGINT stops the children too.
        if let Ok(None) = self.child.try_wait() {
            signal(self.pid(), Signal::SIGINT);
            let end = Instant::now() + STOP;
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < end {
                std::thread::sleep(POLL);
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn signal(pid: u32, signal: Signal) {
    let pid = i32::try_from(pid).expect("pid fits pid_t");
    kill(Pid::from_raw(pid), signal).expect("send the signal");
}

/// Whether `pid` still exists.
fn alive(pid: u32) -> bool {
    let pid = i32::try_from(pid).expect("pid fits pid_t");
    kill(Pid::from_raw(pid), None).is_ok()
}

/// The built mdmctl with a HOME of its own and no `MDM_*` variable of the caller's.
fn mdmctl(home: &Path) -> Command {
    let mut command = Command::new(workspace_bin("mdmctl"));
    command.env("HOME", home).stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("MDM_") {
            command.env_remove(key);
        }
    }
    command
}

/// Runs an mdmctl command to completion; (exit code, stdout, stderr).
fn run(mut command: Command) -> (i32, String, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mdmctl");
    let end = Instant::now() + COMMAND;
    while matches!(child.try_wait(), Ok(None)) {
        if Instant::now() >= end {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(POLL);
    }
    let output = child.wait_with_output().expect("mdmctl output");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Panics unless every pid is gone.
fn assert_all_gone(info: &DevInfo) {
    let survivors: Vec<String> = info
        .pids
        .iter()
        .filter(|(_, pid)| alive(**pid))
        .map(|(name, pid)| format!("{name} ({pid})"))
        .collect();
    assert!(survivors.is_empty(), "still running: {survivors:?}");
}

fn data_dir() -> (TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("mdmctl-dev-")
        .tempdir()
        .expect("a data directory");
    let path = dir.path().join("data");
    (dir, path)
}

#[test]
fn one_command_starts_everything_and_ctrl_c_stops_it() {
    let (_dir, data) = data_dir();
    let home = tempfile::tempdir().expect("home");

    let mut launcher = Launcher::start(&data);
    let info = launcher.wait_until_ready(&data);
    let expected = [
        "mdmctl",
        "mock-apns",
        "push-svc",
        "enroll-svc",
        "command-svc",
        "admin-svc",
        "proxy",
    ];
    for name in expected {
        assert!(info.pids.contains_key(name), "{name} missing: {info:?}");
    }
    assert!(
        info.metrics_urls.contains_key("admin-svc"),
        "{:?}",
        info.metrics_urls
    );
    assert!(
        data.join("admin.db").is_file(),
        "admin-svc keeps its database in the data dir"
    );
    let stdout = launcher.stdout();
    for shown in [&info.admin_url, &info.admin_token, &info.enrollment_url] {
        assert!(
            stdout.contains(shown.as_str()),
            "{shown} not printed:\n{stdout}"
        );
    }
    let mode = |path: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&data.join("dev.json")), 0o600);
    assert_eq!(mode(&info.device_ca_key), 0o600);

    // `mdmctl doctor` finds nothing wrong with the development stack (docs/getting-started.md
    // starts there).
    let mut doctor = mdmctl(home.path());
    doctor
        .env("MDM_URL", &info.admin_url)
        .env("MDM_TOKEN", &info.admin_token)
        .env("MDM_CA_FILE", &info.ca_file)
        .arg("doctor");
    let (code, out, err) = run(doctor);
    assert_eq!(
        code,
        0,
        "doctor failed\n{out}\n{err}\n{}",
        launcher.describe()
    );
    assert!(out.contains(" 0 failing, 0 not run"), "{out}");

    // The simulator enrolls a device and completes a DeviceInformation round trip.
    let mut simulate = mdmctl(home.path());
    simulate
        .args(["dev", "simulate", "--data-dir"])
        .arg(&data)
        .args(["--devices", "1"]);
    let (code, out, err) = run(simulate);
    assert_eq!(
        code,
        0,
        "simulate failed\n{out}\n{err}\n{}",
        launcher.describe()
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "a header and one device:\n{out}");
    assert!(lines[0].starts_with("UDID"), "{out}");
    for field in ["Acknowledged", "Simulated iPhone 1", "17.1"] {
        assert!(lines[1].contains(field), "{field} missing:\n{out}");
    }
    assert!(
        lines[1].ends_with("yes"),
        "the push reached the mock APNs:\n{out}"
    );
    let udid = lines[1]
        .split_whitespace()
        .next()
        .expect("a UDID")
        .to_owned();

    // The other ways a simulated device gets its identity.
    for method in ["ota", "preissued"] {
        let mut simulate = mdmctl(home.path());
        simulate
            .args(["dev", "simulate", "--data-dir"])
            .arg(&data)
            .args(["--devices", "1", "--enroll", method]);
        let (code, out, err) = run(simulate);
        assert_eq!(
            code,
            0,
            "simulate --enroll {method} failed\n{out}\n{err}\n{}",
            launcher.describe()
        );
        assert!(out.contains("Acknowledged"), "{method}:\n{out}");
    }

    // The simulator takes everything it needs from dev.json: OTA devices, a Mac with a user
    // channel, commands queued through the admin API and answered.
    let mut bench = Command::new(workspace_bin("mdm-devsim"));
    bench
        .args([
            "bench",
            "--json",
            "--enroll",
            "ota",
            "--devices",
            "2",
            "--macs",
            "1",
        ])
        .args(["--users-per-mac", "1", "--rounds", "1", "--dev-json"])
        .arg(data.join("dev.json"));
    let (code, out, err) = run(bench);
    assert_eq!(
        code,
        0,
        "mdm-devsim bench failed\n{out}\n{err}\n{}",
        launcher.describe()
    );
    let report: serde_json::Value = serde_json::from_str(&out).expect("a JSON report");
    assert_eq!(report["load"]["outcome"]["acknowledged"], 3, "{report}");

    // What was printed works with the other nouns, admin-svc's own included: the token has
    // every scope, `admin` too.
    let mut tokens = mdmctl(home.path());
    tokens
        .args(["admin-tokens", "list"])
        .env("MDM_URL", &info.admin_url)
        .env("MDM_TOKEN", &info.admin_token)
        .env("MDM_CA_FILE", &info.ca_file);
    let (code, out, err) = run(tokens);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("config:dev") && l.contains("admin")),
        "{out}"
    );
    let devices = || {
        let mut list = mdmctl(home.path());
        list.args(["devices", "list", "-o", "json"])
            .env("MDM_URL", &info.admin_url)
            .env("MDM_TOKEN", &info.admin_token)
            .env("MDM_CA_FILE", &info.ca_file);
        list
    };
    let (code, out, err) = run(devices());
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(&udid), "{udid} not listed:\n{out}");

    // Ctrl-C: exit 0, every process gone, dev.json without pids.
    assert!(launcher.interrupt().success(), "{}", launcher.describe());
    assert_all_gone(&info);
    let stopped = DevInfo::read(&data.join("dev.json")).expect("dev.json stays");
    assert!(stopped.pids.is_empty(), "{stopped:?}");
    assert_eq!(stopped.admin_token, info.admin_token);

    // A second run reuses the certificates, the secrets and the databases.
    let mut again = Launcher::start(&data);
    let second = again.wait_until_ready(&data);
    assert_eq!(second.device_ca_sha256, info.device_ca_sha256);
    assert_eq!(second.admin_token, info.admin_token);
    assert_eq!(second.push_topic, info.push_topic);
    assert!(
        again.stderr().contains("reusing the certificates"),
        "{}",
        again.describe()
    );
    let devices_again = || {
        let mut list = devices();
        list.env("MDM_URL", &second.admin_url);
        list
    };
    let (code, out, err) = run(devices_again());
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&udid),
        "the first run's device is kept:\n{out}"
    );
    assert!(again.interrupt().success(), "{}", again.describe());
    assert_all_gone(&second);
}

#[test]
fn a_child_that_dies_stops_the_others_and_is_named() {
    let (_dir, data) = data_dir();
    let mut launcher = Launcher::start(&data);
    let info = launcher.wait_until_ready(&data);
    signal(info.pids["command-svc"], Signal::SIGKILL);
    let status = launcher.wait_for_exit();
    assert_eq!(status.code(), Some(1), "{}", launcher.describe());
    let stderr = launcher.stderr();
    assert!(
        stderr.contains("command-svc exited unexpectedly") && stderr.contains("command-svc.log"),
        "{stderr}"
    );
    assert_all_gone(&info);
}

#[test]
fn missing_binaries_name_the_build_command() {
    let (dir, data) = data_dir();
    let empty = dir.path().join("bin");
    std::fs::create_dir(&empty).expect("an empty bin dir");
    let mut command = mdmctl(dir.path());
    command
        .args(["dev", "--data-dir"])
        .arg(&data)
        .arg("--bin-dir")
        .arg(&empty);
    let (code, out, err) = run(command);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("proxy") && err.contains("cargo build"),
        "{err}"
    );
    assert!(
        !data.join("pki").exists(),
        "nothing is made before the check"
    );
}
