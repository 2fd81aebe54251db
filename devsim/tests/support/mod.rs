//! What devsim's whole-stack tests share: simulated devices working through their queues while
//! something breaks, and a tally of what they (and others) saw; the admin API and enrollment
//! ([`admin`]).

#![allow(dead_code)] // Each test binary uses a part.

pub mod admin;

use devsim::sim::fleet::{self, FleetSpec, Provisioning};
use devsim::sim::{SimConfig, SimDevice, SimError, Stats, Transport};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// `spec`'s devices, with identities issued up front by the stack's device CA, enrolled at
/// `device_url` over `transport`; every one of them must enroll.
pub async fn preissued_fleet(
    stack: &testkit::Stack,
    device_url: &str,
    transport: Transport,
    spec: FleetSpec,
) -> Vec<SimDevice> {
    let config = Arc::new(SimConfig::new(
        device_url,
        &stack.device_ca.cert_pem(),
        transport,
        testkit::pki::PUSH_TOPIC,
    ));
    let ca = fleet::key_pair(&stack.device_ca.cert_pem(), &stack.device_ca.key_pem()).expect("CA");
    let (enrolled, failures) = fleet::enroll_fleet(
        &spec,
        &Provisioning::Preissued { ca },
        &config,
        &Stats::default(),
    )
    .await;
    assert!(failures.is_empty(), "{failures:?}\n{}", stack.logs());
    enrolled
}

/// Failures seen (HTTP statuses, errors), by who saw them, with counts.
pub type Seen = Arc<Mutex<BTreeMap<String, usize>>>;

/// Counts `what` in `seen`.
pub fn saw(seen: &Seen, what: String) {
    *seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(what)
        .or_default() += 1;
}

/// Runs sessions until the device's queue is empty after `stop_after` (or `deadline` past it);
/// answers how many commands it handled. Every failed session is counted in `seen` as
/// `device <status>` or `device error: ...` and retried, so the test reports all of them at
/// the end.
pub async fn work(
    mut device: SimDevice,
    seen: Seen,
    stop_after: Instant,
    deadline: Duration,
) -> usize {
    let mut handled = 0;
    loop {
        match device.session().await {
            Ok(done) => {
                handled += done.len();
                if done.is_empty() && Instant::now() > stop_after {
                    return handled;
                }
            }
            Err(SimError::Status { status, .. }) => saw(&seen, format!("device {status}")),
            Err(other) => saw(&seen, format!("device error: {other}")),
        }
        if Instant::now() > stop_after + deadline {
            return handled;
        }
        device.reconnect().expect("reconnect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
