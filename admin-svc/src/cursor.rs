//! Opaque page cursors: what the service needs to continue a list (the key of the last item),
//! named for the list it belongs to and base64url-encoded. A cursor from another list, or one
//! a client made up, is a 422, never a wrong page.

use crate::error::ApiError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// The cursor of `list` continuing after `key`.
pub fn encode(list: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{list}\n{key}"))
}

/// The key in `cursor`, which must belong to `list`; `None` when there is no cursor.
pub fn decode(list: &str, cursor: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let bad = || ApiError::Invalid(format!("the cursor is not one of this list ({list})"));
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (named, key) = text.split_once('\n').ok_or_else(bad)?;
    if named != list || key.is_empty() || key.chars().any(char::is_control) {
        return Err(bad());
    }
    Ok(Some(key.to_owned()))
}

/// The page of `list` holding `items` (converted by `convert`), continuing after `next_key`, the
/// service's key of the next page (empty on the last).
pub fn page<T, U>(
    list: &str,
    items: Vec<T>,
    convert: impl FnMut(T) -> U,
    next_key: &str,
) -> axum::Json<mdm_api::Page<U>> {
    let next = (!next_key.is_empty()).then(|| encode(list, next_key));
    axum::Json(mdm_api::Page::new(
        items.into_iter().map(convert).collect(),
        next,
    ))
}

/// The page size of a request: the default when absent, never over the maximum.
pub fn limit(requested: Option<u32>) -> u32 {
    requested
        .unwrap_or(mdm_api::page::DEFAULT_LIMIT)
        .clamp(1, mdm_api::page::MAX_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_only_in_its_list() {
        let cursor = encode("devices", "UDID-1:USER");
        assert_eq!(
            decode("devices", Some(&cursor)).expect("ok").as_deref(),
            Some("UDID-1:USER")
        );
        assert!(decode("commands", Some(&cursor)).is_err());
        assert!(decode("devices", Some("not base64!")).is_err());
        assert!(decode("devices", Some(&URL_SAFE_NO_PAD.encode("devices"))).is_err());
        assert_eq!(decode("devices", None).expect("none"), None);
    }
}
