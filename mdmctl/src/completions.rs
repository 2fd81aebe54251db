//! `mdmctl completions <shell>`: the completion script, generated from the command tree.
//!
//! Install, e.g. for bash: `mdmctl completions bash > ~/.local/share/bash-completion/completions/mdmctl`.

use crate::output;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

/// `mdmctl completions ...`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for: bash, zsh, fish, powershell or elvish.
    pub shell: Shell,
}

/// Prints the script on stdout.
pub fn run(args: &CompletionsArgs) -> anyhow::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(
        args.shell,
        &mut crate::Cli::command(),
        "mdmctl",
        &mut script,
    );
    output::text(&String::from_utf8_lossy(&script))
}
