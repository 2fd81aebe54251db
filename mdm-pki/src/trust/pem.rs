//! The `CERTIFICATE` blocks of a PEM file, as DER.

use super::TrustError;

/// Every `CERTIFICATE` block of `pem`, in order. Text around the blocks (the comments some bundles
/// carry) is ignored, as are blocks of other kinds; a file with no certificate is an error.
pub(super) fn certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, TrustError> {
    let invalid = |reason: String| TrustError::InvalidPem { reason };
    let text = std::str::from_utf8(pem).map_err(|_| invalid("not UTF-8 text".to_owned()))?;
    let mut certs = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        let end = block
            .find("-----END ")
            .and_then(|end| {
                block[end + 9..]
                    .find("-----")
                    .map(|dash| end + 9 + dash + 5)
            })
            .ok_or_else(|| invalid("a PEM block has no END line".to_owned()))?;
        let (label, der) = x509_cert::der::pem::decode_vec(&block.as_bytes()[..end])
            .map_err(|e| invalid(e.to_string()))?;
        if label == "CERTIFICATE" {
            certs.push(der);
        }
        rest = &block[end..];
    }
    if certs.is_empty() {
        return Err(invalid("no CERTIFICATE block".to_owned()));
    }
    Ok(certs)
}
