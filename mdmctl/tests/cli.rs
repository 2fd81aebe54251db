//! `mdmctl` as a real process against the real stack (admin-svc's API, the proxy and the
//! services behind them, on loopback with TLS made for the test), with simulated devices enrolled
//! and answering over mTLS. Needs `cargo build --workspace --bins` first.
//!
//! - `ctl`: running mdmctl; `device`: a simulated device.
//! - One file per scenario group: `devices_and_wait`, `cancel`, `destructive`, `config`,
//!   `errors`, `admin_tokens`, `webhooks` (and `events`), `blueprints`, `declarations` (and
//!   `declaration-sets`).

mod cli {
    pub mod ctl;
    pub mod device;

    mod admin_tokens;
    mod blueprints;
    mod cancel;
    mod config;
    mod declarations;
    mod destructive;
    mod devices_and_wait;
    mod errors;
    mod webhooks;
}

use testkit::{Engine, Stack, StackOptions};

/// The second simulated device (the first uses the UDID of the real captures).
const OTHER_UDID: &str = "2c222c222c222c222c222c222c222c222c222c22";

/// A stack on `engine`; `None` when PostgreSQL is switched off (`MDM_TEST_POSTGRES=off`).
async fn start(engine: Engine) -> Option<Stack> {
    start_with(StackOptions::new(engine)).await
}

/// A stack with `options` (settings of its own for a service); `None` as for [`start`].
async fn start_with(options: StackOptions) -> Option<Stack> {
    let stack = Stack::start(options).await.expect("the stack starts");
    if stack.is_none() {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
    }
    stack
}
