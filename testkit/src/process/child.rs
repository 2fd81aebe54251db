//! [`ChildProcess`]: a binary running for the length of a test, its output captured.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::time::Instant;

use super::output::Output;
use super::POLL_INTERVAL;

/// How many trailing log lines an error message carries.
const LINES_IN_ERRORS: usize = 200;

/// A child process whose stdout and stderr are captured line by line (the last 2000 lines are
/// kept). It is killed with SIGKILL and reaped when dropped.
///
/// With `TESTKIT_ECHO=1` in the environment, every line is also written to the test's stderr
/// as `[name] line`.
pub struct ChildProcess {
    name: String,
    pid: u32,
    child: Mutex<Child>,
    output: Output,
}

impl ChildProcess {
    /// Spawn `bin` with `args` and `env`. The child gets a copy of the current environment
    /// without any `MDM_*` variable (so a developer's shell cannot leak configuration in), plus
    /// `env`; stdin is closed. `name` labels logs and errors.
    pub async fn spawn(
        name: &str,
        bin: &Path,
        args: &[String],
        env: &[(String, String)],
    ) -> anyhow::Result<ChildProcess> {
        let mut command = Command::new(bin);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("MDM_") {
                command.env_remove(key);
            }
        }
        command.envs(env.iter().map(|(k, v)| (k, v)));

        let mut child = command
            .spawn()
            .with_context(|| format!("spawn {name} ({})", bin.display()))?;
        let pid = child.id();
        let echo = std::env::var("TESTKIT_ECHO").is_ok_and(|v| v == "1");
        let output = Output::new(2);
        let stdout = child.stdout.take().context("child stdout was not piped")?;
        let stderr = child.stderr.take().context("child stderr was not piped")?;
        let process = ChildProcess {
            name: name.to_owned(),
            pid,
            child: Mutex::new(child),
            output,
        };
        // From here on, an error drops `process`, which kills the child.
        process
            .output
            .spawn_reader(format!("{name}-stdout"), name.to_owned(), echo, stdout)
            .context("start the stdout reader thread")?;
        process
            .output
            .spawn_reader(format!("{name}-stderr"), name.to_owned(), echo, stderr)
            .context("start the stderr reader thread")?;
        Ok(process)
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// The name given at spawn.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The captured stdout and stderr lines (interleaved as they arrived), newline-joined.
    pub fn logs(&self) -> String {
        self.output.tail(usize::MAX)
    }

    /// The exit status if the child has exited (it is reaped then), or `None` if it still runs.
    pub fn try_status(&self) -> Option<ExitStatus> {
        self.child().try_wait().ok().flatten()
    }

    /// Send SIGTERM and wait up to `deadline` for the child to exit; return its exit status.
    /// If it is still running at the deadline it is killed, and the error carries its logs.
    /// A child that had already exited just has its status returned.
    pub async fn terminate(&mut self, deadline: Duration) -> anyhow::Result<ExitStatus> {
        if let Some(status) = self.try_status() {
            return Ok(status);
        }
        // Not reaped yet, so the pid is still ours (at worst a zombie).
        let pid = i32::try_from(self.pid).context("pid does not fit in pid_t")?;
        kill(Pid::from_raw(pid), Signal::SIGTERM)
            .with_context(|| format!("send SIGTERM to {} (pid {pid})", self.name))?;
        let end = Instant::now() + deadline;
        loop {
            if let Some(status) = self.try_status() {
                return Ok(status);
            }
            if Instant::now() >= end {
                self.kill();
                bail!(
                    "{} (pid {}) did not exit within {deadline:?} of SIGTERM; killed it\n{}",
                    self.name,
                    self.pid,
                    self.log_section()
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Send SIGKILL now and reap the child. Does nothing if it has already exited.
    pub fn kill(&mut self) {
        let child = self
            .child
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Ok(None) = child.try_wait() {
            // Errors mean it exited in between; `wait` below reaps it either way.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Wait until a line of the child's stdout or stderr contains `needle`, and return that line.
    /// Lines printed before this call count too (as long as they are among the last 2000).
    /// Fails at `deadline`, or as soon as the child closes its output without such a line; the
    /// error says whether the child exited and carries its logs.
    pub async fn wait_for_line(&self, needle: &str, deadline: Duration) -> anyhow::Result<String> {
        let end = Instant::now() + deadline;
        let mut changes = self.output.subscribe();
        let mut from = 0;
        loop {
            changes.mark_unchanged();
            let closed = {
                let state = self.output.state();
                let (found, next) = state.find(needle, from);
                if let Some(line) = found {
                    return Ok(line);
                }
                from = next;
                state.closed()
            };
            if closed {
                let status = self.wait_for_exit_briefly().await;
                return Err(anyhow!(
                    "{} closed its output without printing a line containing {needle:?}; {}\n{}",
                    self.name,
                    describe(status),
                    self.log_section()
                ));
            }
            if tokio::time::timeout_at(end, changes.changed())
                .await
                .is_err()
            {
                return Err(anyhow!(
                    "timed out after {deadline:?} waiting for {} to print a line containing {needle:?}; {}\n{}",
                    self.name,
                    describe(self.try_status()),
                    self.log_section()
                ));
            }
        }
    }

    /// After the output closed the child is usually exiting: give it a moment to be reaped.
    async fn wait_for_exit_briefly(&self) -> Option<ExitStatus> {
        let end = Instant::now() + Duration::from_millis(500);
        loop {
            let status = self.try_status();
            if status.is_some() || Instant::now() >= end {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn log_section(&self) -> String {
        format!(
            "--- last output of {} ---\n{}--- end of output ---",
            self.name,
            self.output.tail(LINES_IN_ERRORS)
        )
    }

    fn child(&self) -> MutexGuard<'_, Child> {
        self.child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn describe(status: Option<ExitStatus>) -> String {
    match status {
        Some(status) => format!("the child exited ({status})"),
        None => "the child is still running".to_owned(),
    }
}
