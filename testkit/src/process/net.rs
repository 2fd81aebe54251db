//! Loopback ports: picking a free one and waiting until something listens on it.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use anyhow::bail;
use tokio::time::Instant;

use super::POLL_INTERVAL;

/// A loopback port chosen by the OS: bind 127.0.0.1:0, read the port, drop the listener.
/// Another process may take it before the caller binds it, but that is rare on a test machine.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind 127.0.0.1:0 to find a free port")
        .port()
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
