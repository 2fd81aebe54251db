//! The device's SCEP client: what a SCEP payload makes a device do. GetCACaps (to pick the
//! envelope cipher and POST or GET), GetCACert, then a PKCSReq for a fresh RSA key with the
//! payload's subject and challenge, signed by a throwaway self-signed certificate; the CertRep
//! is checked (the CA's signature, our transaction and nonce) and decrypted with the key.

use super::error::{EnrollmentError, Step};
use super::profile::ScepSettings;
use super::wire::{self, Wire};
use base64::Engine;
use mdm_pki::pki;
use mdm_pki::scep::client::{self, RequestOptions};
use mdm_pki::scep::{csr, ContentCipher, Digest, PkiStatus, Signer};
use openssl::pkey::{PKey, Private};
use openssl::x509::{X509Name, X509};

/// A certificate and the key it was issued for.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The issued certificate.
    pub cert: X509,
    /// The device's key.
    pub key: PKey<Private>,
}

/// What GetCACaps advertised that changes what the device sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Caps {
    post: bool,
    aes: bool,
}

impl Caps {
    fn parse(text: &str) -> Caps {
        let has = |cap: &str| {
            text.lines()
                .any(|line| line.trim().eq_ignore_ascii_case(cap))
        };
        Caps {
            post: has("POSTPKIOperation") || has("SCEPStandard"),
            aes: has("AES") || has("SCEPStandard"),
        }
    }
}

/// Enrolls with the SCEP server a payload names; answers the new identity.
pub async fn obtain(
    wire: &Wire,
    step: Step,
    settings: &ScepSettings,
) -> Result<Identity, EnrollmentError> {
    let url = |operation: &str| {
        let mut url = wire::parse(step, &settings.url)?;
        url.query_pairs_mut().append_pair("operation", operation);
        Ok::<_, EnrollmentError>(url)
    };
    let caps = wire.get(step, "GetCACaps", url("GetCACaps")?).await?;
    let caps = Caps::parse(&String::from_utf8_lossy(&caps.body));
    let ca = wire.get(step, "GetCACert", url("GetCACert")?).await?;
    let ca = X509::from_der(&ca.body).map_err(|e| {
        EnrollmentError::unexpected(
            step,
            format!(
                "GetCACert answered {:?}, not one DER certificate: {e}",
                ca.content_type
            ),
        )
    })?;

    let device = |e: openssl::error::ErrorStack| EnrollmentError::device(step, e);
    let key = super::keys::key(settings.key_size).await.map_err(device)?;
    let subject = subject(step, settings)?;
    let signer_cert = pki::self_signed_signer(&key, &subject).map_err(device)?;
    let signer = Signer {
        cert: &signer_cert,
        key: &key,
    };
    let csr = csr::build(&key, &subject, Some(&settings.challenge), 0, Digest::Sha256)
        .map_err(|e| EnrollmentError::device(step, e))?;
    let options = RequestOptions {
        cipher: if caps.aes {
            ContentCipher::Aes256Cbc
        } else {
            ContentCipher::DesEde3Cbc
        },
        ..RequestOptions::default()
    };
    let request = client::build_request(&csr, signer, &ca, &options)
        .map_err(|e| EnrollmentError::device(step, e))?;
    let reply = if caps.post {
        wire.post(
            step,
            "PKIOperation",
            url("PKIOperation")?,
            "application/x-pki-message",
            request.message.clone(),
        )
        .await?
    } else {
        let mut get = url("PKIOperation")?;
        let message = base64::engine::general_purpose::STANDARD.encode(&request.message);
        get.query_pairs_mut().append_pair("message", &message);
        wire.get(step, "PKIOperation", get).await?
    };
    let rep = client::read_cert_rep(&reply.body, &ca, signer, &request)
        .map_err(|e| EnrollmentError::unexpected(step, format!("CertRep: {e}")))?;
    if rep.status != PkiStatus::Success {
        return Err(EnrollmentError::ScepFailure {
            step,
            status: rep.status,
            fail_info: rep.fail_info,
            text: rep.fail_info_text,
        });
    }
    // The issued certificate is the one for our key, wherever it is in the reply.
    let cert = rep
        .certificates
        .into_iter()
        .find(|c| c.public_key().is_ok_and(|public| public.public_eq(&key)))
        .ok_or_else(|| {
            EnrollmentError::unexpected(step, "the CertRep holds no certificate for our key")
        })?;
    Ok(Identity { cert, key })
}

/// The payload's subject as an X.509 name (`CN=simulated device` when it names none).
fn subject(step: Step, settings: &ScepSettings) -> Result<X509Name, EnrollmentError> {
    let mut name = X509Name::builder().map_err(|e| EnrollmentError::device(step, e))?;
    for (kind, value) in &settings.subject {
        name.append_entry_by_text(kind, value).map_err(|e| {
            EnrollmentError::unexpected(step, format!("Subject {kind}={value:?}: {e}"))
        })?;
    }
    if settings.subject.is_empty() {
        name.append_entry_by_text("CN", "simulated device")
            .map_err(|e| EnrollmentError::device(step, e))?;
    }
    Ok(name.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_choose_post_and_aes_when_offered() {
        let ours = Caps::parse(mdm_pki::scep::CA_CAPS);
        assert_eq!(
            ours,
            Caps {
                post: true,
                aes: true
            }
        );
        let old = Caps::parse("SHA-1\nDES3\n");
        assert_eq!(
            old,
            Caps {
                post: false,
                aes: false
            }
        );
    }

    #[test]
    fn the_payload_subject_becomes_the_csr_subject() {
        let settings = ScepSettings {
            url: "https://h/scep".into(),
            challenge: "c".into(),
            subject: vec![("O".into(), "Org".into()), ("CN".into(), "UDID-1".into())],
            key_size: 2048,
        };
        let name = subject(Step::MdmIdentity, &settings).expect("name");
        assert_eq!(pki::common_name(&name).as_deref(), Some("UDID-1"));
        let bad = ScepSettings {
            subject: vec![("NOT-AN-ATTRIBUTE".into(), "x".into())],
            ..settings
        };
        assert!(subject(Step::MdmIdentity, &bad).is_err());
    }
}
