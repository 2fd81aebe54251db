//! Waiting until a process serves: polling a probe (a line in its log, a TCP connect, an HTTP
//! status) until it answers or a deadline passes, and giving up at once when any child exits.
//! Nothing sleeps for a fixed time: a fast machine is ready as soon as the processes are.

use super::child::{log_tail, Children, TAIL_LINES};
use crate::exit::Failure;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::time::Instant;

/// How long one process may take to become ready (SQLite migrations on a first run, a debug
/// build on a slow disk).
pub const STARTUP: Duration = Duration::from_secs(60);
/// Pause between two probes.
const POLL: Duration = Duration::from_millis(50);

/// Calls `probe` until it returns `Ok`, for at most `deadline`; fails as soon as a child exits.
/// `what` names the wait ("enroll-svc to listen") and `log` the file quoted on a timeout.
pub async fn until<T, F, Fut>(
    children: &mut Children,
    what: &str,
    log: &Path,
    deadline: Duration,
    mut probe: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let end = Instant::now() + deadline;
    loop {
        children.check("while starting")?;
        let last = match probe().await {
            Ok(value) => return Ok(value),
            Err(why) => why,
        };
        if Instant::now() >= end {
            return Err(Failure {
                message: format!(
                    "timed out after {}s waiting for {what} (last: {last}); last lines of {}:\n{}",
                    deadline.as_secs(),
                    log.display(),
                    log_tail(log, TAIL_LINES)
                ),
                hint: Some(format!("the whole log is {}", log.display())),
            }
            .into());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The address in the first line of `log` that contains `needle` and `addr=<address>`, as the
/// services and the mock APNs log it: `enroll-svc listening addr=127.0.0.1:40123 ...`.
pub fn logged_addr(log: &Path, needle: &str) -> Result<SocketAddr, String> {
    let text = std::fs::read_to_string(log).map_err(|e| format!("reading the log: {e}"))?;
    text.lines()
        .filter(|line| line.contains(needle))
        .find_map(addr_in)
        .ok_or_else(|| format!("no {needle:?} line with addr= yet"))
}

/// The socket address after `addr=` in `line`.
pub fn addr_in(line: &str) -> Option<SocketAddr> {
    let (_, rest) = line.split_once("addr=")?;
    let value = rest.split_whitespace().next()?;
    value.trim_matches('"').parse().ok()
}

/// Whether something accepts TCP connections on `addr`.
pub async fn tcp(addr: SocketAddr) -> Result<(), String> {
    tokio::net::TcpStream::connect(addr)
        .await
        .map(drop)
        .map_err(|e| format!("connecting to {addr}: {e}"))
}

/// Whether `url` answers 200 (`/readyz`: the process and what it depends on work).
pub async fn http_ok(client: &reqwest::Client, url: &str) -> Result<(), String> {
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    Err(format!("GET {url}: {status} {}", body.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_read_from_listening_lines() {
        let line = "2026-11-21T20:00:00Z  INFO enroll_svc: enroll-svc listening addr=127.0.0.1:40123 engine=\"sqlite\"";
        assert_eq!(
            addr_in(line).map(|a| a.to_string()).as_deref(),
            Some("127.0.0.1:40123")
        );
        assert_eq!(
            addr_in("mock-apns listening addr=127.0.0.1:2197").map(|a| a.port()),
            Some(2197)
        );
        assert_eq!(addr_in("no address here"), None);
    }

    #[test]
    fn the_wanted_line_is_found_among_others() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("svc.log");
        std::fs::write(
            &log,
            "svc metrics listening addr=127.0.0.1:9\nsvc listening addr=127.0.0.1:10\n",
        )
        .expect("write");
        assert_eq!(
            logged_addr(&log, "svc metrics listening").map(|a| a.port()),
            Ok(9)
        );
        assert_eq!(logged_addr(&log, "svc listening").map(|a| a.port()), Ok(10));
        assert!(logged_addr(&log, "other listening").is_err());
    }

    #[tokio::test]
    async fn a_timeout_names_the_wait_and_quotes_the_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("x.log");
        std::fs::write(&log, "starting\n").expect("write");
        let mut children = Children::new();
        let error = until(
            &mut children,
            "x to listen",
            &log,
            Duration::from_millis(100),
            || async { Err::<(), _>("not yet".to_string()) },
        )
        .await
        .expect_err("times out");
        let text = error.to_string();
        assert!(
            text.contains("waiting for x to listen (last: not yet)"),
            "{text}"
        );
        assert!(text.contains("    starting"), "{text}");
    }
}
