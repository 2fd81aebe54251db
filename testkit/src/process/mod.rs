//! Real binaries as child processes on loopback: where the workspace binaries are
//! ([`workspace_bin`]), a free port ([`free_port`]), a child whose output is captured and
//! which dies with the test ([`ChildProcess`]), and waits that poll instead of sleeping
//! ([`wait_for_tcp`], [`eventually`]).

mod bin;
mod child;
mod eventually;
mod net;
mod output;

pub use bin::workspace_bin;
pub use child::ChildProcess;
pub use eventually::eventually;
pub use net::{free_port, wait_for_tcp};

/// How often the polling helpers retry.
const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(20);

#[cfg(test)]
mod tests;
