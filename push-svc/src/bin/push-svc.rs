//! push-svc binary: see [`push_svc::run`].

use clap::Parser;
use service_kit::cli::{exit_code, service_main, CommonArgs};

/// The push service of the MDM server.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let result = service_main(Args::parse().common, push_svc::run).await;
    exit_code("push-svc", result)
}
