//! A gRPC service that may run as many replicas: every client of one service in the workspace
//! (the proxy's, admin-svc's, command-svc's) goes through an [`Upstream`].
//!
//! An upstream is named by one or more URLs (`http://command-svc:50052`, or a comma-separated
//! list). Each host is resolved again every [`UpstreamOptions::resolve_every`], so a DNS name
//! with one address per replica — a Kubernetes headless Service — brings replicas in and out as
//! they come and go. Every replica has its own HTTP/2 connection, and requests are spread over
//! the healthy ones in turn. A replica's gRPC health is probed every
//! [`UpstreamOptions::probe_every`]: one that dies stops receiving requests at the next probe,
//! so only the requests already sent to it (and those picked in that interval) fail, with
//! `Unavailable`, which callers answer as a 503. When no replica is healthy, requests still go
//! to one, so the caller gets the transport's error rather than a made-up one.
//!
//! The background work starts on the first request, inside whatever runtime makes it: the
//! proxy builds its clients before pingora's runtime exists.

use crate::observe::ReadinessCheck;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Once, OnceLock, RwLock};
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

/// How an upstream's connections behave.
#[derive(Debug, Clone)]
pub struct UpstreamOptions {
    /// Deadline of one call (`None`: none, for streams).
    pub timeout: Option<Duration>,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// How often names are resolved again.
    pub resolve_every: Duration,
    /// How often each replica's health is probed.
    pub probe_every: Duration,
}

impl Default for UpstreamOptions {
    fn default() -> Self {
        UpstreamOptions {
            timeout: Some(Duration::from_secs(10)),
            connect_timeout: Duration::from_secs(3),
            resolve_every: Duration::from_secs(5),
            probe_every: Duration::from_secs(1),
        }
    }
}

