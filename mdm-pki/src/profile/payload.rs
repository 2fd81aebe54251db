//! The payload dictionaries of an enrollment profile (Apple's MDM best practices, "Initial Profiles Should Contain
//! Only the Basics"): root certificates for TLS trust, a SCEP payload for the device identity, and
//! the MDM payload that points at it.

use super::new_uuid;
use plist::{Dictionary, Value};

/// The keys every payload has.
fn common(payload_type: &str, identifier: &str, uuid: &str, display_name: &str) -> Dictionary {
    let mut dict = Dictionary::new();
    dict.insert("PayloadType".into(), payload_type.into());
    dict.insert("PayloadVersion".into(), Value::Integer(1.into()));
    dict.insert("PayloadIdentifier".into(), identifier.into());
    dict.insert("PayloadUUID".into(), uuid.into());
    dict.insert("PayloadDisplayName".into(), display_name.into());
    dict
}

/// A `com.apple.security.root` payload installing a CA certificate (DER) as trusted.
pub fn root_certificate(der: &[u8], identifier: &str, display_name: &str) -> Dictionary {
    let mut dict = common(
        "com.apple.security.root",
        identifier,
        &new_uuid(),
        display_name,
    );
    dict.insert("PayloadCertificateFileName".into(), "root.cer".into());
    dict.insert("PayloadContent".into(), Value::Data(der.to_vec()));
    dict
}

/// A `com.apple.security.scep` payload: the device makes its own key and asks our SCEP server.
#[derive(Debug, Clone)]
pub struct ScepPayload {
    /// PayloadUUID: what the MDM payload's IdentityCertificateUUID names.
    pub uuid: String,
    /// PayloadIdentifier.
    pub identifier: String,
    /// The SCEP URL.
    pub url: String,
    /// The CA's name (the `Name` key; informational for most CAs).
    pub name: String,
    /// The one-time challenge.
    pub challenge: String,
    /// Subject as `(attribute, value)` pairs, e.g. `[("O", "Example"), ("CN", "<UDID>")]`.
    pub subject: Vec<(String, String)>,
    /// RSA key size (2048).
    pub key_size: u32,
}

impl ScepPayload {
    /// A payload with a fresh UUID and a 2048-bit RSA key.
    pub fn new(
        identifier: impl Into<String>,
        url: impl Into<String>,
        challenge: impl Into<String>,
        subject: Vec<(String, String)>,
    ) -> ScepPayload {
        ScepPayload {
            uuid: new_uuid(),
            identifier: identifier.into(),
            url: url.into(),
            name: "MDM Device Identity CA".into(),
            challenge: challenge.into(),
            subject,
            key_size: 2048,
        }
    }

    /// The payload dictionary.
    pub fn to_dictionary(&self) -> Dictionary {
        let mut content = Dictionary::new();
        content.insert("URL".into(), self.url.clone().into());
        content.insert("Name".into(), self.name.clone().into());
        content.insert("Challenge".into(), self.challenge.clone().into());
        // Subject is an array of RDNs, each an array of [type, value] pairs.
        let subject = self
            .subject
            .iter()
            .map(|(kind, value)| {
                Value::Array(vec![Value::Array(vec![
                    kind.clone().into(),
                    value.clone().into(),
                ])])
            })
            .collect();
        content.insert("Subject".into(), Value::Array(subject));
        content.insert("Keysize".into(), Value::Integer(self.key_size.into()));
        content.insert("Key Type".into(), "RSA".into());
        // 1 = signing, 4 = encryption: the identity signs TLS handshakes and decrypts profiles.
        content.insert("Key Usage".into(), Value::Integer(5.into()));
        let mut dict = common(
            "com.apple.security.scep",
            &self.identifier,
            &self.uuid,
            "Device Identity (SCEP)",
        );
        dict.insert("PayloadContent".into(), Value::Dictionary(content));
        dict
    }
}

/// Every MDM access right (AccessRights 8191 = all bits 1..4096).
pub const ALL_ACCESS_RIGHTS: u64 = 8191;

/// The server capabilities this server implements.
pub const SERVER_CAPABILITIES: [&str; 3] = [
    "com.apple.mdm.per-user-connections",
    "com.apple.mdm.bootstraptoken",
    "com.apple.mdm.token",
];

/// A `com.apple.mdm` payload.
#[derive(Debug, Clone)]
pub struct MdmPayload {
    /// PayloadIdentifier.
    pub identifier: String,
    /// ServerURL: where the command channel connects.
    pub server_url: String,
    /// CheckInURL (without it, check-ins go to the ServerURL).
    pub check_in_url: Option<String>,
    /// Topic: the push certificate's UID.
    pub topic: String,
    /// IdentityCertificateUUID: the PayloadUUID of the identity (SCEP) payload.
    pub identity_certificate_uuid: String,
    /// SignMessage: send Mdm-Signature headers (for load balancers that terminate TLS).
    pub sign_message: bool,
    /// CheckOutWhenRemoved.
    pub check_out_when_removed: bool,
    /// AccessRights bit mask.
    pub access_rights: u64,
    /// ServerCapabilities.
    pub server_capabilities: Vec<String>,
}

impl MdmPayload {
    /// The payload dictionary.
    pub fn to_dictionary(&self) -> Dictionary {
        let mut dict = common(
            "com.apple.mdm",
            &self.identifier,
            &new_uuid(),
            "Mobile Device Management",
        );
        dict.insert("ServerURL".into(), self.server_url.clone().into());
        if let Some(url) = &self.check_in_url {
            dict.insert("CheckInURL".into(), url.clone().into());
        }
        dict.insert("Topic".into(), self.topic.clone().into());
        dict.insert(
            "IdentityCertificateUUID".into(),
            self.identity_certificate_uuid.clone().into(),
        );
        dict.insert("SignMessage".into(), Value::Boolean(self.sign_message));
        dict.insert(
            "CheckOutWhenRemoved".into(),
            Value::Boolean(self.check_out_when_removed),
        );
        dict.insert(
            "AccessRights".into(),
            Value::Integer(self.access_rights.into()),
        );
        let capabilities = self
            .server_capabilities
            .iter()
            .cloned()
            .map(Value::String)
            .collect();
        dict.insert("ServerCapabilities".into(), Value::Array(capabilities));
        dict
    }
}
