//! The trust check's answers, remembered per certificate: a device signs every request with the
//! same certificate, and checking its CA's signature on it again each time doubled the cost of a
//! signed request.
//!
//! What is remembered is the period in which the answer is yes: from the latest notBefore to the
//! earliest notAfter of the certificate and the CA that signed it, widened by the clock skew. The
//! trust check asked at any moment in that period answers yes, and outside it no, so a remembered
//! answer is exactly the one [`super::TrustAnchors::verify`] would give: never past a notAfter,
//! never before a notBefore, whatever the clock does. Refusals are not remembered (an attacker's
//! certificates would only evict devices'). Revocation is not the trust check's to decide: the edge
//! asks enroll-svc, whose answers are invalidated when a certificate is revoked.
//!
//! Keyed by the SHA-256 of the certificate's DER, bounded in entries, and an entry unused for an
//! hour is dropped.

use std::time::Duration;

use moka::sync::Cache;

use super::ChainCert;

/// The most certificates remembered. An entry is about a hundred bytes, so the bound is a few
/// megabytes; a larger fleet re-checks its least recently used certificates now and then.
pub const MAX_ENTRIES: u64 = 100_000;

/// An entry not used for this long is dropped: its device has gone quiet.
const IDLE: Duration = Duration::from_secs(3600);

/// The period, in Unix seconds (both ends included), in which the trust check accepts one
/// certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window {
    from: i64,
    until: i64,
}

/// Certificates the trust check accepted, by SHA-256.
#[derive(Clone)]
pub(crate) struct VerifiedCache {
    windows: Cache<[u8; 32], Window>,
}

impl std::fmt::Debug for VerifiedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedCache")
            .field("entries", &self.windows.entry_count())
            .finish()
    }
}

/// A cache of something per certificate, bounded like every one of this crate: at most
/// [`MAX_ENTRIES`], each dropped after [`IDLE`] without use.
pub(crate) fn per_certificate<V: Clone + Send + Sync + 'static>() -> Cache<[u8; 32], V> {
    Cache::builder()
        .max_capacity(MAX_ENTRIES)
        .time_to_idle(IDLE)
        .build()
}

impl VerifiedCache {
    pub(crate) fn new() -> Self {
        Self {
            windows: per_certificate(),
        }
    }

    /// Whether the certificate whose SHA-256 is `sha256` was accepted for a period that
    /// includes `now`.
    pub(crate) fn accepts(&self, sha256: &[u8; 32], now: i64) -> bool {
        self.windows
            .get(sha256)
            .is_some_and(|w| (w.from..=w.until).contains(&now))
    }

    /// Remembers that `leaf` was accepted, issued by `issuer`, with `skew` allowed on both ends.
    pub(crate) fn remember(
        &self,
        sha256: [u8; 32],
        leaf: &ChainCert,
        issuer: &ChainCert,
        skew: Duration,
    ) {
        let skew = i64::try_from(skew.as_secs()).unwrap_or(i64::MAX);
        let window = Window {
            from: leaf
                .not_before()
                .max(issuer.not_before())
                .saturating_sub(skew),
            until: leaf
                .not_after()
                .min(issuer.not_after())
                .saturating_add(skew),
        };
        self.windows.insert(sha256, window);
    }

    /// How many certificates are remembered (approximate until pending work is run).
    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        self.windows.run_pending_tasks();
        self.windows.entry_count()
    }
}
