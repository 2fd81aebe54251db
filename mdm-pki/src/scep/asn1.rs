//! The little DER this crate reads and writes itself: SCEP attributes, CSR attributes and the
//! outer layers of CMS structures.
//!
//! OpenSSL's Rust bindings verify, decrypt and sign, but expose neither signed attributes nor CSR
//! attributes, and cannot add custom signed attributes. Strict ASN.1 crates refuse what real
//! clients send (a CSR with version 2). So this is a small, lenient TLV walker: single-byte tags,
//! definite lengths (BER input is first re-encoded by OpenSSL, see `signed::normalise`), every
//! length checked against the input, no recursion.

use super::ScepError;

/// Universal and context tags used here.
pub mod tag {
    /// INTEGER
    pub const INTEGER: u8 = 0x02;
    /// BIT STRING
    pub const BIT_STRING: u8 = 0x03;
    /// OCTET STRING
    pub const OCTET_STRING: u8 = 0x04;
    /// NULL
    pub const NULL: u8 = 0x05;
    /// OBJECT IDENTIFIER
    pub const OID: u8 = 0x06;
    /// UTF8String
    pub const UTF8_STRING: u8 = 0x0c;
    /// PrintableString
    pub const PRINTABLE_STRING: u8 = 0x13;
    /// T61String (TeletexString)
    pub const T61_STRING: u8 = 0x14;
    /// IA5String
    pub const IA5_STRING: u8 = 0x16;
    /// UniversalString (UCS-4)
    pub const UNIVERSAL_STRING: u8 = 0x1c;
    /// BMPString (UCS-2)
    pub const BMP_STRING: u8 = 0x1e;
    /// SEQUENCE
    pub const SEQUENCE: u8 = 0x30;
    /// SET
    pub const SET: u8 = 0x31;
    /// `[0]` constructed (EXPLICIT, or IMPLICIT over a constructed type)
    pub const CONTEXT_0: u8 = 0xa0;
    /// `[1]` constructed
    pub const CONTEXT_1: u8 = 0xa1;
}

/// One element: its tag, its content octets and its whole encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The identifier octet.
    pub tag: u8,
    /// The content octets.
    pub content: &'a [u8],
    /// Tag, length and content.
    pub raw: &'a [u8],
}

fn malformed(what: &str) -> ScepError {
    ScepError::Malformed(format!("ASN.1: {what}"))
}

/// Reads one element from the front of `input`; returns it and the rest.
pub fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), ScepError> {
    let (&tag, rest) = input.split_first().ok_or_else(|| malformed("truncated"))?;
    if tag & 0x1f == 0x1f {
        return Err(malformed("multi-byte tags are not used by SCEP"));
    }
    let (&first, rest) = rest.split_first().ok_or_else(|| malformed("truncated"))?;
    let (len, rest) = match first {
        0x80 => return Err(malformed("indefinite length")),
        n if n < 0x80 => (usize::from(n), rest),
        n => {
            let count = usize::from(n & 0x7f);
            if count > 4 || rest.len() < count {
                return Err(malformed("bad length"));
            }
            let (bytes, rest) = rest.split_at(count);
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, rest)
        }
    };
    if rest.len() < len {
        return Err(malformed("length past the end of the input"));
    }
    let (content, after) = rest.split_at(len);
    let raw = &input[..input.len() - after.len()];
    Ok((Tlv { tag, content, raw }, after))
}

/// Reads exactly one element, with nothing after it.
pub fn read_only(input: &[u8]) -> Result<Tlv<'_>, ScepError> {
    let (tlv, rest) = read(input)?;
    if !rest.is_empty() {
        return Err(malformed("trailing data"));
    }
    Ok(tlv)
}

/// The elements inside a constructed element's content.
pub fn children(content: &[u8]) -> Result<Vec<Tlv<'_>>, ScepError> {
    let mut items = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (tlv, after) = read(rest)?;
        items.push(tlv);
        rest = after;
    }
    Ok(items)
}

