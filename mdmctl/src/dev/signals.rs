//! The signals that stop `mdmctl dev`: SIGINT (Ctrl-C), SIGTERM, and SIGHUP (the terminal
//! closed). Listening replaces their default action, so mdmctl lives on to stop its children;
//! the children run in their own process group and do not receive the terminal's Ctrl-C
//! themselves, which lets them be stopped in order and each exit be told from a crash.

use anyhow::Context;
use tokio::signal::unix::{signal, Signal, SignalKind};

/// Listeners for the stopping signals, installed once at start.
#[derive(Debug)]
pub struct Signals {
    interrupt: Signal,
    terminate: Signal,
    hangup: Signal,
}

impl Signals {
    /// Starts listening (from here on these signals no longer kill the process).
    pub fn install() -> anyhow::Result<Signals> {
        let listen = |kind: SignalKind, name: &str| {
            signal(kind).with_context(|| format!("listening for {name}"))
        };
        Ok(Signals {
            interrupt: listen(SignalKind::interrupt(), "SIGINT")?,
            terminate: listen(SignalKind::terminate(), "SIGTERM")?,
            hangup: listen(SignalKind::hangup(), "SIGHUP")?,
        })
    }

    /// Waits for the next stopping signal and returns its name.
    pub async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.hangup.recv() => "SIGHUP",
        }
    }
}
