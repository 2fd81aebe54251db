//! admin-svc binary: see [`admin_svc::run`].

use clap::Parser;
use service_kit::cli::{exit_code, service_main, CommonArgs};

/// The administrator's side of the MDM server: the REST API, admin tokens and the audit log.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let result = service_main(Args::parse().common, admin_svc::run).await;
    exit_code("admin-svc", result)
}
