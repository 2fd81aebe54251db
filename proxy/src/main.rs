//! The proxy binary: load configuration, build the pingora server, run until a signal.
//! SIGTERM drains for `shutdown_grace_secs`; SIGINT stops at once.

use anyhow::Context;
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
