//! The `[ca]` and `[enrollment]` sections of enroll-svc's configuration
//! (`MDM_ENROLL_CA__*`, `MDM_ENROLL_ENROLLMENT__*`).

use serde::Deserialize;
use service_kit::config::ConfigError;
use std::path::PathBuf;

/// `[ca]`: the device-identity CA.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaConfig {
    /// Days an issued identity certificate is valid.
    #[serde(default = "default_validity_days")]
    pub validity_days: u32,
    /// Seconds an issued identity certificate is valid, instead of `validity_days`: for
    /// short-lived identities, and for tests that watch one expire.
    #[serde(default)]
    pub validity_secs: Option<u64>,
    /// PEM certificate of an existing CA to use instead of the one generated on first start.
    /// Set together with `key_file`. The CA must have an RSA key (SCEP envelopes are encrypted
    /// to it).
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// PEM private key of `cert_file` (PKCS#8 or PKCS#1, optionally encrypted).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// Passphrase of an encrypted `key_file`.
    #[serde(default)]
    pub key_password: Option<String>,
    /// Subject CN of a generated CA.
    #[serde(default = "default_common_name")]
    pub common_name: String,
    /// Days a generated CA certificate is valid.
    #[serde(default = "default_ca_validity_days")]
    pub ca_validity_days: u32,
    /// Writes the CA certificate (PEM) here at start-up: list it in the proxy's
    /// `device.client_ca_files` so that the identities it issues are accepted.
    #[serde(default)]
    pub export_cert_file: Option<PathBuf>,
}

impl Default for CaConfig {
    fn default() -> Self {
        CaConfig {
            validity_days: default_validity_days(),
            validity_secs: None,
            cert_file: None,
            key_file: None,
            key_password: None,
            common_name: default_common_name(),
            ca_validity_days: default_ca_validity_days(),
            export_cert_file: None,
        }
    }
}

fn default_validity_days() -> u32 {
    365
}
fn default_common_name() -> String {
    "MDM Device Identity CA".into()
}
fn default_ca_validity_days() -> u32 {
    3650
}

/// `[enrollment]`: the public URLs and the contents of the profiles. Without it the SCEP server
/// works, but no profile can be made.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentConfig {
    /// Public `https://host[:port]` of the proxy's enrollment listener: `/scep`, `/enroll`,
    /// `/enroll/profile` and `/trust-profile` are under it.
    pub base_url: String,
    /// The MDM payload's ServerURL (the proxy's device listener, e.g. `https://host/mdm`).
    pub server_url: String,
    /// The MDM payload's CheckInURL; without it devices check in at the ServerURL.
    #[serde(default)]
    pub check_in_url: Option<String>,
    /// Where devices fetch the data of assets the server keeps (the proxy's `device.assets_path`
    /// on its device listener); by default `https://<server_url's host>/assets`.
    #[serde(default)]
    pub assets_url: Option<String>,
    /// The push topic (the push certificate's UID, `com.apple.mgmt.External.<uuid>`), until
    /// push-svc serves it.
    pub topic: String,
    /// SignMessage: devices sign every request (Mdm-Signature), for load balancers that
    /// terminate TLS.
    #[serde(default)]
    pub sign_message: bool,
    /// CheckOutWhenRemoved.
    #[serde(default = "yes")]
    pub check_out_when_removed: bool,
    /// AccessRights (8191: all).
    #[serde(default = "default_access_rights")]
    pub access_rights: u64,
    /// PayloadIdentifier of the enrollment profile (a profile with the same identifier
    /// replaces an installed one); payload identifiers are derived from it.
    #[serde(default = "default_profile_identifier")]
    pub profile_identifier: String,
    /// PayloadOrganization, and the O of issued certificates' subjects.
    #[serde(default)]
    pub organization: Option<String>,
    /// PEM root (and intermediate) certificates of the server's TLS certificate when it is not
    /// publicly trusted: put in the enrollment profile and served as the trust profile.
    #[serde(default)]
    pub server_ca_file: Option<PathBuf>,
    /// PEM certificate (and chain) that signs profiles; devices show them as verified when it
    /// chains to a root they trust. Default: the device-identity CA.
    #[serde(default)]
    pub signing_cert_file: Option<PathBuf>,
    /// PEM key of `signing_cert_file`.
    #[serde(default)]
    pub signing_key_file: Option<PathBuf>,
    /// PEM bundle the OTA phase-2 device signature must chain to. Default: Apple's public
    /// device CAs (compiled in from `mdm-pki/certs/apple/`). Tests name a test CA here.
    #[serde(default)]
    pub device_ca_file: Option<PathBuf>,
    /// Seconds a SCEP challenge, and an OTA enrollment between its phases, stays usable.
    #[serde(default = "default_challenge_ttl_secs")]
    pub challenge_ttl_secs: u64,
}

