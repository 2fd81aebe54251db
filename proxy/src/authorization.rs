//! Authorization of the command channel: before command-svc sees a report, enroll-svc confirms
//! that the identity is an active enrollment presenting its bound certificate, and says which
//! generation of the enrollment it is (command-svc serves only that generation's commands).
//! Positive answers are cached briefly, because a device sends several reports per connection
//! and asking for each would double the backend calls of the hot path. Refusals are never
//! cached, and an Authenticate or CheckOut seen by this edge evicts the device at once.

use crate::backends::Backends;
use crate::error::ProxyError;
use mdm_proto::v1::{AuthorizeRequest, DeviceIdentity};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept at most; past it the cache is emptied (it refills from enroll-svc).
const MAX_ENTRIES: usize = 200_000;

type Key = (String, Vec<u8>);

/// A TTL cache of positive authorizations (until when, and the generation) in front of
/// enroll-svc.
#[derive(Debug)]
pub struct Authorizer {
    ttl: Duration,
    granted: Mutex<HashMap<Key, (Instant, u64)>>,
}

impl Authorizer {
    /// A cache keeping answers for `ttl` (zero disables caching).
    pub fn new(ttl: Duration) -> Authorizer {
        Authorizer {
            ttl,
            granted: Mutex::new(HashMap::new()),
        }
    }

    /// The enrollment's generation when `identity` may use the command channel; the enroll-svc
    /// error otherwise (NotManaged → 401, AuthenticationFailed → 403, unreachable → 503).
    pub async fn authorize(
        &self,
        backends: &Backends,
        identity: &DeviceIdentity,
    ) -> Result<u64, ProxyError> {
        let key = (identity.enrollment_id.clone(), identity.cert_sha256.clone());
        if let Some(generation) = self.fresh(&key) {
            return Ok(generation);
        }
        let generation = backends
            .enroll_client()
            .authorize(AuthorizeRequest {
                identity: Some(identity.clone()),
            })
            .await
            .map_err(|status| ProxyError::backend("enroll-svc", &status))?
            .into_inner()
            .generation;
        if !self.ttl.is_zero() {
            let mut granted = self.granted.lock().unwrap_or_else(|e| e.into_inner());
            if granted.len() >= MAX_ENTRIES {
                granted.clear();
            }
            granted.insert(key, (Instant::now() + self.ttl, generation));
        }
        Ok(generation)
    }

    /// Forgets every cached answer for a device's enrollments (after its Authenticate or
    /// CheckOut).
    pub fn evict_device(&self, device_id: &str) {
        let mut granted = self.granted.lock().unwrap_or_else(|e| e.into_inner());
        let user_prefix = format!("{device_id}:");
        granted.retain(|(id, _), _| id != device_id && !id.starts_with(&user_prefix));
    }

    fn fresh(&self, key: &Key) -> Option<u64> {
        let granted = self.granted.lock().unwrap_or_else(|e| e.into_inner());
        granted
            .get(key)
            .filter(|(until, _)| *until > Instant::now())
            .map(|(_, generation)| *generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_covers_the_device_and_its_user_channels_only() {
        let authorizer = Authorizer::new(Duration::from_secs(60));
        let until = Instant::now() + Duration::from_secs(60);
        {
            let mut granted = authorizer.granted.lock().expect("lock");
            for id in ["D1", "D1:U1", "D10", "D2"] {
                granted.insert((id.to_string(), vec![1]), (until, 3));
            }
        }
        authorizer.evict_device("D1");
        assert_eq!(authorizer.fresh(&("D1".into(), vec![1])), None);
        assert_eq!(authorizer.fresh(&("D1:U1".into(), vec![1])), None);
        assert_eq!(authorizer.fresh(&("D10".into(), vec![1])), Some(3));
        assert_eq!(authorizer.fresh(&("D2".into(), vec![1])), Some(3));
        assert_eq!(
            authorizer.fresh(&("D2".into(), vec![2])),
            None,
            "keyed by certificate too"
        );
    }
}
