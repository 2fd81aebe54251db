//! `mdm-devsim`: simulated iPhones and Macs against an MDM server (DESIGN.md §9).
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
            Mode::Run(args) => {
                let push_feed = match (&args.push_feed, &args.fleet.dev_json) {
                    (None, Some(path)) => options::dev_json_text(path, "push_feed_url")?,
                    _ => args.push_feed.clone(),
                };
                let args = options::RunArgs {
                    fleet: args.fleet.with_dev_json()?,
                    push_feed,
                    ..args
                };
                run::run(args).await
            }
            Mode::Bench(args) => {
                let args = options::BenchArgs {
                    fleet: args.fleet.with_dev_json()?,
                    ..args
                };
                bench::run(args).await
            }
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
