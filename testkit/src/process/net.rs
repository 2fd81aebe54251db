//! Loopback ports: picking a free one and waiting until something listens on it.

use rand::Rng;
use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::bail;
use tokio::time::Instant;

use super::POLL_INTERVAL;

/// A free loopback port for a process the test is about to start, chosen outside the
/// kernel's ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`).
///
/// A port picked by binding port 0 and letting go comes from the ephemeral range, where every
/// service that binds port 0 (metrics listeners, the mock APNs) and every outgoing connection
/// also gets its port: a push-svc started between the pick and the proxy's bind once took the
/// proxy's device port. Below the range only ports handed out here compete, they are tried at
/// random, each must be free to bind, and none is answered twice in one process, nor to two
/// test processes within [`RESERVATION`] (nextest runs each test in its own process: two once
/// picked the same port and one's proxy found it taken).
pub fn free_port() -> u16 {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let (low, high) = outside_ephemeral_range();
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for _ in 0..10_000 {
        let port = rand::thread_rng().gen_range(low..high);
        if !given.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() && reserve(port)
        {
            given.insert(port);
            return port;
        }
    }
    panic!("no free loopback port between {low} and {high}")
}

/// How long a port handed to one test process is kept from the others: long enough for the
/// process it was picked for to start and bind it, after which the kernel keeps it.
const RESERVATION: Duration = Duration::from_secs(60);

/// Claims `port` across the test processes of this machine with a file created exclusively
/// under the temporary directory; a claim older than [`RESERVATION`] is taken over.
fn reserve(port: u16) -> bool {
    let dir = std::env::temp_dir().join("mdm-testkit-ports");
    if std::fs::create_dir_all(&dir).is_err() {
        return true; // No shared place to claim in: the bind check alone decides.
    }
    let path = dir.join(port.to_string());
    let claim = std::process::id().to_string();
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(mut file) => {
            use std::io::Write;
            let _ = file.write_all(claim.as_bytes());
            true
        }
        Err(_) => {
            let stale = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|at| at.elapsed().ok())
                .is_some_and(|age| age > RESERVATION);
            stale && std::fs::write(&path, claim).is_ok()
        }
    }
}

/// The ports below the ephemeral range to pick from (10,000 of them when the range starts at
/// Linux's default 32768).
fn outside_ephemeral_range() -> (u16, u16) {
    let start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    let high = start.max(2_048);
    (high.saturating_sub(10_000).max(1_024), high)
}

/// Poll until a TCP connect to `addr` succeeds (every ~20 ms), or fail after `deadline`
/// with the last connect error.
pub async fn wait_for_tcp(addr: SocketAddr, deadline: Duration) -> anyhow::Result<()> {
    let end = Instant::now() + deadline;
    loop {
        let attempt = tokio::time::timeout_at(end, tokio::net::TcpStream::connect(addr)).await;
        let last_error = match attempt {
            Ok(Ok(_stream)) => return Ok(()),
            Ok(Err(e)) => e.to_string(),
            Err(_elapsed) => "connect attempt did not finish".to_owned(),
        };
        if Instant::now() + POLL_INTERVAL >= end {
            bail!("nothing accepted TCP connections on {addr} within {deadline:?} (last error: {last_error})");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
