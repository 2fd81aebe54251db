//! Skipping what comes before the root element of an XML plist.
//!
//! Done by hand rather than by `quick-xml` because real-world prologs are sloppier than XML
//! allows and the conformance cases expect them accepted: `<!DOCTYPE>` without a name (which
//! quick-xml refuses), `<?xml?>` without a version, the declaration after the DOCTYPE, an
//! unterminated attribute quote inside the declaration. None of it carries meaning for a plist,
//! so it is skipped; only text outside markup is an error, because it means the body is not the
//! document it claims to be.

use crate::ParseError;

/// Returns the byte offset of the `<` that opens the root element.
pub(super) fn skip_prolog(text: &str) -> Result<usize, ParseError> {
    let bytes = text.as_bytes();
    // A UTF-8 byte-order mark is legal at the very start of an XML document.
    let mut pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
    pos = skip_whitespace(bytes, pos);
    if bytes.get(pos) != Some(&b'<') {
        return Err(ParseError::NotAPlist);
    }
    loop {
        pos = skip_whitespace(bytes, pos);
        let rest = &bytes[pos..];
        if rest.is_empty() {
            return Err(malformed(pos, "no root element"));
        } else if rest.starts_with(b"<?") {
            pos = find_after(bytes, pos + 2, b"?>")
                .ok_or_else(|| malformed(pos, "unterminated <? ?> declaration"))?;
        } else if rest.starts_with(b"<!--") {
            pos = find_after(bytes, pos + 4, b"-->")
                .ok_or_else(|| malformed(pos, "unterminated comment"))?;
        } else if rest.starts_with(b"<!DOCTYPE") {
            pos = skip_doctype(bytes, pos + 9)
                .ok_or_else(|| malformed(pos, "unterminated <!DOCTYPE"))?;
        } else if rest.starts_with(b"<!") {
            return Err(malformed(pos, "unexpected markup before the root element"));
        } else if rest.starts_with(b"<") {
            return Ok(pos);
        } else {
            return Err(malformed(pos, "text before the root element"));
        }
    }
}

/// XML whitespace is exactly these four characters.
pub(super) fn is_xml_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn skip_whitespace(bytes: &[u8], mut pos: usize) -> usize {
    while bytes.get(pos).is_some_and(|&b| is_xml_whitespace(b)) {
        pos += 1;
    }
    pos
}

/// The offset just past the first `needle` at or after `from`.
fn find_after(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| from + at + needle.len())
}

/// The offset just past the `>` that closes a DOCTYPE, honouring quoted literals and an internal
/// subset in brackets, either of which may contain `>`.
fn skip_doctype(bytes: &[u8], from: usize) -> Option<usize> {
    let mut quote: Option<u8> = None;
    let mut brackets = 0usize;
    for (i, &b) in bytes.get(from..)?.iter().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'[') => brackets += 1,
            (None, b']') => brackets = brackets.saturating_sub(1),
            (None, b'>') if brackets == 0 => return Some(from + i + 1),
            (None, _) => {}
        }
    }
    None
}

fn malformed(offset: usize, reason: &str) -> ParseError {
    ParseError::MalformedXml {
        offset,
        reason: reason.to_owned(),
    }
}
