//! The loopback ports of the development server: the three a person connects to (the proxy's
//! device and enrollment listeners, admin-svc's API) as asked, `0` meaning any free one, and free ones for the rest (gRPC,
//! the proxy's health listener). Each is checked by binding it, so that a busy port is
//! reported before anything starts; the probes are held until every port is chosen so that
//! no port is handed out twice.

use crate::exit::{Failure, UsageError};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};

/// Every process listens on this address only.
pub const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// The ports of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// The proxy's device listener.
    pub device: u16,
    /// admin-svc's admin API (HTTPS).
    pub admin: u16,
    /// The proxy's enrollment listener.
    pub enrollment: u16,
    /// The proxy's `/healthz`, `/readyz`, `/metrics`.
    pub health: u16,
    /// enroll-svc's gRPC.
    pub enroll: u16,
    /// command-svc's gRPC.
    pub command: u16,
    /// push-svc's gRPC.
    pub push: u16,
}

impl Ports {
    /// Ports for the asked device, admin and enrollment ports (`0`: any free one).
    pub fn choose(device: u16, admin: u16, enrollment: u16) -> anyhow::Result<Ports> {
        let asked = [
            (device, "--device-port"),
            (admin, "--admin-port"),
            (enrollment, "--enrollment-port"),
        ];
        for (i, (port, flag)) in asked.iter().enumerate() {
            if let Some((_, other)) = asked[i + 1..].iter().find(|(p, _)| *p == *port && *p != 0) {
                return Err(UsageError::new(format!("{flag} and {other} are both {port}")).into());
            }
        }
        let mut probes = Vec::new();
        let mut take = |asked: u16, flag: Option<&str>| -> anyhow::Result<u16> {
            let listener = match asked {
                0 => unclaimed()?,
                port => TcpListener::bind(SocketAddr::from((LOOPBACK, port)))
                    .map_err(|e| busy(port, flag, &e))?,
            };
            let port = listener.local_addr()?.port();
            probes.push(listener);
            Ok(port)
        };
        Ok(Ports {
            device: take(device, Some("--device-port"))?,
            admin: take(admin, Some("--admin-port"))?,
            enrollment: take(enrollment, Some("--enrollment-port"))?,
            health: take(0, None)?,
            enroll: take(0, None)?,
            command: take(0, None)?,
            push: take(0, None)?,
        })
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(port: u16) -> SocketAddr {
        SocketAddr::from((LOOPBACK, port))
    }
}

/// A free loopback port below the kernel's ephemeral range, held open. A port picked by binding
/// port 0 comes from that range, where every process that binds port 0 (the services' metrics
/// listeners, the mock APNs) and every outgoing connection also gets its port: one started
/// before the service a port was picked for once took it ("Address already in use").
fn unclaimed() -> anyhow::Result<TcpListener> {
    let start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768)
        .max(2_048);
    let low = start.saturating_sub(10_000).max(1_024);
    for _ in 0..1_000 {
        let mut bytes = [0u8; 2];
        openssl::rand::rand_bytes(&mut bytes)?;
        let port = low + u16::from_le_bytes(bytes) % (start - low);
        if let Ok(listener) = TcpListener::bind(SocketAddr::from((LOOPBACK, port))) {
            return Ok(listener);
        }
    }
    anyhow::bail!("no free port on {LOOPBACK} between {low} and {start}")
}

fn busy(port: u16, flag: Option<&str>, error: &std::io::Error) -> anyhow::Error {
    match flag {
        Some(flag) => Failure {
            message: format!("port {port} on {LOOPBACK} cannot be used: {error}"),
            hint: Some(format!(
                "is another `mdmctl dev` running? Stop it, or pass {flag} with another port (0 picks a free one)"
            )),
        }
        .into(),
        None => anyhow::anyhow!("no free port on {LOOPBACK}: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_picks_distinct_free_ports() {
        let ports = Ports::choose(0, 0, 0).expect("ports");
        let all = [
            ports.device,
            ports.admin,
            ports.enrollment,
            ports.health,
            ports.enroll,
            ports.command,
            ports.push,
        ];
        let mut unique = all.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), all.len(), "{all:?}");
        assert!(all.iter().all(|p| *p != 0));
    }

    #[test]
    fn a_busy_port_is_named_with_its_flag() {
        let taken = TcpListener::bind((LOOPBACK, 0)).expect("bind");
        let port = taken.local_addr().expect("addr").port();
        let error = Ports::choose(0, port, 0).expect_err("busy");
        assert!(error.to_string().contains(&port.to_string()), "{error}");
        let hint = crate::exit::hint_of(&error).unwrap_or_default();
        assert!(hint.contains("--admin-port"), "{hint}");
    }

    #[test]
    fn the_same_port_twice_is_a_usage_error() {
        let error = Ports::choose(9000, 9000, 0).expect_err("same port");
        assert_eq!(crate::exit::code_of(&error), crate::exit::USAGE);
    }
}
