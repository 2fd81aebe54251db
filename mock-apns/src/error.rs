//! The one error type of the mock APNs.

/// Why the mock APNs could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A PEM input holds no usable certificate or key.
    #[error("{what}: {why}")]
    Pem {
        /// Which input (server certificate, server key, client CA).
        what: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// rustls refused the TLS material.
    #[error("TLS set-up: {0}")]
    Tls(#[from] rustls::Error),
    /// The client-certificate verifier could not be built from the CA.
    #[error("client CA: {0}")]
    Verifier(String),
    /// Binding the listener or starting the runtime failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}
