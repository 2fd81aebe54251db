//! The exact bytes of the parts that signatures and fingerprints cover.
//!
//! Decoding into `cms` and `x509-cert` types loses the original bytes: the `der` crate sorts the
//! elements of a SET OF as it reads them, and re-encoding a decoded certificate is not guaranteed
//! to reproduce it. But a signature covers the bytes its signer produced, and the SHA-256 that
//! binds a certificate to an enrollment is of the certificate as sent. So these few parts are cut
//! out of the (already normalised, already decoded) DER by position instead.

/// The tag of a SEQUENCE, a SET, and of the `[0]` context-specific constructed tag that marks both
/// the certificate set of a `SignedData` and the signed attributes of a `SignerInfo`.
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const CONTEXT_0: u8 = 0xa0;

/// The parts of a `ContentInfo` holding `SignedData`, as the bytes they were sent as.
pub(crate) struct RawParts<'a> {
    /// Each certificate of the certificate set, in the order sent.
    pub certificates: Vec<&'a [u8]>,
    /// The signed attributes of the first `SignerInfo`, re-tagged as the SET OF that its signature
    /// covers (RFC 5652 §5.4: the `[0] IMPLICIT` tag is replaced by the SET OF tag).
    pub signed_attrs: Option<Vec<u8>>,
}

/// Cuts the certificates and signed attributes out of a DER `ContentInfo`. `None` if the
/// structure is not the one the `cms` decoder has just accepted.
pub(crate) fn signed_data_parts(content_info: &[u8]) -> Option<RawParts<'_>> {
    let content_info = single(content_info, SEQUENCE)?;
    let explicit = *elements(content_info)?.get(1)?;
    let signed_data = elements(single(explicit.raw, CONTEXT_0)?)?;
    let signed_data = elements(single(signed_data.first()?.raw, SEQUENCE)?)?;
    let certificates = match signed_data.iter().find(|e| e.tag == CONTEXT_0) {
        Some(set) => elements(set.content)?
            .into_iter()
            .filter(|e| e.tag == SEQUENCE)
            .map(|e| e.raw)
            .collect(),
        None => Vec::new(),
    };
    let signer_infos = signed_data.last().filter(|e| e.tag == SET)?;
    let signer_info = elements(signer_infos.content)?.into_iter().next()?;
    let signed_attrs = elements(signer_info.content)?
        .into_iter()
        .find(|e| e.tag == CONTEXT_0)
        .map(|attrs| {
            let mut set = attrs.raw.to_vec();
            set[0] = SET;
            set
        });
    Some(RawParts {
        certificates,
        signed_attrs,
    })
}

/// The `tbsCertificate` of a DER certificate: the bytes its issuer signed.
pub(crate) fn tbs_certificate(certificate: &[u8]) -> Option<&[u8]> {
    let fields = elements(single(certificate, SEQUENCE)?)?;
    fields.first().filter(|e| e.tag == SEQUENCE).map(|e| e.raw)
}

/// One DER element.
#[derive(Clone, Copy)]
struct Element<'a> {
    /// The first identifier octet.
    tag: u8,
    /// The contents.
    content: &'a [u8],
    /// The whole encoding: identifier, length and contents.
    raw: &'a [u8],
}

/// The contents of `bytes` if it is exactly one element with tag `tag`.
fn single(bytes: &[u8], tag: u8) -> Option<&[u8]> {
    match elements(bytes)?.as_slice() {
        [only] if only.tag == tag => Some(only.content),
        _ => None,
    }
}

/// Splits a run of DER elements (definite lengths only).
fn elements(mut bytes: &[u8]) -> Option<Vec<Element<'_>>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let tag = bytes[0];
        let mut pos = 1;
        if tag & 0x1f == 0x1f {
            while bytes.get(pos)? & 0x80 != 0 {
                pos += 1;
            }
            pos += 1;
        }
        let first = *bytes.get(pos)?;
        pos += 1;
        let len = match first {
            0x00..=0x7f => usize::from(first),
            0x81..=0x84 => {
                let count = usize::from(first & 0x7f);
                let len = bytes
                    .get(pos..pos + count)?
                    .iter()
                    .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
                pos += count;
                len
            }
            _ => return None,
        };
        let end = pos.checked_add(len).filter(|&end| end <= bytes.len())?;
        out.push(Element {
            tag,
            content: &bytes[pos..end],
            raw: &bytes[..end],
        });
        bytes = &bytes[end..];
    }
    Some(out)
}
