//! `[events]`: the dispatcher that receives the services' events and delivers them to webhooks.

use serde::Deserialize;
use service_kit::config::ConfigError;

/// How events are received and delivered.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    /// How often the services' outboxes are asked for events when they had none, in ms.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// Events asked of each service at once.
    #[serde(default = "default_batch")]
    pub batch: u32,
    /// The first retry of a failed delivery waits this long (ms); each further one twice as
    /// long, up to `retry_max_ms`.
    #[serde(default = "default_retry_min_ms")]
    pub retry_min_ms: u64,
    /// The longest wait between two attempts (ms).
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: u64,
    /// Attempts before a delivery is dead (kept, visible and replayable through the API).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// How long a receiver may take to answer one delivery (ms).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Deliveries in flight at once, over every endpoint.
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
    /// Events and finished deliveries are kept this long (seconds).
    #[serde(default = "default_retention_secs")]
    pub retention_secs: u64,
    /// Renew device identities announced as near expiry (`enrollment.identity_expiring`): queue
    /// each an InstallProfile of its renewal profile (docs/identities.md).
    #[serde(default = "default_renew_identities")]
    pub renew_identities: bool,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            poll_ms: default_poll_ms(),
            batch: default_batch(),
            retry_min_ms: default_retry_min_ms(),
            retry_max_ms: default_retry_max_ms(),
            max_attempts: default_max_attempts(),
            timeout_ms: default_timeout_ms(),
            concurrency: default_concurrency(),
            retention_secs: default_retention_secs(),
            renew_identities: default_renew_identities(),
        }
    }
}

fn default_renew_identities() -> bool {
    true
}

impl EventsConfig {
    /// The settings' own rules.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let setting = |key: &str, reason: &str| ConfigError::Setting {
            key: format!("events.{key}"),
            reason: reason.to_owned(),
        };
        if !(10..=60_000).contains(&self.poll_ms) {
            return Err(setting("poll_ms", "must be 10 to 60000"));
        }
        if !(1..=1000).contains(&self.batch) {
            return Err(setting("batch", "must be 1 to 1000"));
        }
        if self.retry_min_ms == 0 || self.retry_min_ms > self.retry_max_ms {
            return Err(setting(
                "retry_min_ms",
                "must be at least 1 and at most retry_max_ms",
            ));
        }
        if self.retry_max_ms > 86_400_000 {
            return Err(setting("retry_max_ms", "must be at most a day"));
        }
        if !(1..=1000).contains(&self.max_attempts) {
            return Err(setting("max_attempts", "must be 1 to 1000"));
        }
        if !(100..=300_000).contains(&self.timeout_ms) {
            return Err(setting("timeout_ms", "must be 100 to 300000"));
        }
        if !(1..=1000).contains(&self.concurrency) {
            return Err(setting("concurrency", "must be 1 to 1000"));
        }
        if self.retention_secs < 3600 {
            return Err(setting("retention_secs", "must be at least an hour"));
        }
        Ok(())
    }

    /// The wait (ms) before the next attempt after `attempts` failed ones in a row: doubling
    /// from `retry_min_ms`, capped at `retry_max_ms`.
    pub fn backoff_ms(&self, attempts: i64) -> i64 {
        let doublings = u32::try_from(attempts.clamp(0, 40)).unwrap_or(40);
        let wait = self.retry_min_ms.saturating_mul(1u64 << doublings);
        i64::try_from(wait.min(self.retry_max_ms)).unwrap_or(i64::MAX)
    }
}

fn default_poll_ms() -> u64 {
    250
}
fn default_batch() -> u32 {
    500
}
fn default_retry_min_ms() -> u64 {
    1_000
}
fn default_retry_max_ms() -> u64 {
    300_000
}
fn default_max_attempts() -> u32 {
    30
}
fn default_timeout_ms() -> u64 {
    10_000
}
fn default_concurrency() -> u32 {
    16
}
fn default_retention_secs() -> u64 {
    7 * 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = EventsConfig {
            retry_min_ms: 1_000,
            retry_max_ms: 10_000,
            ..EventsConfig::default()
        };
        let waits: Vec<i64> = (0..6).map(|a| config.backoff_ms(a)).collect();
        assert_eq!(waits, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
        assert_eq!(config.backoff_ms(1_000), 10_000);
        assert!(config.validate().is_ok());
        let no_minimum = EventsConfig {
            retry_min_ms: 0,
            ..config.clone()
        };
        assert!(no_minimum.validate().is_err());
        assert!(EventsConfig { batch: 0, ..config }.validate().is_err());
    }
}
