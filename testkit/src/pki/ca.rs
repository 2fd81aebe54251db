//! [`TestCa`]: a self-signed CA that issues server and client certificates.

use std::net::IpAddr;
use std::time::SystemTime;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

use super::Issued;

/// Options for [`TestCa::issue_client_with`]; `Default` gives an empty subject, a validity of
/// one hour ago to one year from now, and the clientAuth extended key usage.
#[derive(Clone, Debug, Default)]
pub struct ClientCertOptions {
    /// Subject common name; `None` leaves the subject empty.
    pub common_name: Option<String>,
    /// Start of validity; `None` means one hour ago.
    pub not_before: Option<SystemTime>,
    /// End of validity; `None` means one year from now. Set it in the past for an expired cert.
    pub not_after: Option<SystemTime>,
    /// Extended key usages; `None` means clientAuth only. `Some(vec![])` omits the extension.
    pub extended_key_usages: Option<Vec<ExtendedKeyUsagePurpose>>,
}

/// A throwaway certificate authority: a self-signed CA certificate and its key.
pub struct TestCa {
    cert: Certificate,
    key: KeyPair,
}

impl TestCa {
    /// A self-signed CA (basicConstraints CA:TRUE, keyCertSign + cRLSign) named `common_name`,
    /// valid from one hour ago for ten years.
    pub fn new(common_name: &str) -> TestCa {
        let key = KeyPair::generate().expect("generate an ECDSA P-256 key for the test CA");
        let mut params = CertificateParams::default();
        params.distinguished_name = subject(Some(common_name));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(3650);
        let cert = params
            .self_signed(&key)
            .expect("self-sign the test CA certificate");
        TestCa { cert, key }
    }

    /// The CA's private key, PEM (PKCS#8): for a tool that issues certificates itself.
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// The CA certificate, PEM: what a client or server is told to trust.
    pub fn cert_pem(&self) -> String {
        self.cert.pem()
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> Vec<u8> {
        self.cert.der().to_vec()
    }

    /// A server certificate (serverAuth) for `names`: each name that parses as an IP address
    /// (`"127.0.0.1"`, `"::1"`) becomes an IP SAN, the others DNS SANs. The subject CN is the
    /// first name. Valid from one hour ago to one year from now.
    pub fn issue_server(&self, names: &[&str]) -> Issued {
        let mut params = CertificateParams::default();
        params.distinguished_name = subject(names.first().copied());
        params.subject_alt_names = names
            .iter()
            .map(|name| match name.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(
                    (*name)
                        .try_into()
                        .unwrap_or_else(|e| panic!("{name:?} is not a valid DNS name: {e}")),
                ),
            })
            .collect();
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(365);
        self.sign(params)
    }

    /// A client certificate: CN=`common_name`, clientAuth, digitalSignature + keyEncipherment,
    /// valid from one hour ago to one year from now.
    pub fn issue_client(&self, common_name: &str) -> Issued {
        self.issue_client_with(ClientCertOptions {
            common_name: Some(common_name.to_owned()),
            ..ClientCertOptions::default()
        })
    }

    /// A client certificate with overrides: empty subject, other validity (an expired
    /// certificate), other extended key usages (serverAuth only). See [`ClientCertOptions`].
    pub fn issue_client_with(&self, opts: ClientCertOptions) -> Issued {
        let mut params = CertificateParams::default();
        params.distinguished_name = subject(opts.common_name.as_deref());
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = opts
            .extended_key_usages
            .unwrap_or_else(|| vec![ExtendedKeyUsagePurpose::ClientAuth]);
        let now = OffsetDateTime::now_utc();
        params.not_before = opts
            .not_before
            .map_or(now - Duration::hours(1), OffsetDateTime::from);
        params.not_after = opts
            .not_after
            .map_or(now + Duration::days(365), OffsetDateTime::from);
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Issued {
        let key = KeyPair::generate().expect("generate an ECDSA P-256 key for a test certificate");
        self.sign_for(params, &key)
    }

    /// Signs `params` for the public half of `key`; the issued key PEM is `key`'s.
    pub(super) fn sign_for(&self, mut params: CertificateParams, key: &KeyPair) -> Issued {
        params.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(key, &self.cert, &self.key)
            .expect("sign a test certificate with the test CA");
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().to_vec(),
        }
    }
}

/// A subject with only a common name, or an empty one.
fn subject(common_name: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    if let Some(cn) = common_name {
        dn.push(DnType::CommonName, cn);
    }
    dn
}
