//! Binary plists: a structural check for depth and expansion, then the plist crate's reader.
//!
//! In the binary format every value is an object in a table and containers hold references to
//! objects, so one object may be referenced any number of times. The plist crate expands every
//! reference (it refuses only cycles), which makes a few hundred bytes enough to describe 2^60
//! values, and it does not bound depth. [`check_structure`] walks the same reference graph the
//! reader will, counting as it goes, and stops as soon as a limit is passed, so its cost is
//! bounded by the limits, which are linear in the body size.

use std::io::Cursor;

use plist::Value;

use super::MAX_DEPTH;
use crate::error::reason;
use crate::ParseError;

/// Every binary plist this module accepts starts with these bytes.
const MAGIC: &[u8] = b"bplist00";
/// The fixed-size trailer at the end of a binary plist.
const TRAILER_LEN: usize = 32;

/// Parses a binary plist body (it starts with `bplist`).
pub(super) fn parse(body: &[u8]) -> Result<Value, ParseError> {
    check_structure(body)?;
    Value::from_reader(Cursor::new(body)).map_err(|err| malformed(reason(&err.to_string())))
}

/// How many values a body of `len` bytes may expand to. Without shared containers every value
/// but the root is one reference of at least one byte, so an honest plist has fewer values than
/// bytes; the factor leaves room for writers that share a container or two.
fn value_budget(len: usize) -> u64 {
    (len as u64).saturating_mul(4).saturating_add(64)
}

/// How many bytes of strings and data a body of `len` bytes may expand to. Writers share equal
/// strings (dictionary keys above all), which legitimately multiplies text a few times.
fn byte_budget(len: usize) -> u64 {
    (len as u64).saturating_mul(16).saturating_add(64 * 1024)
}

/// The trailer fields needed to follow references.
struct Layout<'a> {
    body: &'a [u8],
    offset_size: usize,
    ref_size: usize,
    num_objects: usize,
    root: usize,
    table_at: usize,
    trailer_at: usize,
}

/// What the walk needs to know about one object.
enum Object {
    /// An array or dictionary: `refs` references of `ref_size` bytes start at `refs_at`.
    Container { refs_at: usize, refs: u64 },
    /// Anything else, with the bytes of text or data it expands to.
    Leaf { payload: u64 },
}

/// A container being walked.
struct Frame {
    object: usize,
    next_ref_at: usize,
    remaining: u64,
}

/// Checks that the reference graph is well formed, no deeper than [`MAX_DEPTH`] and within the
/// expansion budgets, without building any value.
fn check_structure(body: &[u8]) -> Result<(), ParseError> {
    let layout = Layout::read(body)?;
    let values_allowed = value_budget(body.len());
    let bytes_allowed = byte_budget(body.len());
    let mut values = 0u64;
    let mut bytes = 0u64;
    // Marks the containers on the current path, to report cycles precisely.
    let mut open = vec![false; layout.num_objects];
    let mut stack: Vec<Frame> = Vec::new();

    let mut next = Some(layout.root);
    loop {
        if let Some(index) = next.take() {
            values += 1;
            if values > values_allowed {
                return Err(ParseError::ExpansionTooLarge {
                    limit: values_allowed,
                    unit: "values",
                });
            }
            match layout.object(index)? {
                Object::Leaf { payload } => {
                    bytes = bytes.saturating_add(payload);
                    if bytes > bytes_allowed {
                        return Err(ParseError::ExpansionTooLarge {
                            limit: bytes_allowed,
                            unit: "bytes of strings and data",
                        });
                    }
                }
                Object::Container { refs_at, refs } => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(ParseError::TooDeep { limit: MAX_DEPTH });
                    }
                    if open[index] {
                        return Err(malformed(format!("object {index} contains itself")));
                    }
                    open[index] = true;
                    stack.push(Frame {
                        object: index,
                        next_ref_at: refs_at,
                        remaining: refs,
                    });
                }
            }
        }
        let Some(top) = stack.last_mut() else {
            return Ok(());
        };
        if top.remaining == 0 {
            open[top.object] = false;
            stack.pop();
            continue;
        }
        let reference = layout
            .uint(top.next_ref_at, layout.ref_size)
            .ok_or_else(|| malformed("a reference lies outside the body".into()))?;
        top.next_ref_at += layout.ref_size;
        top.remaining -= 1;
        next = Some(layout.index(reference)?);
    }
}

