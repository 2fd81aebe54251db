//! The development server's child processes: each started from its [`ProcessSpec`] with its
//! output in `logs/<name>.log` (the previous run's kept as `.log.1`), in a process group of its
//! own, without any `MDM_*` variable of the caller's shell; watched for an unexpected exit; and
//! stopped with SIGTERM, then SIGKILL for whatever is still running after a grace period.
//! Dropping [`Children`] kills and reaps what is left, so no path out of `mdmctl dev` leaves a
//! process behind.

use super::signals::Signals;
use super::specs::ProcessSpec;
use crate::exit::Failure;
use anyhow::Context;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;
use tokio::time::Instant;

/// How often exits are looked for while stopping.
const STOP_POLL: Duration = Duration::from_millis(25);
/// Lines of a log quoted when its process fails.
pub const TAIL_LINES: usize = 20;

/// One running (or exited) child.
#[derive(Debug)]
pub struct Child {
    /// Its name.
    pub name: &'static str,
    /// Where its output goes.
    pub log: PathBuf,
    process: std::process::Child,
    exited: Option<ExitStatus>,
}

impl Child {
    /// Starts `spec` with stdout and stderr appended to `log` (rotated first) and `cwd` as
    /// working directory.
    pub fn spawn(spec: &ProcessSpec, log: &Path, cwd: &Path) -> anyhow::Result<Child> {
        rotate(log)?;
        let file = std::fs::File::create(log)
            .with_context(|| format!("creating the log {}", log.display()))?;
        let mut command = Command::new(&spec.program);
        command
            .args(&spec.args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            // Ctrl-C reaches mdmctl only; it stops the children itself.
            .process_group(0);
        for (key, _) in std::env::vars_os() {
            // A developer's own MDM_* settings (or mdmctl's MDM_URL) must not leak in.
            if key.to_string_lossy().starts_with("MDM_") {
                command.env_remove(key);
            }
        }
        command.envs(spec.env.iter().map(|(k, v)| (k, v)));
        let process = command
            .spawn()
            .with_context(|| format!("starting {} ({})", spec.name, spec.program.display()))?;
        Ok(Child {
            name: spec.name,
            log: log.to_path_buf(),
            process,
            exited: None,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// How it exited, or `None` while it runs (reaping it once it has exited).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.process.try_wait().ok().flatten();
        }
        self.exited
    }

    /// Sends `signal` unless it has exited: a reaped pid may already belong to another process.
    fn signal(&mut self, signal: Signal) {
        if self.exit_status().is_none() {
            if let Ok(pid) = i32::try_from(self.pid()) {
                // It may exit in between; then there is nothing to do.
                let _ = kill(Pid::from_raw(pid), signal);
            }
        }
    }

    /// Kills it (SIGKILL) and waits for it, unless it has exited.
    fn kill_and_reap(&mut self) {
        if self.exit_status().is_none() {
            let _ = self.process.kill();
            self.exited = self.process.wait().ok();
        }
    }

    /// The error for its unexpected exit: its name, status and last log lines.
    pub fn died(&self, status: ExitStatus, during: &str) -> anyhow::Error {
        Failure {
            message: format!(
                "{} exited {during} ({status}); last lines of {}:\n{}",
                self.name,
                self.log.display(),
                log_tail(&self.log, TAIL_LINES)
            ),
            hint: Some(format!(
                "the whole log is {}; every other process was stopped",
                self.log.display()
            )),
        }
        .into()
    }
}

/// Every child of one run, in start order.
#[derive(Debug, Default)]
pub struct Children {
    list: Vec<Child>,
}

impl Children {
    /// No children yet.
    pub fn new() -> Children {
        Children::default()
    }

    /// Starts `spec` and keeps it.
    pub fn spawn(&mut self, spec: &ProcessSpec, log: &Path, cwd: &Path) -> anyhow::Result<()> {
        self.list.push(Child::spawn(spec, log, cwd)?);
        Ok(())
    }

    /// Name to pid of every child.
    pub fn pids(&self) -> BTreeMap<String, u32> {
        self.list
            .iter()
            .map(|c| (c.name.to_owned(), c.pid()))
            .collect()
    }

    /// An error for the first child that has exited, if any: none of them should while the
    /// server runs. `during` says when, e.g. "while starting".
    pub fn check(&mut self, during: &str) -> anyhow::Result<()> {
        for child in &mut self.list {
            if let Some(status) = child.exit_status() {
                return Err(child.died(status, during));
            }
        }
        Ok(())
    }

    /// Stops every child: SIGTERM (last started first), then SIGKILL for those still running
    /// after `grace` or after another stopping signal (a second Ctrl-C). Returns the names of
    /// those that had to be killed.
    pub async fn stop(&mut self, grace: Duration, signals: &mut Signals) -> Vec<&'static str> {
        for child in self.list.iter_mut().rev() {
            child.signal(Signal::SIGTERM);
        }
        let deadline = Instant::now() + grace;
        loop {
            if self.list.iter_mut().all(|c| c.exit_status().is_some()) {
                return Vec::new();
            }
            if Instant::now() >= deadline {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep(STOP_POLL) => {}
                name = signals.next() => {
                    eprintln!("{name} again: killing what is still running");
                    break;
                }
            }
        }
        let mut killed = Vec::new();
        for child in &mut self.list {
            if child.exit_status().is_none() {
                child.kill_and_reap();
                killed.push(child.name);
            }
        }
        killed
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.list {
            child.kill_and_reap();
        }
    }
}

/// Keeps the previous run's log as `<log>.1`.
fn rotate(log: &Path) -> anyhow::Result<()> {
    let mut previous = log.as_os_str().to_os_string();
    previous.push(".1");
    match std::fs::rename(log, PathBuf::from(previous)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("keeping the previous {}", log.display()))
        }
        _ => Ok(()),
    }
}