/// Why an upstream's address is not usable.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// Not `http(s)://host:port`.
    #[error("{url:?}: {reason}")]
    Url {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// One configured URL: what to resolve, and how to build an endpoint for each address.
#[derive(Debug, Clone)]
struct Target {
    scheme: String,
    host: String,
    port: u16,
}

/// One replica: an address and its connection, made on first use (a tonic channel needs a
/// runtime to exist).
#[derive(Debug)]
struct Replica {
    key: String,
    endpoint: Endpoint,
    channel: OnceLock<Channel>,
    healthy: AtomicBool,
}

impl Replica {
    fn channel(&self) -> Channel {
        self.channel
            .get_or_init(|| self.endpoint.connect_lazy())
            .clone()
    }
}

#[derive(Debug)]
struct Inner {
    name: &'static str,
    targets: Vec<Target>,
    options: UpstreamOptions,
    replicas: RwLock<Arc<Vec<Arc<Replica>>>>,
    next: AtomicUsize,
    started: Once,
}

/// The replicas of one service, balanced.
#[derive(Debug, Clone)]
pub struct Upstream {
    inner: Arc<Inner>,
}

/// Checks a configured service address (one `http(s)://host:port` URL, or several separated by
/// commas) the way [`Upstream::new`] reads it, for configuration validation.
pub fn check_urls(urls: &str) -> Result<(), UpstreamError> {
    parse_targets(urls).map(|_| ())
}

fn parse_targets(urls: &str) -> Result<Vec<Target>, UpstreamError> {
    let targets = urls
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(parse_target)
        .collect::<Result<Vec<_>, _>>()?;
    if targets.is_empty() {
        return Err(UpstreamError::Url {
            url: urls.to_owned(),
            reason: "no URL".into(),
        });
    }
    Ok(targets)
}

impl Upstream {
    /// An upstream named `name` (for logs) at `urls`: one URL, or several separated by commas.
    /// Nothing connects yet.
    pub fn new(
        name: &'static str,
        urls: &str,
        options: UpstreamOptions,
    ) -> Result<Upstream, UpstreamError> {
        let targets = parse_targets(urls)?;
        // Until the first resolution, each target is one replica at its name: the connection
        // resolves it itself.
        let replicas = targets
            .iter()
            .map(|t| {
                let url = format!("{}://{}:{}", t.scheme, t.host, t.port);
                replica(&url, &options)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Upstream {
            inner: Arc::new(Inner {
                name,
                targets,
                options,
                replicas: RwLock::new(Arc::new(replicas)),
                next: AtomicUsize::new(0),
                started: Once::new(),
            }),
        })
    }

    /// A channel to the next healthy replica (any replica when none is healthy). Cheap: the
    /// connections are shared.
    pub fn channel(&self) -> Channel {
        self.start();
        let replicas = self.snapshot();
        let healthy: Vec<&Arc<Replica>> = replicas
            .iter()
            .filter(|r| r.healthy.load(Ordering::Relaxed))
            .collect();
        let turn = self.inner.next.fetch_add(1, Ordering::Relaxed);
        match healthy.len() {
            0 => replicas[turn % replicas.len()].channel(),
            n => healthy[turn % n].channel(),
        }
    }

    /// A readiness check for `/peers`: ready when at least one replica answers its health check.
    pub fn ready_check(&self) -> ReadinessCheck {
        let upstream = self.clone();
        Arc::new(move || {
            let upstream = upstream.clone();
            Box::pin(async move {
                upstream.start();
                let replicas = upstream.snapshot();
                let mut why = Vec::new();
                for replica in replicas.iter() {
                    match crate::observe::grpc_ready(replica.channel())().await {
                        Ok(()) => return Ok(()),
                        Err(e) => why.push(format!("{}: {e}", replica.key)),
                    }
                }
                Err(why.join("; "))
            })
        })
    }

    fn snapshot(&self) -> Arc<Vec<Arc<Replica>>> {
        Arc::clone(
            &self
                .inner
                .replicas
                .read()
                .unwrap_or_else(|e| e.into_inner()),
        )
    }

    /// Starts resolving and probing, once, on the current runtime.
    fn start(&self) {
        let inner = Arc::clone(&self.inner);
        self.inner.started.call_once(move || {
            if tokio::runtime::Handle::try_current().is_err() {
                return;
            }
            let weak = Arc::downgrade(&inner);
            tokio::spawn(async move {
                let (probe_every, resolve_every) =
                    (inner.options.probe_every, inner.options.resolve_every);
                drop(inner);
                let mut since_resolved = resolve_every;
                loop {
                    // Stops with the last handle to the upstream.
                    let Some(inner) = weak.upgrade() else { return };
                    if since_resolved >= resolve_every {
                        inner.resolve().await;
                        since_resolved = Duration::ZERO;
                    }
                    inner.probe().await;
                    drop(inner);
                    tokio::time::sleep(probe_every).await;
                    since_resolved += probe_every;
                }
            });
        });
    }
}

impl Inner {
    /// Resolves every target; replaces the replica set when the addresses changed (keeping
    /// the connections of the addresses that stay). A failed resolution keeps what is known.
    async fn resolve(&self) {
        let mut addresses: BTreeSet<(String, SocketAddr)> = BTreeSet::new();
        for target in &self.targets {
            match tokio::net::lookup_host((target.host.as_str(), target.port)).await {
                Ok(found) => addresses.extend(found.map(|a| (target.scheme.clone(), a))),
                Err(error) => {
                    tracing::warn!(upstream = self.name, host = %target.host, %error,
                        "could not resolve; keeping the replicas known");
                    return;
                }
            }
        }
        let keys: BTreeSet<String> = addresses
            .iter()
            .map(|(s, a)| format!("{s}://{a}"))
            .collect();
        let current = Arc::clone(&self.replicas.read().unwrap_or_else(|e| e.into_inner()));
        let known: BTreeSet<String> = current.iter().map(|r| r.key.clone()).collect();
        if keys == known || keys.is_empty() {
            return;
        }
        let mut next = Vec::with_capacity(keys.len());
        for key in &keys {
            match current.iter().find(|r| &r.key == key) {
                Some(kept) => next.push(Arc::clone(kept)),
                None => match replica(key, &self.options) {
                    Ok(new) => next.push(new),
                    Err(error) => {
                        tracing::warn!(upstream = self.name, %error, "a replica's address is unusable")
                    }
                },
            }
        }
        if next.is_empty() {
            return;
        }
        tracing::info!(upstream = self.name, replicas = ?keys, "replicas changed");
        *self.replicas.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
    }

    /// Probes every replica's health at once.
    async fn probe(&self) {
        let replicas = Arc::clone(&self.replicas.read().unwrap_or_else(|e| e.into_inner()));
        let probes = replicas.iter().map(|replica| async move {
            let healthy = crate::observe::grpc_ready(replica.channel())()
                .await
                .is_ok();
            let was = replica.healthy.swap(healthy, Ordering::Relaxed);
            if was != healthy {
                tracing::info!(upstream = self.name, replica = %replica.key, healthy,
                    "replica health changed");
            }
        });
        futures::future::join_all(probes).await;
    }
}

fn parse_target(url: &str) -> Result<Target, UpstreamError> {
    let bad = |reason: &str| UpstreamError::Url {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: http::Uri = url.parse().map_err(|_| bad("not a URL"))?;
    let scheme = uri.scheme_str().ok_or_else(|| bad("no scheme"))?;
    if scheme != "http" && scheme != "https" {
        return Err(bad("the scheme must be http or https"));
    }
    let host = uri.host().ok_or_else(|| bad("no host"))?;
    let port = uri
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    Ok(Target {
        scheme: scheme.to_owned(),
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
    })
}

/// A replica at `url`, connected lazily, presumed healthy until probed.
fn replica(url: &str, options: &UpstreamOptions) -> Result<Arc<Replica>, UpstreamError> {
    let mut endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|e| UpstreamError::Url {
            url: url.to_owned(),
            reason: e.to_string(),
        })?
        .connect_timeout(options.connect_timeout)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true);
    if let Some(timeout) = options.timeout {
        endpoint = endpoint.timeout(timeout);
    }
    Ok(Arc::new(Replica {
        key: url.to_owned(),
        endpoint,
        channel: OnceLock::new(),
        healthy: AtomicBool::new(true),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_listed() {
        let upstream = Upstream::new(
            "x",
            "http://a:1, http://127.0.0.1:2",
            UpstreamOptions::default(),
        )
        .expect("two");
        assert_eq!(upstream.snapshot().len(), 2);
        for bad in ["", "a:1", "ftp://a:1", "http://"] {
            assert!(
                Upstream::new("x", bad, UpstreamOptions::default()).is_err(),
                "{bad}"
            );
        }
    }
}
