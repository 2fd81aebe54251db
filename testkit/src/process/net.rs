//! Loopback ports: picking a free one and waiting until something listens on it.

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::bail;
use tokio::time::Instant;

use super::POLL_INTERVAL;

/// A loopback port chosen by the OS: bind 127.0.0.1:0, read the port, drop the listener.
/// Another process may take it before the caller binds it, but that is rare on a test machine.
/// The OS may well hand out the same port again at the next call (a stack once got one port for
/// two of its listeners), so a port this process was already given is never answered twice.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for _ in 0..1_000 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("bind 127.0.0.1:0 to find a free port")
            .port();
        if given.insert(port) {
            return port;
        }
    }
    panic!("the OS kept answering ports this process was already given")
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
