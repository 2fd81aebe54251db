//! BER to DER, for the parts of DER the `cms` crate insists on.
//!
//! Real macOS signatures are BER with indefinite lengths (`30 80 … 00 00`); the `der` crate reads
//! DER only. [`ber_to_der`] rewrites the encoding and nothing else:
//! - every length becomes definite and minimal (indefinite `80 … 00 00`, and long forms with
//!   leading zeros, are what BER allows and DER does not);
//! - a constructed universal OCTET STRING (`24 …`, a string sent in chunks) becomes one primitive
//!   OCTET STRING holding the chunks' bytes in order.
//!
//! Everything else is copied byte for byte: tags, the contents of primitive elements, and the order
//! of SET elements. That matters because signatures cover encodings: a certificate or a set of
//! signed attributes that is already DER, as its signer had to produce it, comes out unchanged, so
//! its signature still verifies. Input that is already DER comes out identical.
//!
//! The work is bounded: nesting is limited to [`MAX_BER_DEPTH`] levels (recursion depth here is
//! the same), and time and memory are linear in the input. So is the work of the decoders after
//! it, thanks to one more limit: a constructed element other than a SEQUENCE (a SET, or a tagged
//! SET such as a certificate set or signed attributes) holds at most [`MAX_SET_ELEMENTS`]
//! elements. The `der` crate sorts every SET OF it decodes by insertion sort, so 3,000 elements in
//! descending order (12 KB) cost 1.7 s of CPU in a release build, before any signature is checked.
//! Real signatures have at most a handful of certificates, attributes and values per SET. The output is never longer than the
//! input while elements are under 64 KiB: a minimal definite length takes at most the three bytes
//! that `80` and `00 00` took, and chunk headers only disappear. Only an indefinite-length element
//! of 64 KiB or more grows, by a byte or two (and its containers' lengths with it); a signature
//! header is far below that.

use super::{SignatureError, MAX_BER_DEPTH};

/// The most elements a constructed element other than a SEQUENCE or a chunked OCTET STRING may
/// hold (see the module docs: SETs are sorted in quadratic time when decoded).
pub const MAX_SET_ELEMENTS: usize = 32;

/// The universal tag of a SEQUENCE.
const SEQUENCE: u8 = 0x30;
/// The universal tag of a primitive OCTET STRING, and of a constructed one.
const OCTET_STRING: u8 = 0x04;
const OCTET_STRING_CONSTRUCTED: u8 = 0x24;
/// The constructed bit of an identifier octet.
const CONSTRUCTED: u8 = 0x20;
/// Tag numbers are at most four base-128 digits (2^28), far beyond any real tag.
const MAX_TAG_BYTES: usize = 5;
/// Lengths are at most four bytes long: a longer length cannot fit in a bounded input anyway.
const MAX_LENGTH_BYTES: usize = 4;

/// Rewrites one BER element (the whole of `input`) as DER, as described in the module docs.
///
/// Refuses input that is not exactly one well-formed element ([`SignatureError::MalformedBer`]) or
/// that nests deeper than [`MAX_BER_DEPTH`] levels ([`SignatureError::BerTooDeep`]); the outermost
/// element is level 1.
pub fn ber_to_der(input: &[u8]) -> Result<Vec<u8>, SignatureError> {
    let mut parser = Parser {
        input,
        nodes: Vec::new(),
    };
    let (end, _) = parser.element(0, input.len(), 1)?;
    if end != input.len() {
        return Err(malformed(end, "bytes follow the outermost element"));
    }
    let mut out = Vec::with_capacity(input.len());
    parser.emit(0, &mut out);
    Ok(out)
}

/// One element, in pre-order: its descendants are the nodes after it, up to `end`.
struct Node {
    /// The identifier octets, as found in the input.
    tag: (usize, usize),
    /// What the element holds.
    kind: Kind,
    /// The length of its contents in the output.
    content_len: usize,
    /// The index just past its last descendant.
    end: usize,
}