impl<'a> Tlv<'a> {
    /// Fails unless the tag is `expected`.
    pub fn expect(self, expected: u8, what: &str) -> Result<Tlv<'a>, ScepError> {
        if self.tag == expected {
            Ok(self)
        } else {
            Err(malformed(&format!(
                "{what}: tag {:#04x}, expected {expected:#04x}",
                self.tag
            )))
        }
    }

    /// The children of this (constructed) element.
    pub fn children(&self) -> Result<Vec<Tlv<'a>>, ScepError> {
        children(self.content)
    }

    /// A string value of any of the string types X.509 and PKCS#9 allow.
    pub fn text(&self) -> Result<String, ScepError> {
        match self.tag {
            tag::UTF8_STRING | tag::PRINTABLE_STRING | tag::IA5_STRING | tag::T61_STRING => {
                String::from_utf8(self.content.to_vec()).map_err(|_| malformed("string not UTF-8"))
            }
            tag::BMP_STRING => {
                let units: Vec<u16> = self
                    .content
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                    .collect();
                String::from_utf16(&units).map_err(|_| malformed("bad BMPString"))
            }
            tag::UNIVERSAL_STRING => self
                .content
                .chunks(4)
                .map(|c| {
                    let mut b = [0u8; 4];
                    b[..c.len()].copy_from_slice(c);
                    char::from_u32(u32::from_be_bytes(b))
                })
                .collect::<Option<String>>()
                .ok_or_else(|| malformed("bad UniversalString")),
            other => Err(malformed(&format!("tag {other:#04x} is not a string"))),
        }
    }

    /// A small non-negative INTEGER.
    pub fn small_uint(&self) -> Result<u64, ScepError> {
        if self.tag != tag::INTEGER || self.content.is_empty() || self.content.len() > 8 {
            return Err(malformed("not a small INTEGER"));
        }
        if self.content[0] & 0x80 != 0 {
            return Err(malformed("negative INTEGER"));
        }
        Ok(self
            .content
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }
}

/// Encodes one element.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already encoded elements, in order.
pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag::SEQUENCE, &parts.concat())
}

/// A SET OF already encoded elements, sorted as DER requires (a signature over signed
/// attributes is computed on exactly this order, so it must be canonical).
pub fn set_of(mut parts: Vec<Vec<u8>>) -> Vec<u8> {
    parts.sort();
    tlv(tag::SET, &parts.concat())
}

/// An OBJECT IDENTIFIER from its dotted form. Panics only on a malformed constant.
pub fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted
        .split('.')
        .map(|arc| arc.parse().expect("OID constants are well-formed"))
        .collect();
    let mut content = Vec::new();
    let mut push = |mut value: u64| {
        let mut bytes = vec![(value & 0x7f) as u8];
        value >>= 7;
        while value > 0 {
            bytes.push(0x80 | (value & 0x7f) as u8);
            value >>= 7;
        }
        bytes.reverse();
        content.extend_from_slice(&bytes);
    };
    push(arcs[0] * 40 + arcs[1]);
    arcs[2..].iter().for_each(|arc| push(*arc));
    tlv(tag::OID, &content)
}

/// A non-negative INTEGER.
pub fn small_uint(value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
    let mut content = bytes[skip..].to_vec();
    if content[0] & 0x80 != 0 {
        content.insert(0, 0);
    }
    tlv(tag::INTEGER, &content)
}

/// An AlgorithmIdentifier with NULL parameters (the usual form for RSA and SHA-2 in CMS).
pub fn algorithm(dotted: &str) -> Vec<u8> {
    sequence(&[&oid(dotted), &tlv(tag::NULL, &[])])
}

/// An AlgorithmIdentifier with absent parameters (required for ECDSA).
pub fn algorithm_without_parameters(dotted: &str) -> Vec<u8> {
    sequence(&[&oid(dotted)])
}

/// An Attribute: `SEQUENCE { type OID, values SET OF value }` with one value.
pub fn attribute(dotted: &str, value: Vec<u8>) -> Vec<u8> {
    sequence(&[&oid(dotted), &set_of(vec![value])])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_reads_back() {
        let long = vec![7u8; 300];
        let encoded = sequence(&[
            &small_uint(0),
            &tlv(tag::OCTET_STRING, &long),
            &oid("1.2.840.113549.1.9.7"),
        ]);
        let outer = read_only(&encoded).expect("reads");
        let items = outer
            .expect(tag::SEQUENCE, "seq")
            .expect("seq")
            .children()
            .expect("kids");
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].small_uint().expect("int"), 0);
        assert_eq!(items[1].content, &long[..]);
        assert_eq!(
            items[2].raw,
            &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x07]
        );
        assert_eq!(small_uint(128), vec![0x02, 0x02, 0x00, 0x80]);
    }

    #[test]
    fn refuses_what_it_cannot_bound() {
        for bad in [
            &[0x30, 0x80, 0, 0][..],
            &[0x30, 0x05, 1],
            &[0x1f, 0x01, 0x00],
            &[],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
        ] {
            assert!(read(bad).is_err(), "{bad:?}");
        }
        assert!(read_only(&[0x05, 0x00, 0x00]).is_err(), "trailing data");
    }

    #[test]
    fn sets_are_sorted_and_strings_decoded() {
        let set = set_of(vec![vec![0x04, 0x01, 0x02], vec![0x04, 0x01, 0x01]]);
        assert_eq!(set, vec![0x31, 0x06, 0x04, 0x01, 0x01, 0x04, 0x01, 0x02]);
        let bmp = read_only(&[0x1e, 0x04, 0x00, b'h', 0x00, b'i']).expect("bmp");
        assert_eq!(bmp.text().expect("text"), "hi");
    }
}
