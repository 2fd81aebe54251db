//! The proxy binary: load configuration, build the pingora server, run until a signal.
//! SIGTERM drains for `shutdown_grace_secs`; SIGINT stops at once.

use anyhow::Context;

/// Every request allocates and frees many small buffers across pingora's threads (headers, the
/// plist, the gRPC call); glibc's allocator spent about a fifth of the edge's CPU on them in a
/// `perf` profile of the command cycle (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use clap::Parser;
use service_kit::cli::CommonArgs;

/// The TLS edge of the MDM server.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config: proxy::Config = service_kit::config::load(args.common.config.as_deref())?;
    if args.common.check_config {
        println!(
            "configuration is valid: device listener {}, enroll-svc {}",
            config.device.listen, config.services.enroll_url
        );
        return Ok(());
    }
    proxy::pingora_log::init(&config.log);
    let server = proxy::build_server(&config).context("cannot start the proxy")?;
    server.run_forever()
}
