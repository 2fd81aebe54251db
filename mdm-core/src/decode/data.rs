//! Base64 for `<data>` elements, lenient about padding and about nothing else.

use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::{DecodeError, Engine};

/// The fallback decoder: expects no padding (the caller strips it) but still requires the unused
/// low bits of the last symbol to be zero, as canonical base64 does.
const UNPADDED: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Decodes the text of a `<data>` element.
///
/// Whitespace is ignored: writers wrap and indent long data. Canonical base64 is tried first.
/// If that fails, trailing `=` are stripped and the rest is decoded without padding, because real
/// devices send non-canonical padding (a macOS 10.11 TokenUpdate carries the Token `AAAA=`, one
/// `=` too many, which Python's plistlib also accepts). The leniency stops at
/// padding: a wrong alphabet, a misplaced `=`, an impossible length or non-zero trailing bits are
/// still errors, so `Base64=` (an anonymisation placeholder in some captures, whose last symbol
/// leaves bits over) is refused rather than turned into bytes nobody sent.
///
/// On failure returns the reason given by the lenient attempt, which is the one that matters.
///
/// Public because `mdm-pki` reads the `Mdm-Signature` header, base64 from the same devices, with it.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if let Ok(bytes) = STANDARD.decode(&compact) {
        return Ok(bytes);
    }
    let unpadded_len = compact
        .iter()
        .rposition(|&b| b != b'=')
        .map_or(0, |last| last + 1);
    UNPADDED
        .decode(&compact[..unpadded_len])
        .map_err(|err| describe(&err))
}

/// Says what is wrong in terms of the text a reader sees (positions count base64 characters,
/// whitespace and padding excluded).
fn describe(err: &DecodeError) -> String {
    match err {
        DecodeError::InvalidByte(at, byte) => {
            format!(
                "character {:?} at position {at} is not base64",
                char::from(*byte)
            )
        }
        DecodeError::InvalidLength(len) => {
            format!("{len} base64 characters cannot encode whole bytes")
        }
        DecodeError::InvalidLastSymbol(at, byte) => format!(
            "the last character {:?} (position {at}) carries bits beyond the data, so the text \
             is not base64 of any byte string",
            char::from(*byte)
        ),
        DecodeError::InvalidPadding => "invalid padding".to_owned(),
    }
}