fn yes() -> bool {
    true
}
fn default_access_rights() -> u64 {
    mdm_pki::profile::payload::ALL_ACCESS_RIGHTS
}
fn default_profile_identifier() -> String {
    "org.mdm-server.enrollment".into()
}
fn default_challenge_ttl_secs() -> u64 {
    3600
}

fn setting(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Setting {
        key: key.into(),
        reason: reason.into(),
    }
}

fn readable(key: &str, path: &Option<PathBuf>) -> Result<(), ConfigError> {
    match path {
        Some(path) if !path.is_file() => Err(setting(
            key,
            format!("{} is not a readable file", path.display()),
        )),
        _ => Ok(()),
    }
}

impl CaConfig {
    /// Seconds an issued identity certificate is valid.
    pub fn identity_validity_secs(&self) -> u64 {
        self.validity_secs
            .unwrap_or(u64::from(self.validity_days) * 86_400)
    }

    /// Checks files and ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.cert_file.is_some() != self.key_file.is_some() {
            return Err(setting(
                "ca.cert_file",
                "set ca.cert_file and ca.key_file together",
            ));
        }
        readable("ca.cert_file", &self.cert_file)?;
        readable("ca.key_file", &self.key_file)?;
        if self.validity_days == 0 || self.validity_days > 3650 {
            return Err(setting("ca.validity_days", "must be between 1 and 3650"));
        }
        if matches!(self.validity_secs, Some(secs) if !(10..=3650 * 86_400).contains(&secs)) {
            return Err(setting(
                "ca.validity_secs",
                "must be between 10 seconds and 3650 days",
            ));
        }
        if u64::from(self.ca_validity_days) * 86_400 < self.identity_validity_secs() {
            return Err(setting(
                "ca.ca_validity_days",
                "must be at least ca.validity_days",
            ));
        }
        Ok(())
    }
}

