//! The RSA keys simulated devices generate for SCEP. A phone makes its key on its own CPU; a
//! thousand simulated ones make theirs on the machine that also runs the server, and RSA-2048
//! generation costs ~100 ms of CPU each. So keys are generated off the async runtime (a busy
//! worker would stall every other device's I/O), and a benchmark can make them all before it
//! starts the clock ([`prepare`]), so that it measures the server rather than key generation.

use mdm_pki::pki;
use openssl::error::ErrorStack;
use openssl::pkey::{PKey, Private};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

static READY: Mutex<Option<HashMap<u32, Vec<PKey<Private>>>>> = Mutex::new(None);

fn ready() -> MutexGuard<'static, Option<HashMap<u32, Vec<PKey<Private>>>>> {
    READY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Generates `count` RSA keys of `bits` now, on every core, for enrollments to come.
pub fn prepare(bits: u32, count: usize) -> Result<(), ErrorStack> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let per_thread = count.div_ceil(threads.max(1));
    let made: Vec<Result<Vec<PKey<Private>>, ErrorStack>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|i| {
                let n = per_thread.min(count.saturating_sub(i * per_thread));
                scope.spawn(move || (0..n).map(|_| pki::rsa_key(bits)).collect())
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Ok(Vec::new())))
            .collect()
    });
    let mut keys = Vec::with_capacity(count);
    for batch in made {
        keys.extend(batch?);
    }
    ready()
        .get_or_insert_with(HashMap::new)
        .entry(bits)
        .or_default()
        .extend(keys);
    Ok(())
}

/// A key of `bits`: a prepared one if any is left, else a new one made on a blocking thread.
pub(super) async fn key(bits: u32) -> Result<PKey<Private>, ErrorStack> {
    let prepared = ready()
        .as_mut()
        .and_then(|keys| keys.get_mut(&bits))
        .and_then(Vec::pop);
    if let Some(key) = prepared {
        return Ok(key);
    }
    match tokio::task::spawn_blocking(move || pki::rsa_key(bits)).await {
        Ok(made) => made,
        // The blocking pool is gone (the runtime is shutting down): make it here.
        Err(_) => pki::rsa_key(bits),
    }
}
