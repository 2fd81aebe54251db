//! Running the built `mdmctl` as a real process: its own temporary HOME (so no developer's
//! config file leaks in), no inherited `MDM_*` variable, stdin closed (not a terminal) unless a
//! test writes to it, and a deadline on every run.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tempfile::TempDir;
use testkit::stack::ADMIN_TOKEN;
use testkit::{workspace_bin, Stack};
use tokio::io::AsyncWriteExt;

/// Longest any one mdmctl run may take (a `--wait` test passes its own shorter `--timeout`).
const RUN_DEADLINE: Duration = Duration::from_secs(90);

/// A finished mdmctl run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with both outputs unless the exit code is `code`.
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "mdmctl exited {} (expected {code})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The value of stdout's `field value` row named `name` (what `show` and `create` print).
    pub fn field(&self, name: &str) -> String {
        self.stdout
            .lines()
            .find_map(|l| {
                l.strip_prefix(name)
                    .filter(|rest| rest.starts_with(' '))
                    .map(|rest| rest.trim().to_owned())
            })
            .unwrap_or_else(|| panic!("no {name} row:\n{}", self.stdout))
    }

    /// The row of stdout's table that starts with `id`.
    pub fn row(&self, id: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} listed:\n{}", self.stdout))
    }
}

/// How mdmctl is started for one test.
pub struct Ctl {
    bin: PathBuf,
    home: TempDir,
    /// Environment given to every run.
    pub env: Vec<(String, String)>,
}

impl Ctl {
    /// mdmctl with no server configured.
    pub fn bare() -> Ctl {
        let home = tempfile::Builder::new()
            .prefix("mdmctl-home-")
            .tempdir()
            .expect("a temporary HOME");
        Ctl {
            bin: workspace_bin("mdmctl"),
            home,
            env: Vec::new(),
        }
    }

    /// mdmctl pointed at `stack`'s admin API with the all-scopes token, through `MDM_*`.
    pub fn for_stack(stack: &Stack) -> Ctl {
        let mut ctl = Ctl::bare();
        let ca = ctl.write_file("ca.pem", &stack.device_ca.cert_pem());
        ctl.set("MDM_URL", &stack.admin_url);
        ctl.set("MDM_TOKEN", ADMIN_TOKEN);
        ctl.set("MDM_CA_FILE", &ca.display().to_string());
        ctl
    }

    /// Sets (or replaces) a variable for every later run.
    pub fn set(&mut self, name: &str, value: &str) {
        self.env.retain(|(k, _)| k != name);
        self.env.push((name.to_owned(), value.to_owned()));
    }

    /// Removes a variable for every later run.
    pub fn unset(&mut self, name: &str) {
        self.env.retain(|(k, _)| k != name);
    }

    /// Writes a file in the temporary HOME and returns its path.
    pub fn write_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.home.path().join(name);
        std::fs::write(&path, text).expect("write a test file");
        path
    }

    /// The temporary HOME.
    pub fn home(&self) -> &std::path::Path {
        self.home.path()
    }

    /// Runs `mdmctl args...` with stdin closed.
    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None).await
    }

    /// Runs `mdmctl args...`, writing `stdin` to it (a pipe, still not a terminal).
    pub async fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut command = tokio::process::Command::new(&self.bin);
        command
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("MDM_") {
                command.env_remove(key);
            }
        }
        command
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join(".config"))
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        let mut child = command.spawn().expect("spawn mdmctl");
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).await.expect("write stdin");
            // Dropping the pipe closes it: mdmctl sees the end of its input.
        }
        let output = tokio::time::timeout(RUN_DEADLINE, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("mdmctl {args:?} ran over {RUN_DEADLINE:?}"))
            .expect("mdmctl ran");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}
