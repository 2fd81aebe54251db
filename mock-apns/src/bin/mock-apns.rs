//! The mock APNs as its own process: serves until SIGINT/SIGTERM and prints one line per push.
//!
//! ```sh
//! cargo run -p mock-apns -- --cert server.pem --key server.key \
//!     --client-ca push-ca.pem --listen 127.0.0.1:2197 --goaway-every 1000 \
//!     --feed-listen 127.0.0.1:2198
//! ```
//!
//! With `--feed-listen`, simulated devices in other processes learn of their pushes from it
//! (`mock_apns::feed`).

use anyhow::Context;
use clap::Parser;
use mock_apns::{Fault, MockApns, MockApnsConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A mock of Apple's push service for MDM pushes (HTTP/2 over TLS, client certificates).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:2197")]
    listen: SocketAddr,
    /// PEM server certificate (chain).
    #[arg(long)]
    cert: PathBuf,
    /// PEM server key.
    #[arg(long)]
    key: PathBuf,
    /// PEM of the CA that issued the push certificates clients present.
    #[arg(long)]
    client_ca: PathBuf,
    /// Send a GOAWAY on a connection after every N requests (0: never).
    #[arg(long, default_value_t = 0)]
    goaway_every: u64,
    /// Delay every answer by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Answer pushes to a token with an error: `TOKEN=STATUS:REASON` (repeatable), e.g.
    /// `0707...07=410:Unregistered`. `*` as the token applies to every push.
    #[arg(long = "fail", value_name = "TOKEN=STATUS:REASON")]
    faults: Vec<String>,
    /// Do not keep deliveries in memory (long benchmark runs); only print them. There is no
    /// push feed then.
    #[arg(long, conflicts_with = "feed_listen")]
    quiet: bool,
    /// Keep this many of the latest deliveries (and refusals) in memory; older ones are
    /// forgotten, so a long run stays bounded. A feed client further behind skips them.
    #[arg(long, default_value_t = mock_apns::DEFAULT_KEEP)]
    keep: usize,
    /// Serve the push feed (`GET /pushes?after=N&wait_ms=MS`, plain HTTP) here, for simulated
    /// devices in other processes (`mdm-devsim --push-feed http://ADDR`).
    #[arg(long)]
    feed_listen: Option<SocketAddr>,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter("info,h2=warn")
        .init();
    let args = Args::parse();
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))
    };
    let mut config = MockApnsConfig::new(
        &read(&args.cert)?,
        &read(&args.key)?,
        &read(&args.client_ca)?,
    );
    config.listen = args.listen;
    config.record_deliveries = !args.quiet;
    config.keep = args.keep;
    config.feed_listen = args.feed_listen;
    let mock = MockApns::start(config).context("start the mock APNs")?;
    mock.set_goaway_every(args.goaway_every);
    mock.set_latency(Duration::from_millis(args.latency_ms));
    for spec in &args.faults {
        let (token, fault) = parse_fault(spec).with_context(|| format!("--fail {spec:?}"))?;
        match token.as_str() {
            "*" => mock.inject_all(Some(fault)),
            token => mock.inject(token, fault),
        }
    }
    println!("mock-apns listening addr={}", mock.addr());
    if let Some(feed) = mock.feed_addr() {
        println!("mock-apns feed addr={feed}");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut printed = 0usize;
        let mut ticks = tokio::time::interval(Duration::from_millis(200));
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = term.recv() => break,
                _ = ticks.tick() => {
                    let deliveries = mock.deliveries();
                    for d in deliveries.iter().skip(printed) {
                        println!("push token={} topic={} push_magic={} expiration={}", d.token, d.topic, d.push_magic, d.expiration);
                    }
                    printed = deliveries.len();
                }
            }
        }
        anyhow::Ok(())
    })?;
    println!("mock-apns stopped after {} pushes", mock.delivered_count());
    Ok(())
}

fn parse_fault(spec: &str) -> anyhow::Result<(String, Fault)> {
    let (token, rest) = spec
        .split_once('=')
        .context("expected TOKEN=STATUS:REASON")?;
    let (status, reason) = rest.split_once(':').context("expected STATUS:REASON")?;
    let status: u16 = status.parse().context("STATUS must be a number")?;
    Ok((token.to_owned(), Fault::new(status, reason)))
}