impl<'a> Layout<'a> {
    fn read(body: &'a [u8]) -> Result<Self, ParseError> {
        if !body.starts_with(MAGIC) {
            let version = body.get(..MAGIC.len()).unwrap_or(body);
            return Err(malformed(format!(
                "unsupported header {:?}, expected \"bplist00\"",
                String::from_utf8_lossy(version)
            )));
        }
        if body.len() < MAGIC.len() + TRAILER_LEN + 1 {
            return Err(malformed(
                "too short for a header, an object and a trailer".into(),
            ));
        }
        let trailer_at = body.len() - TRAILER_LEN;
        let trailer = &body[trailer_at..];
        let offset_size = usize::from(trailer[6]);
        let ref_size = usize::from(trailer[7]);
        for (what, size) in [("offset", offset_size), ("reference", ref_size)] {
            if !matches!(size, 1 | 2 | 3 | 4 | 8) {
                return Err(malformed(format!(
                    "invalid {what} size {size} in the trailer"
                )));
            }
        }
        let field = |at: usize| {
            let mut be = [0u8; 8];
            be.copy_from_slice(&trailer[at..at + 8]);
            u64::from_be_bytes(be)
        };
        let (num_objects, root, table_at) = (field(8), field(16), field(24));
        let table_end = num_objects
            .checked_mul(offset_size as u64)
            .and_then(|len| len.checked_add(table_at));
        if num_objects == 0
            || root >= num_objects
            || table_at < MAGIC.len() as u64
            || table_end.is_none_or(|end| end > trailer_at as u64)
        {
            return Err(malformed(
                "the trailer describes an impossible object table".into(),
            ));
        }
        // Both fit in usize: the table lies inside the body.
        let (Ok(num_objects), Ok(root), Ok(table_at)) = (
            usize::try_from(num_objects),
            usize::try_from(root),
            usize::try_from(table_at),
        ) else {
            return Err(malformed("the object table does not fit in memory".into()));
        };
        Ok(Layout {
            body,
            offset_size,
            ref_size,
            num_objects,
            root,
            table_at,
            trailer_at,
        })
    }

    /// An object reference as an index into the object table.
    fn index(&self, reference: u64) -> Result<usize, ParseError> {
        usize::try_from(reference)
            .ok()
            .filter(|&index| index < self.num_objects)
            .ok_or_else(|| malformed(format!("reference {reference} to a missing object")))
    }

    /// The object at `index`: its kind and extent.
    fn object(&self, index: usize) -> Result<Object, ParseError> {
        let at = self
            .uint(self.table_at + index * self.offset_size, self.offset_size)
            .and_then(|offset| usize::try_from(offset).ok())
            .filter(|&offset| offset >= MAGIC.len() && offset < self.trailer_at)
            .ok_or_else(|| malformed(format!("object {index} has an offset outside the body")))?;
        let marker = self.body[at];
        let (kind, low) = (marker >> 4, marker & 0x0f);
        let object = match kind {
            // Array, dictionary: the dictionary's keys and values are two runs of references.
            0xa | 0xd => {
                let (count, refs_at) = self.count(at, low)?;
                let refs = if kind == 0xd {
                    count.saturating_mul(2)
                } else {
                    count
                };
                let end = refs
                    .checked_mul(self.ref_size as u64)
                    .and_then(|len| len.checked_add(refs_at as u64));
                if end.is_none_or(|end| end > self.trailer_at as u64) {
                    return Err(malformed(format!("container {index} runs past the body")));
                }
                Object::Container { refs_at, refs }
            }
            // Data, ASCII string, UTF-8 string: one byte per unit; UTF-16 string: two.
            0x4..=0x7 => {
                let (count, content_at) = self.count(at, low)?;
                let payload = if kind == 0x6 {
                    count.saturating_mul(2)
                } else {
                    count
                };
                if payload.saturating_add(content_at as u64) > self.trailer_at as u64 {
                    return Err(malformed(format!("object {index} runs past the body")));
                }
                Object::Leaf { payload }
            }
            // Fixed-size scalars; the reader validates them.
            _ => Object::Leaf { payload: 0 },
        };
        Ok(object)
    }

    /// The element count of the object at `at` and where its content starts. Counts of 15 or
    /// more are stored in a following integer object.
    fn count(&self, at: usize, low: u8) -> Result<(u64, usize), ParseError> {
        if low != 0x0f {
            return Ok((u64::from(low), at + 1));
        }
        let marker = *self
            .body
            .get(at + 1)
            .ok_or_else(|| malformed("a length runs past the body".into()))?;
        if marker >> 4 != 0x1 || marker & 0x0f > 3 {
            return Err(malformed(format!("invalid length marker {marker:#04x}")));
        }
        let size = 1usize << (marker & 0x0f);
        let count = self
            .uint(at + 2, size)
            .ok_or_else(|| malformed("a length runs past the body".into()))?;
        Ok((count, at + 2 + size))
    }

    /// A big-endian unsigned integer of `size` bytes at `at`, if it lies before the trailer.
    fn uint(&self, at: usize, size: usize) -> Option<u64> {
        let end = at.checked_add(size)?;
        if end > self.trailer_at {
            return None;
        }
        Some(
            self.body[at..end]
                .iter()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
        )
    }
}

fn malformed(reason: String) -> ParseError {
    ParseError::MalformedBinary { reason }
}
