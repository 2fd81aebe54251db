//! `mdm-devsim`: simulated iPhones and Macs against an MDM server (docs/architecture.md §9).
//!
//! ```sh
//! # against a running `mdmctl dev` (its data directory holds dev.json):
//! mdm-devsim run --dev-json data/dev.json --devices 20 --macs 2 --users-per-mac 1 \
//!     --push-feed http://127.0.0.1:2198
//! mdm-devsim bench --dev-json data/dev.json --devices 1000 --commands 1 --rounds 3 \
//!     --concurrency 64 --new-connections 0.5 [--rate 600] [--json]
//! ```
//!
//! - `options`: the command line (and dev.json defaults).
//! - `setup`: from the options to an enrolled fleet.
//! - `run`: devices that sleep until pushed.
//! - `bench`: the load generator.

mod bench;
mod options;
mod run;
mod setup;

use clap::Parser;
use options::{Cli, Mode};

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.mode {
            Mode::Run(args) => run::run(args.with_dev_json()?).await,
            Mode::Bench(args) => bench::run(args.with_dev_json()?).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
