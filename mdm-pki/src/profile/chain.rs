//! Verifying a device's certificate against a device CA bundle (Apple Root CA → Apple iPhone
//! Certification Authority → Apple iPhone Device CA, or a test CA in its place).
//!
//! Apple's two intermediates expired in 2022 and 2014 yet still sign every device certificate
//! (docs/architecture.md §11), so their validity period must not be checked; everything else's
//! must. OpenSSL verifies the path and signatures with its time check off, then this module
//! checks the time of every certificate on the path except the bundle's intermediates.

use super::ProfileError;
use openssl::asn1::Asn1Time;
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509Ref, X509StoreContext, X509};

/// Apple's public device CAs (`mdm-pki/certs/apple/`, with their provenance): the default anchor
/// for certificates built into Apple devices, which sign OTA phase 2.
pub const APPLE_DEVICE_CAS: &str = concat!(
    include_str!("../../certs/apple/apple_root_ca.pem"),
    include_str!("../../certs/apple/apple_iphone_ca.pem"),
    include_str!("../../certs/apple/apple_iphone_device_ca.pem"),
);

/// Trust anchors for device certificates.
#[derive(Debug, Clone)]
pub struct DeviceCaBundle {
    roots: Vec<X509>,
    intermediates: Vec<X509>,
}

impl DeviceCaBundle {
    /// A bundle from PEM text: self-signed certificates become roots, the others intermediates
    /// whose validity period is not checked.
    pub fn from_pem(pem: &[u8]) -> Result<DeviceCaBundle, ProfileError> {
        let certs = X509::stack_from_pem(pem)?;
        if certs.is_empty() {
            return Err(ProfileError::Chain(
                "the device CA bundle holds no certificate".into(),
            ));
        }
        let (mut roots, mut intermediates) = (Vec::new(), Vec::new());
        for cert in certs {
            let self_signed = cert.issued(&cert) == openssl::x509::X509VerifyResult::OK
                && cert
                    .public_key()
                    .and_then(|k| cert.verify(&k))
                    .unwrap_or(false);
            if self_signed {
                roots.push(cert);
            } else {
                intermediates.push(cert);
            }
        }
        if roots.is_empty() {
            return Err(ProfileError::Chain(
                "the device CA bundle has no root".into(),
            ));
        }
        Ok(DeviceCaBundle {
            roots,
            intermediates,
        })
    }

    /// How many roots and (time-exempt) intermediates the bundle holds.
    pub fn counts(&self) -> (usize, usize) {
        (self.roots.len(), self.intermediates.len())
    }

    /// Verifies `leaf` (with `supplied` certificates from the message as candidate
    /// intermediates) up to a root of the bundle, at Unix time `now`.
    pub fn verify(&self, leaf: &X509Ref, supplied: &[X509], now: i64) -> Result<(), ProfileError> {
        let mut store = X509StoreBuilder::new()?;
        for root in &self.roots {
            store.add_cert(root.clone())?;
        }
        store.set_flags(X509VerifyFlags::NO_CHECK_TIME)?;
        let store = store.build();
        let mut untrusted = Stack::<X509>::new()?;
        for cert in self.intermediates.iter().chain(supplied) {
            untrusted.push(cert.clone())?;
        }
        let mut context = X509StoreContext::new()?;
        let path = context.init(&store, leaf, &untrusted, |ctx| {
            if ctx.verify_cert()? {
                Ok(Ok(ctx
                    .chain()
                    .map(|chain| chain.iter().map(X509Ref::to_owned).collect::<Vec<_>>())
                    .unwrap_or_default()))
            } else {
                Ok(Err(ctx.error().error_string().to_string()))
            }
        })?;
        let path = path.map_err(|why| ProfileError::Chain(format!("device certificate: {why}")))?;
        let at = Asn1Time::from_unix(now)?;
        for cert in &path {
            let exempt = self
                .intermediates
                .iter()
                .any(|i| i.to_der().ok() == cert.to_der().ok());
            if exempt {
                continue;
            }
            if cert.not_before() > at || cert.not_after() < at {
                return Err(ProfileError::Chain(format!(
                    "{:?} is outside its validity period",
                    crate::pki::common_name(cert.subject_name()).unwrap_or_default()
                )));
            }
        }
        Ok(())
    }
}
