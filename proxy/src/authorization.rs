//! Authorization of the command channel: before command-svc sees a report, enroll-svc confirms
//! that the identity is an active enrollment presenting its bound certificate. Positive answers
//! are cached briefly, because a device sends several reports per connection and asking for
//! each would double the backend calls of the hot path. Refusals are never cached, and a
//! CheckOut seen by this edge evicts the device at once.

use crate::backends::Backends;
use crate::error::ProxyError;
use mdm_proto::v1::{AuthorizeRequest, DeviceIdentity};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept at most; past it the cache is emptied (it refills from enroll-svc).
const MAX_ENTRIES: usize = 200_000;

type Key = (String, Vec<u8>);

/// A TTL cache of positive authorizations in front of enroll-svc.
#[derive(Debug)]
pub struct Authorizer {
    ttl: Duration,
    granted: Mutex<HashMap<Key, Instant>>,
}

impl Authorizer {
    /// A cache keeping answers for `ttl` (zero disables caching).
    pub fn new(ttl: Duration) -> Authorizer {
        Authorizer {
            ttl,
            granted: Mutex::new(HashMap::new()),
        }
    }

    /// Ok when `identity` may use the command channel; the enroll-svc error otherwise
    /// (NotManaged → 401, AuthenticationFailed → 403, unreachable → 503).
    pub async fn authorize(
        &self,
        backends: &Backends,
        identity: &DeviceIdentity,
    ) -> Result<(), ProxyError> {
        let key = (identity.enrollment_id.clone(), identity.cert_sha256.clone());
        if self.is_fresh(&key) {
            return Ok(());
        }
        backends
            .enroll_client()
            .authorize(AuthorizeRequest {
                identity: Some(identity.clone()),
            })
            .await
            .map_err(|status| ProxyError::backend("enroll-svc", &status))?;
        if !self.ttl.is_zero() {
            let mut granted = self.granted.lock().unwrap_or_else(|e| e.into_inner());
            if granted.len() >= MAX_ENTRIES {
                granted.clear();
            }
            granted.insert(key, Instant::now() + self.ttl);
        }
        Ok(())
    }

    /// Forgets every cached answer for a device's enrollments (after its CheckOut).
    pub fn evict_device(&self, device_id: &str) {
        let mut granted = self.granted.lock().unwrap_or_else(|e| e.into_inner());
        let user_prefix = format!("{device_id}:");
        granted.retain(|(id, _), _| id != device_id && !id.starts_with(&user_prefix));
    }

    fn is_fresh(&self, key: &Key) -> bool {
        let granted = self.granted.lock().unwrap_or_else(|e| e.into_inner());
        granted
            .get(key)
            .is_some_and(|until| *until > Instant::now())
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
                granted.insert((id.to_string(), vec![1]), until);
            }
        }
        authorizer.evict_device("D1");
        assert!(!authorizer.is_fresh(&("D1".into(), vec![1])));
        assert!(!authorizer.is_fresh(&("D1:U1".into(), vec![1])));
        assert!(authorizer.is_fresh(&("D10".into(), vec![1])));
        assert!(authorizer.is_fresh(&("D2".into(), vec![1])));
        assert!(
            !authorizer.is_fresh(&("D2".into(), vec![2])),
            "keyed by certificate too"
        );
    }
}
