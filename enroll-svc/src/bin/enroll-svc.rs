//! enroll-svc binary: see [`enroll_svc::run`].

use clap::Parser;
use service_kit::cli::{exit_code, service_main, CommonArgs};

/// Enrollment service of the MDM server: check-ins, certificate binding, device facts.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let result = service_main(Args::parse().common, enroll_svc::run).await;
    exit_code("enroll-svc", result)
}
