//! Query strings of the enrollment endpoints, and the SCEP message of a GET PKIOperation.

use super::error::EnrollError;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use percent_encoding::percent_decode_str;

/// The decoded value of parameter `name` (the first, if repeated). `+` is kept as is: in a
/// SCEP message it is base64, not an encoded space.
pub fn param(query: Option<&str>, name: &str) -> Result<Option<String>, EnrollError> {
    let Some(query) = query else {
        return Ok(None);
    };
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != name {
            continue;
        }
        let value = percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| EnrollError::BadRequest(format!("{name} is not UTF-8 once decoded")))?;
        return Ok(Some(value.into_owned()));
    }
    Ok(None)
}

/// Decodes a base64 SCEP message as clients send it: standard or URL-safe alphabet, padded or
/// not, wrapped in lines, and with `+` turned into a space by a client that did not encode it.
pub fn scep_message(encoded: &str) -> Result<Vec<u8>, EnrollError> {
    let cleaned: String = encoded
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n' | '\t' | '='))
        .map(|c| match c {
            ' ' | '-' => '+',
            '_' => '/',
            other => other,
        })
        .collect();
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    LENIENT
        .decode(cleaned.as_bytes())
        .map_err(|e| EnrollError::BadRequest(format!("message is not base64: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_found_and_decoded() {
        let q = Some("operation=PKIOperation&message=ab%2Bc%2F%3D&x");
        assert_eq!(
            param(q, "operation").expect("ok").as_deref(),
            Some("PKIOperation")
        );
        assert_eq!(param(q, "message").expect("ok").as_deref(), Some("ab+c/="));
        assert_eq!(param(q, "x").expect("ok").as_deref(), Some(""));
        assert_eq!(param(q, "token").expect("ok"), None);
        assert!(param(Some("token=%FF"), "token").is_err());
    }

    #[test]
    fn scep_messages_decode_however_they_were_encoded() {
        let bytes: Vec<u8> = (0..=255).collect();
        let standard = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert_eq!(scep_message(&standard).expect("standard"), bytes);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(scep_message(&url).expect("url-safe"), bytes);
        let wrapped: String = standard
            .as_bytes()
            .chunks(64)
            .map(|c| format!("{}\n", String::from_utf8_lossy(c)))
            .collect();
        assert_eq!(scep_message(&wrapped).expect("wrapped"), bytes);
        assert_eq!(
            scep_message(&standard.replace('+', " ")).expect("spaces"),
            bytes
        );
        assert!(scep_message("not base64 !!").is_err());
    }
}
