//! command-svc binary: see [`command_svc::run`].

use clap::Parser;
use service_kit::cli::{exit_code, service_main, CommonArgs};

/// The command service of the MDM server.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let result = service_main(Args::parse().common, command_svc::run).await;
    exit_code("command-svc", result)
}