/// The last `lines` lines of the file at `path` (read from its last 64 KiB), or a note that it
/// cannot be read.
pub fn log_tail(path: &Path, lines: usize) -> String {
    const WINDOW: u64 = 64 * 1024;
    let read = || -> std::io::Result<String> {
        let mut file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        let start = len.saturating_sub(WINDOW);
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        // A window that starts mid-line would quote half a line first.
        Ok(match (start > 0, text.split_once('\n')) {
            (true, Some((_, rest))) => rest.to_owned(),
            _ => text,
        })
    };
    match read() {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            let tail = &all[all.len().saturating_sub(lines)..];
            if tail.is_empty() {
                "    (empty)".to_owned()
            } else {
                tail.iter()
                    .map(|line| format!("    {line}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        }
        Err(e) => format!("    (cannot be read: {e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(script: &str) -> ProcessSpec {
        ProcessSpec {
            name: "sh",
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".into(), script.into()],
            env: vec![("GREETING".into(), "hello".into())],
        }
    }

    #[tokio::test]
    async fn output_goes_to_the_log_and_an_exit_is_reported_with_its_tail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("sh.log");
        let mut children = Children::new();
        children
            .spawn(
                &spec("echo $GREETING; echo broken >&2; exit 3"),
                &log,
                dir.path(),
            )
            .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(10);
        let error = loop {
            if let Err(error) = children.check("while testing") {
                break error;
            }
            assert!(Instant::now() < deadline, "the child did not exit");
            tokio::time::sleep(STOP_POLL).await;
        };
        let text = error.to_string();
        assert!(text.contains("sh exited while testing"), "{text}");
        assert!(text.contains("    hello\n    broken"), "{text}");
    }

    #[tokio::test]
    async fn stopping_terminates_then_kills() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut children = Children::new();
        children
            .spawn(
                &spec("exec sleep 60"),
                &dir.path().join("a.log"),
                dir.path(),
            )
            .expect("spawn");
        // Ignores SIGTERM (once it says so): only SIGKILL ends it.
        let stubborn_log = dir.path().join("b.log");
        children
            .spawn(
                &spec("trap '' TERM; echo trapped; while :; do sleep 1; done"),
                &stubborn_log,
                dir.path(),
            )
            .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string(&stubborn_log).is_ok_and(|t| t.contains("trapped")) {
            assert!(Instant::now() < deadline, "the shell never trapped SIGTERM");
            tokio::time::sleep(STOP_POLL).await;
        }
        let pids = children.pids();
        let mut signals = Signals::install().expect("signals");
        let killed = children
            .stop(Duration::from_millis(500), &mut signals)
            .await;
        assert_eq!(killed, ["sh"], "only the stubborn one needed SIGKILL");
        for pid in pids.values() {
            let alive = kill(Pid::from_raw(i32::try_from(*pid).expect("pid")), None).is_ok();
            assert!(!alive, "pid {pid} survived");
        }
    }

    #[test]
    fn logs_are_rotated_and_tails_are_the_last_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("x.log");
        let text: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&log, text).expect("write");
        assert_eq!(log_tail(&log, 2), "    line 29\n    line 30");
        rotate(&log).expect("rotate");
        assert!(dir.path().join("x.log.1").exists() && !log.exists());
        assert!(log_tail(&log, 2).contains("cannot be read"));
    }
}
