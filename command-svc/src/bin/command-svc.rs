//! command-svc binary: see [`command_svc::run`].

use clap::Parser;
use service_kit::cli::{service_main, CommonArgs};

/// The command service of the MDM server.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    service_main(Args::parse().common, command_svc::run).await?;
    Ok(())
}