impl EnrollmentConfig {
    /// Checks URLs, files and ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (key, url) in [
            ("enrollment.base_url", Some(&self.base_url)),
            ("enrollment.server_url", Some(&self.server_url)),
            ("enrollment.check_in_url", self.check_in_url.as_ref()),
            ("enrollment.assets_url", self.assets_url.as_ref()),
        ] {
            if let Some(url) = url {
                // Devices only talk to MDM servers over HTTPS.
                if !url.starts_with("https://") {
                    return Err(setting(key, "must be an https:// URL"));
                }
            }
        }
        if self.topic.trim().is_empty() {
            return Err(setting("enrollment.topic", "the push topic is required"));
        }
        if self.signing_cert_file.is_some() != self.signing_key_file.is_some() {
            return Err(setting(
                "enrollment.signing_cert_file",
                "set signing_cert_file and signing_key_file together",
            ));
        }
        readable("enrollment.server_ca_file", &self.server_ca_file)?;
        readable("enrollment.signing_cert_file", &self.signing_cert_file)?;
        readable("enrollment.signing_key_file", &self.signing_key_file)?;
        readable("enrollment.device_ca_file", &self.device_ca_file)?;
        if !(60..=7 * 24 * 3600).contains(&self.challenge_ttl_secs) {
            return Err(setting(
                "enrollment.challenge_ttl_secs",
                "must be between 60 and 604800",
            ));
        }
        Ok(())
    }

    /// `base_url` without a trailing slash.
    pub fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }

    /// Where devices fetch assets' data, without a trailing slash: `assets_url`, or `/assets` at
    /// the ServerURL's origin.
    pub fn assets_url(&self) -> String {
        if let Some(url) = &self.assets_url {
            return url.trim_end_matches('/').to_owned();
        }
        let after_scheme = self.server_url.find("://").map_or(0, |at| at + 3);
        let origin_end = self.server_url[after_scheme..]
            .find('/')
            .map_or(self.server_url.len(), |at| after_scheme + at);
        format!("{}/assets", &self.server_url[..origin_end])
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use service_kit::config::load_from;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, service_kit::config::ConfigError> {
        let mut env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.insert(
            "MDM_ENROLL_SECRET_KEY".into(),
            "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"".into(),
        );
        load_from(None, &env)
    }

    const ENROLLMENT: [(&str, &str); 3] = [
        (
            "MDM_ENROLL_ENROLLMENT__BASE_URL",
            "https://mdm.example.com:8444",
        ),
        (
            "MDM_ENROLL_ENROLLMENT__SERVER_URL",
            "https://mdm.example.com/mdm",
        ),
        ("MDM_ENROLL_ENROLLMENT__TOPIC", "com.apple.mgmt.External.x"),
    ];

    #[test]
    fn defaults_and_environment_names() {
        let config = load(&[]).expect("defaults");
        assert_eq!(config.ca.validity_days, 365);
        assert!(
            config.enrollment.is_none(),
            "profiles are off until configured"
        );
        let config = load(&[
            ENROLLMENT[0],
            ENROLLMENT[1],
            ENROLLMENT[2],
            ("MDM_ENROLL_CA__VALIDITY_DAYS", "90"),
            ("MDM_ENROLL_ENROLLMENT__SIGN_MESSAGE", "true"),
        ])
        .expect("loads");
        let enrollment = config.enrollment.expect("configured");
        assert!(enrollment.sign_message && enrollment.check_out_when_removed);
        assert_eq!(
            (config.ca.validity_days, enrollment.access_rights),
            (90, 8191)
        );
        assert_eq!(enrollment.challenge_ttl_secs, 3600);
    }

    #[test]
    fn short_lived_identities_in_seconds() {
        let config = load(&[
            ("MDM_ENROLL_CA__VALIDITY_SECS", "24"),
            ("MDM_ENROLL_IDENTITIES__EXPIRY_NOTICE_SECS", "14"),
        ])
        .expect("loads");
        assert_eq!(config.ca.identity_validity_secs(), 24);
        assert_eq!(config.identities.notice_secs(), 14);
        assert_eq!(
            load(&[]).expect("defaults").identities.notice_secs(),
            60 * 86_400
        );
    }

    #[test]
    fn bad_settings_name_their_key() {
        let cases: [(&[(&str, &str)], &str); 6] = [
            (
                &[
                    ("MDM_ENROLL_ENROLLMENT__BASE_URL", "http://mdm.example.com"),
                    ENROLLMENT[1],
                    ENROLLMENT[2],
                ],
                "enrollment.base_url",
            ),
            (
                &[
                    ENROLLMENT[0],
                    ENROLLMENT[1],
                    ("MDM_ENROLL_ENROLLMENT__TOPIC", " "),
                ],
                "enrollment.topic",
            ),
            (
                &[("MDM_ENROLL_CA__CERT_FILE", "/nonexistent")],
                "ca.cert_file",
            ),
            (&[("MDM_ENROLL_CA__VALIDITY_DAYS", "0")], "ca.validity_days"),
            (&[("MDM_ENROLL_CA__VALIDITY_SECS", "5")], "ca.validity_secs"),
            // Renewed as soon as issued, over and over: refused.
            (
                &[("MDM_ENROLL_CA__VALIDITY_DAYS", "30")],
                "identities.expiry_notice_days",
            ),
        ];
        for (env, key) in cases {
            let err = load(env).expect_err(key);
            assert!(err.to_string().contains(key), "{key}: {err}");
        }
    }
}
