//! What a device reads in the profiles it is served: the signature (checked, the signer not
//! trusted: a device installs an unverified profile too), the payloads, and the keys of the
//! Profile Service, SCEP and MDM payloads.

use super::error::{EnrollmentError, Step};
use mdm_pki::profile::{read_dictionary, signing};
use plist::{Dictionary, Value};

/// PayloadType of a SCEP payload.
pub const SCEP: &str = "com.apple.security.scep";
/// PayloadType of an MDM payload.
pub const MDM: &str = "com.apple.mdm";
/// PayloadType of the OTA Profile Service payload.
pub const PROFILE_SERVICE: &str = "Profile Service";

/// A signed profile, opened: its signature checked, its plist read.
pub fn open(step: Step, der: &[u8]) -> Result<Dictionary, EnrollmentError> {
    let opened = signing::open(der)
        .map_err(|e| EnrollmentError::unexpected(step, format!("not a signed profile: {e}")))?;
    read_dictionary(&opened.content)
        .map_err(|e| EnrollmentError::unexpected(step, format!("the signed content: {e}")))
}

/// The value of a string key.
pub fn string(step: Step, dict: &Dictionary, key: &str) -> Result<String, EnrollmentError> {
    dict.get(key)
        .and_then(Value::as_string)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| EnrollmentError::unexpected(step, format!("no {key}")))
}

/// The dictionary under `PayloadContent` (Profile Service and SCEP payloads).
pub fn content(step: Step, payload: &Dictionary) -> Result<&Dictionary, EnrollmentError> {
    payload
        .get("PayloadContent")
        .and_then(Value::as_dictionary)
        .ok_or_else(|| EnrollmentError::unexpected(step, "no PayloadContent dictionary"))
}

/// The payloads of a (configuration) profile.
pub fn payloads(step: Step, profile: &Dictionary) -> Result<Vec<&Dictionary>, EnrollmentError> {
    let items = profile
        .get("PayloadContent")
        .and_then(Value::as_array)
        .ok_or_else(|| EnrollmentError::unexpected(step, "the profile has no payloads"))?;
    items
        .iter()
        .map(|item| {
            item.as_dictionary()
                .ok_or_else(|| EnrollmentError::unexpected(step, "a payload is not a dictionary"))
        })
        .collect()
}

/// The first payload of `kind`.
pub fn find<'a>(
    step: Step,
    payloads: &[&'a Dictionary],
    kind: &str,
) -> Result<&'a Dictionary, EnrollmentError> {
    payloads
        .iter()
        .copied()
        .find(|p| p.get("PayloadType").and_then(Value::as_string) == Some(kind))
        .ok_or_else(|| EnrollmentError::unexpected(step, format!("no {kind} payload")))
}

/// What a SCEP payload asks the device to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScepSettings {
    /// The SCEP server's URL.
    pub url: String,
    /// The challengePassword.
    pub challenge: String,
    /// The subject to ask for, `(attribute, value)` pairs.
    pub subject: Vec<(String, String)>,
    /// RSA key size.
    pub key_size: u32,
}

impl ScepSettings {
    /// Reads a `com.apple.security.scep` payload.
    pub fn read(step: Step, payload: &Dictionary) -> Result<ScepSettings, EnrollmentError> {
        let content = content(step, payload)?;
        let key_type = content
            .get("Key Type")
            .and_then(Value::as_string)
            .unwrap_or("RSA");
        if key_type != "RSA" {
            return Err(EnrollmentError::unexpected(
                step,
                format!("Key Type {key_type:?}: a device makes RSA keys"),
            ));
        }
        let key_size = match content.get("Keysize").and_then(Value::as_unsigned_integer) {
            // Apple documents 1024 as the default; too weak to ask for today.
            None => 2048,
            Some(size @ 1024..=4096) => size as u32,
            Some(other) => {
                return Err(EnrollmentError::unexpected(
                    step,
                    format!("Keysize {other} (1024 to 4096)"),
                ))
            }
        };
        // Subject: an array of RDNs, each an array of [type, value] pairs.
        let mut subject = Vec::new();
        let rdns = content
            .get("Subject")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for pair in rdns.iter().filter_map(Value::as_array).flatten() {
            let pair = pair.as_array().map(Vec::as_slice).unwrap_or_default();
            match pair {
                [kind, value] => match (kind.as_string(), value.as_string()) {
                    (Some(kind), Some(value)) => subject.push((kind.to_owned(), value.to_owned())),
                    _ => {
                        return Err(EnrollmentError::unexpected(
                            step,
                            "a Subject entry is not two strings",
                        ))
                    }
                },
                _ => {
                    return Err(EnrollmentError::unexpected(
                        step,
                        "a Subject entry is not a [type, value] pair",
                    ))
                }
            }
        }
        Ok(ScepSettings {
            url: string(step, content, "URL")?,
            challenge: string(step, content, "Challenge")?,
            subject,
            key_size,
        })
    }
}

/// What the MDM payload tells the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdmSettings {
    /// ServerURL.
    pub server_url: String,
    /// CheckInURL, if given.
    pub check_in_url: Option<String>,
    /// Topic.
    pub topic: String,
    /// SignMessage.
    pub sign_message: bool,
    /// IdentityCertificateUUID: the PayloadUUID of the identity's payload.
    pub identity_uuid: String,
}

impl MdmSettings {
    /// Reads a `com.apple.mdm` payload.
    pub fn read(step: Step, payload: &Dictionary) -> Result<MdmSettings, EnrollmentError> {
        Ok(MdmSettings {
            server_url: string(step, payload, "ServerURL")?,
            check_in_url: string(step, payload, "CheckInURL").ok(),
            topic: string(step, payload, "Topic")?,
            sign_message: payload
                .get("SignMessage")
                .and_then(Value::as_boolean)
                .unwrap_or(false),
            identity_uuid: string(step, payload, "IdentityCertificateUUID")?,
        })
    }
}

/// The payload whose PayloadUUID is `uuid`.
pub fn by_uuid<'a>(
    step: Step,
    payloads: &[&'a Dictionary],
    uuid: &str,
) -> Result<&'a Dictionary, EnrollmentError> {
    payloads
        .iter()
        .copied()
        .find(|p| p.get("PayloadUUID").and_then(Value::as_string) == Some(uuid))
        .ok_or_else(|| {
            EnrollmentError::unexpected(
                step,
                format!("no payload with the IdentityCertificateUUID {uuid}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdm_pki::profile::payload::ScepPayload;

    #[test]
    fn reads_the_scep_payload_the_server_writes() {
        let payload = ScepPayload::new(
            "id",
            "https://h/scep",
            "secret",
            vec![("O".into(), "Org".into()), ("CN".into(), "UDID-1".into())],
        )
        .to_dictionary();
        let settings = ScepSettings::read(Step::MdmIdentity, &payload).expect("settings");
        assert_eq!(
            settings,
            ScepSettings {
                url: "https://h/scep".into(),
                challenge: "secret".into(),
                subject: vec![("O".into(), "Org".into()), ("CN".into(), "UDID-1".into())],
                key_size: 2048,
            }
        );
    }

    #[test]
    fn a_payload_without_a_challenge_is_named() {
        let mut payload = ScepPayload::new("id", "https://h/scep", "", vec![]).to_dictionary();
        let error = ScepSettings::read(Step::OtaIdentity, &payload).expect_err("no challenge");
        assert!(error.to_string().contains("no Challenge"), "{error}");
        payload.remove("PayloadContent");
        assert!(ScepSettings::read(Step::OtaIdentity, &payload).is_err());
    }
}
