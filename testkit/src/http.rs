//! HTTPS clients for tests: trust only the test CA, optionally present a client certificate.

use std::time::Duration;

/// Request timeout of clients from [`https_client`].
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// A reqwest client (rustls) that trusts `ca_pem` and nothing else, presents the client
/// identity `identity_pem` (certificate + PKCS#8 key PEM, e.g. [`Issued::identity_pem`]) if
/// given, speaks HTTP/1.1 only, and times requests out after 10 s. Panics if the PEM is invalid.
///
/// [`Issued::identity_pem`]: crate::pki::Issued::identity_pem
pub fn https_client(ca_pem: &str, identity_pem: Option<&str>) -> reqwest::Client {
    https_client_builder(ca_pem, identity_pem)
        .http1_only()
        .build()
        .expect("build the test HTTPS client")
}

/// The builder behind [`https_client`], without `http1_only`: for a test that wants HTTP/2
/// (ALPN) or other settings. Panics if the PEM is invalid.
pub fn https_client_builder(ca_pem: &str, identity_pem: Option<&str>) -> reqwest::ClientBuilder {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes())
        .expect("parse the CA certificate PEM given to https_client");
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .timeout(CLIENT_TIMEOUT)
        .connect_timeout(CLIENT_TIMEOUT);
    if let Some(pem) = identity_pem {
        let identity = reqwest::Identity::from_pem(pem.as_bytes()).expect(
            "parse the client identity PEM (certificate + private key) given to https_client",
        );
        builder = builder.identity(identity);
    }
    builder
}

#[cfg(test)]
mod tests;