enum Kind {
    /// A primitive element and its contents (start, end) in the input.
    Primitive(usize, usize),
    /// A constructed element: the following nodes up to `end` are its descendants.
    Constructed,
    /// A constructed OCTET STRING: its primitive descendants are chunks of one string.
    Chunked,
}

struct Parser<'a> {
    input: &'a [u8],
    nodes: Vec<Node>,
}

impl Parser<'_> {
    /// Parses the element at `pos`, which must end by `limit`. Returns where it ends and the
    /// length of its DER encoding.
    fn element(
        &mut self,
        pos: usize,
        limit: usize,
        depth: usize,
    ) -> Result<(usize, usize), SignatureError> {
        if depth > MAX_BER_DEPTH {
            return Err(SignatureError::BerTooDeep {
                limit: MAX_BER_DEPTH,
            });
        }
        let tag_end = self.tag(pos, limit)?;
        let first = self.input[pos];
        let (length, content_start) = self.length(tag_end, limit)?;
        let index = self.nodes.len();
        self.nodes.push(Node {
            tag: (pos, tag_end),
            kind: Kind::Constructed,
            content_len: 0,
            end: 0,
        });

        let (end, content_len) = if first & CONSTRUCTED == 0 {
            let Some(length) = length else {
                return Err(malformed(
                    tag_end,
                    "a primitive element has an indefinite length",
                ));
            };
            if first == 0 {
                // `00 00` where no indefinite-length element is open, or tag 0 with contents.
                return Err(malformed(pos, "misplaced end-of-contents (tag 0)"));
            }
            let end = content_start + length;
            self.nodes[index].kind = Kind::Primitive(content_start, end);
            (end, length)
        } else {
            let chunked = first == OCTET_STRING_CONSTRUCTED;
            if chunked {
                self.nodes[index].kind = Kind::Chunked;
            }
            self.children(first, content_start, length, limit, depth)?
        };
        let descendants_end = self.nodes.len();
        let node = &mut self.nodes[index];
        node.content_len = content_len;
        node.end = descendants_end;
        let tag_len = if matches!(node.kind, Kind::Chunked) {
            1
        } else {
            tag_end - pos
        };
        Ok((end, tag_len + length_len(content_len) + content_len))
    }

    /// Parses the contents of a constructed element whose first identifier octet is `tag`.
    /// Returns where the element ends and the length of its DER contents (for a chunked string,
    /// the total of its chunks).
    fn children(
        &mut self,
        tag: u8,
        start: usize,
        length: Option<usize>,
        limit: usize,
        depth: usize,
    ) -> Result<(usize, usize), SignatureError> {
        let chunked = tag == OCTET_STRING_CONSTRUCTED;
        // A SEQUENCE (OF) is decoded in linear time and a chunked string is concatenated;
        // anything else may be a SET OF, which the decoder sorts.
        let bounded = !chunked && tag != SEQUENCE;
        let inner_limit = length.map_or(limit, |length| start + length);
        let mut pos = start;
        let mut content_len = 0usize;
        let mut count = 0;
        loop {
            if length.is_some() && pos == inner_limit {
                return Ok((pos, content_len));
            }
            if length.is_none() && self.input[pos..limit].starts_with(&[0, 0]) {
                return Ok((pos + 2, content_len));
            }
            if pos >= inner_limit {
                return Err(malformed(
                    pos,
                    "an indefinite-length element has no end-of-contents",
                ));
            }
            count += 1;
            if bounded && count > MAX_SET_ELEMENTS {
                return Err(SignatureError::SetTooLarge {
                    limit: MAX_SET_ELEMENTS,
                });
            }
            if chunked && !matches!(self.input[pos], OCTET_STRING | OCTET_STRING_CONSTRUCTED) {
                return Err(malformed(
                    pos,
                    "a chunked OCTET STRING holds something else",
                ));
            }
            let child = self.nodes.len();
            let (end, der_len) = self.element(pos, inner_limit, depth + 1)?;
            let added = if chunked {
                self.nodes[child].content_len
            } else {
                der_len
            };
            // Cannot overflow: every output byte comes from a distinct input byte, but for the
            // few bytes of longer lengths described in the module docs.
            content_len = content_len.saturating_add(added);
            pos = end;
        }
    }

    /// Checks the identifier octets at `pos`; returns where they end.
    fn tag(&self, pos: usize, limit: usize) -> Result<usize, SignatureError> {
        let Some(&first) = self.input[..limit].get(pos) else {
            return Err(malformed(
                pos,
                "the input ends where an element should start",
            ));
        };
        if first & 0x1f != 0x1f {
            return Ok(pos + 1);
        }
        // High tag number form: base-128 digits, high bit set on all but the last.
        for (i, &byte) in self.input[..limit].iter().enumerate().skip(pos + 1) {
            if i == pos + 1 && (byte == 0x80 || byte < 0x1f) {
                return Err(malformed(i, "a tag number is not minimally encoded"));
            }
            if i - pos >= MAX_TAG_BYTES {
                return Err(malformed(i, "a tag number is too large"));
            }
            if byte & 0x80 == 0 {
                return Ok(i + 1);
            }
        }
        Err(malformed(limit, "the input ends inside a tag"))
    }

    /// Reads the length octets at `pos`: `None` for indefinite. Returns it and where the contents
    /// start, having checked that definite contents fit before `limit`.
    fn length(&self, pos: usize, limit: usize) -> Result<(Option<usize>, usize), SignatureError> {
        let Some(&first) = self.input[..limit].get(pos) else {
            return Err(malformed(pos, "the input ends before a length"));
        };
        let (length, start) = match first {
            0x80 => return Ok((None, pos + 1)),
            0x00..=0x7f => (usize::from(first), pos + 1),
            0xff => return Err(malformed(pos, "reserved length octet 0xff")),
            _ => {
                let count = usize::from(first & 0x7f);
                if count > MAX_LENGTH_BYTES {
                    return Err(malformed(pos, "a length is longer than four bytes"));
                }
                let Some(bytes) = self.input[..limit].get(pos + 1..pos + 1 + count) else {
                    return Err(malformed(pos, "the input ends inside a length"));
                };
                let length = bytes
                    .iter()
                    .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
                (length, pos + 1 + count)
            }
        };
        if length > limit - start {
            return Err(malformed(
                pos,
                "a length runs past the end of its container",
            ));
        }
        Ok((Some(length), start))
    }

    /// Writes node `index` and its descendants as DER; returns the index after them.
    fn emit(&self, index: usize, out: &mut Vec<u8>) -> usize {
        let node = &self.nodes[index];
        match node.kind {
            Kind::Primitive(start, end) => {
                out.extend_from_slice(&self.input[node.tag.0..node.tag.1]);
                write_length(out, node.content_len);
                out.extend_from_slice(&self.input[start..end]);
            }
            Kind::Constructed => {
                out.extend_from_slice(&self.input[node.tag.0..node.tag.1]);
                write_length(out, node.content_len);
                let mut child = index + 1;
                while child < node.end {
                    child = self.emit(child, out);
                }
            }
            Kind::Chunked => {
                out.push(OCTET_STRING);
                write_length(out, node.content_len);
                for chunk in &self.nodes[index + 1..node.end] {
                    if let Kind::Primitive(start, end) = chunk.kind {
                        out.extend_from_slice(&self.input[start..end]);
                    }
                }
            }
        }
        node.end
    }
}

/// How many bytes the minimal DER length octets for `len` take.
fn length_len(len: usize) -> usize {
    if len < 0x80 {
        1
    } else {
        1 + (usize::BITS - len.leading_zeros()).div_ceil(8) as usize
    }
}

fn write_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let count = length_len(len) - 1;
    out.push(0x80 | count as u8);
    out.extend_from_slice(&len.to_be_bytes()[size_of::<usize>() - count..]);
}

fn malformed(offset: usize, reason: &'static str) -> SignatureError {
    SignatureError::MalformedBer { offset, reason }
}

#[cfg(test)]
mod tests;
