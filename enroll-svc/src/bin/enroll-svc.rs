//! enroll-svc binary: see [`enroll_svc::run`].

use clap::Parser;
use service_kit::cli::{service_main, CommonArgs};

/// Enrollment service of the MDM server: check-ins, certificate binding, device facts.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    service_main(Args::parse().common, enroll_svc::run).await?;
    Ok(())
}
