//! `tls-enrollment`, `tls-device`: would a device accept the certificate a proxy listener
//! presents? The handshake is made with OpenSSL and no verification (so that the certificate is
//! seen whatever is wrong with it), then judged the way an iPhone judges it, one reason at a
//! time so that the fix is precise: in its validity period; naming the host of the URL in its
//! subjectAltName (Apple ignores the CN); chaining either to a public root (this machine's store
//! stands in for the device's) or to the private roots enroll-svc puts in the trust profile
//! (`enrollment.server_ca_file`).

use super::report::Check;
use openssl::asn1::Asn1Time;
use openssl::ssl::{HandshakeError, SslConnector, SslMethod, SslVerifyMode};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509StoreContext, X509};
use std::net::{IpAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long connecting and the handshake may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Which listener is looked at, for names and fixes.
#[derive(Debug, Clone, Copy)]
pub struct Listener {
    /// The check's name.
    pub check: &'static str,
    /// What it is, for summaries ("the enrollment listener").
    pub what: &'static str,
    /// The proxy setting holding its certificate.
    pub cert_setting: &'static str,
    /// enroll-svc's setting holding its URL.
    pub url_setting: &'static str,
}

/// The check of `listener` at `host:port`; `anchors` are the trust profile's roots (empty when
/// the certificate should be publicly trusted). Blocking: run it off the async runtime.
pub fn check(listener: Listener, host: &str, port: u16, anchors: &[X509]) -> Check {
    let chain = match presented_chain(host, port) {
        Ok(chain) => chain,
        Err(why) => {
            return Check::fail(
                listener.check,
                format!("no certificate from {host}:{port}: {why}"),
                format!(
                    "make the proxy serve TLS there (its {}) or correct enroll-svc's {}",
                    listener.cert_setting, listener.url_setting
                ),
            )
        }
    };
    judge(listener, host, &chain, anchors)
}

/// The certificate chain the server at `host:port` presents, as sent.
fn presented_chain(host: &str, port: u16) -> Result<Vec<X509>, String> {
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let mut last = format!("{host} has no address");
    let tcp = addrs.iter().find_map(|addr| {
        TcpStream::connect_timeout(addr, TIMEOUT)
            .map_err(|e| last = format!("connecting to {addr}: {e}"))
            .ok()
    });
    let tcp = tcp.ok_or(last)?;
    tcp.set_read_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    tcp.set_write_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
    // Seen first, judged after: a certificate with everything wrong must still be looked at.
    builder.set_verify(SslVerifyMode::NONE);
    let mut config = builder.build().configure().map_err(|e| e.to_string())?;
    config.set_verify_hostname(false);
    // SNI carries host names only, as a device sends it.
    config.set_use_server_name_indication(host.parse::<IpAddr>().is_err());
    let chain = |ssl: &openssl::ssl::SslRef| -> Option<Vec<X509>> {
        let chain = ssl.peer_cert_chain()?;
        let certs: Vec<X509> = chain.iter().map(ToOwned::to_owned).collect();
        (!certs.is_empty()).then_some(certs)
    };
    match config.connect(host, tcp) {
        Ok(stream) => chain(stream.ssl()).ok_or_else(|| "the server sent no certificate".into()),
        // A device listener that requires a client certificate may end the handshake after
        // sending its own: what it sent is still there to judge.
        Err(HandshakeError::Failure(mid)) => {
            chain(mid.ssl()).ok_or_else(|| format!("the TLS handshake failed: {}", mid.error()))
        }
        Err(error) => Err(format!("the TLS handshake failed: {error}")),
    }
}

/// Judges `chain` (leaf first) for `host`.
pub fn judge(listener: Listener, host: &str, chain: &[X509], anchors: &[X509]) -> Check {
    let Some(leaf) = chain.first() else {
        return Check::fail(listener.check, "no certificate", "serve one");
    };
    let name = listener.check;
    let renew = format!(
        "put a valid certificate in the proxy's {} and restart it",
        listener.cert_setting
    );
    let Ok(now) = Asn1Time::days_from_now(0) else {
        return Check::fail(name, "cannot read the clock", "retry");
    };
    if leaf.not_after() < now {
        return Check::fail(
            name,
            format!(
                "{}'s certificate expired on {}",
                listener.what,
                leaf.not_after()
            ),
            renew,
        );
    }
    if leaf.not_before() > now {
        return Check::fail(
            name,
            format!(
                "{}'s certificate is valid only from {}",
                listener.what,
                leaf.not_before()
            ),
            format!("check the clocks (see `clock`), or {renew}"),
        );
    }
    let names = crate::dev::certs::names_of(leaf);
    if !names.iter().any(|n| covers(n, host)) {
        let listed = if names.is_empty() {
            "no subjectAltName".to_owned()
        } else {
            names.join(", ")
        };
        return Check::fail(
            name,
            format!(
                "{}'s certificate is for {listed}, not {host}",
                listener.what
            ),
            format!(
                "issue the proxy's {} for {host} (devices match the host name against the subjectAltName only), or make enroll-svc's {} name a host the certificate covers",
                listener.cert_setting, listener.url_setting
            ),
        );
    }
    let intermediates = &chain[1..];
    let public = verify(leaf, intermediates, &[], true);
    if public.is_ok() {
        return Check::pass(
            name,
            format!(
                "{}'s certificate is valid for {host} and publicly trusted",
                listener.what
            ),
        );
    }
    if !anchors.is_empty() {
        return match verify(leaf, intermediates, anchors, false) {
            Ok(()) => Check::pass(
                name,
                format!(
                    "{}'s certificate is valid for {host} and trusted through the trust profile",
                    listener.what
                ),
            ),
            Err(why) => Check::fail(
                name,
                format!(
                    "{}'s certificate does not chain to the trust profile's roots: {why}",
                    listener.what
                ),
                "make enroll-svc's enrollment.server_ca_file hold the root (and intermediates) of the proxy's certificate, then restart enroll-svc",
            ),
        };
    }
    let why = public.err().unwrap_or_default();
    Check::fail(
        name,
        format!("{}'s certificate is not publicly trusted: {why}", listener.what),
        "use a certificate from a public CA, or put its private root in enroll-svc's enrollment.server_ca_file so that devices are given it in the trust profile (docs/getting-started.md)",
    )
}

/// Verifies `leaf` to `anchors`, and to this machine's public roots when `system`.
fn verify(
    leaf: &X509,
    intermediates: &[X509],
    anchors: &[X509],
    system: bool,
) -> Result<(), String> {
    let text = |e: openssl::error::ErrorStack| e.to_string();
    let mut store = X509StoreBuilder::new().map_err(text)?;
    if system {
        store.set_default_paths().map_err(text)?;
    }
    for anchor in anchors {
        store.add_cert(anchor.clone()).map_err(text)?;
    }
    let store = store.build();
    let mut untrusted = Stack::new().map_err(text)?;
    for cert in intermediates {
        untrusted.push(cert.clone()).map_err(text)?;
    }
    let mut context = X509StoreContext::new().map_err(text)?;
    context
        .init(&store, leaf, &untrusted, |c| {
            Ok(if c.verify_cert()? {
                Ok(())
            } else {
                Err(c.error().error_string().to_owned())
            })
        })
        .map_err(text)?
}

/// Whether a subjectAltName entry covers `host`: the same name (case aside) or IP address, or
/// a wildcard standing for exactly one leftmost label.
fn covers(entry: &str, host: &str) -> bool {
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
        return entry.parse::<IpAddr>().is_ok_and(|e| e == ip);
    }
    let (entry, host) = (entry.to_ascii_lowercase(), host.to_ascii_lowercase());
    match entry.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(label, domain)| !label.is_empty() && domain == rest),
        None => entry == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_as_a_device_matches_them() {
        assert!(covers("mdm.example.com", "MDM.example.com"));
        assert!(covers("*.example.com", "mdm.example.com"));
        assert!(!covers("*.example.com", "a.mdm.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(!covers("mdm.example.com", "mdm.example.org"));
        assert!(covers("127.0.0.1", "127.0.0.1"));
        assert!(!covers("localhost", "127.0.0.1"));
        assert!(covers("::1", "[::1]"));
    }
}
