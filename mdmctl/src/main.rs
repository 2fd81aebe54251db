//! The `mdmctl` binary: parse the command line, read the environment once, run, and exit with
//! 0 (success), 1 (failure) or 2 (usage). See the library's docs for the layout.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // clap exits 2 on a usage error and 0 for --help and --version.
    let cli = mdmctl::Cli::parse();
    let env = mdmctl::config::Env::from_process();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return mdmctl::exit::report(Err(error.into())),
    };
    mdmctl::exit::report(runtime.block_on(mdmctl::run(cli, env)))
}
