//! Request extractors whose every refusal is a problem document: the JSON body (under the
//! configured limit), the query string and path parameters (bounded, no control characters).
//! axum's own extractors answer plain text, which would break the API's one error shape.

use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use http::request::Parts;
use serde::de::DeserializeOwned;

/// The longest path parameter accepted once decoded, in characters (as JSON Schema counts): a
/// user channel's `<device>:<user>` of two maximal IDs. Anything longer names nothing, and would
/// be echoed into messages and logs.
pub const MAX_PARAM_CHARS: usize = mdm_api::MAX_DEVICE_ID_LEN;

/// A JSON request body.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        // A body without a Content-Type is read as JSON (a script with nothing set should
        // work); one that says otherwise is refused.
        if request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|value| !is_json(value))
        {
            return Err(ApiError::UnsupportedMediaType);
        }
        let limit = request.extensions().get::<BodyLimit>().map(|l| l.0);
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::TooLarge(limit.unwrap_or(0))
                } else {
                    ApiError::Malformed(format!("the body could not be read: {rejection}"))
                }
            })?;
        serde_json::from_slice(&bytes).map(Body).map_err(|e| {
            ApiError::Malformed(format!(
                "the body is not the expected JSON: {}",
                mdm_proto::bounded(&e.to_string(), 300)
            ))
        })
    }
}

/// Whether a `Content-Type` names JSON (`application/json`, or any `+json` type).
pub fn is_json(value: &http::HeaderValue) -> bool {
    let media = value.to_str().unwrap_or_default();
    let media = media.split(';').next().unwrap_or_default().trim();
    media.eq_ignore_ascii_case("application/json") || media.to_ascii_lowercase().ends_with("+json")
}

/// The configured body limit, as a request extension (for the 413's message).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The query string, deserialized.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|query| Query(query.0))
            .map_err(|rejection| {
                ApiError::Malformed(format!(
                    "the query string is not acceptable: {}",
                    mdm_proto::bounded(&rejection.body_text(), 300)
                ))
            })
    }
}

/// One path parameter: decoded, at most [`MAX_PARAM_CHARS`], without control characters.
#[derive(Debug, Clone)]
pub struct Param(pub String);

impl<S> FromRequestParts<S> for Param
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(value) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::Malformed("a path parameter is not valid UTF-8".into()))?;
        check_param(&value)?;
        Ok(Param(value))
    }
}

/// Refuses an empty, over-long or control-character parameter, without echoing it.
pub fn check_param(value: &str) -> Result<(), ApiError> {
    // ASCII controls only, as the document's pattern says (`char::is_control` would also refuse
    // U+0080..U+009F, which the pattern lets through).
    let control = |c: char| c.is_ascii_control();
    if value.is_empty() || value.chars().count() > MAX_PARAM_CHARS || value.chars().any(control) {
        return Err(ApiError::Malformed(format!(
            "a path parameter must be 1 to {MAX_PARAM_CHARS} characters without control characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_param;

    #[test]
    fn parameters_are_bounded() {
        assert!(check_param("UDID-1:USER").is_ok());
        assert!(check_param("").is_err());
        assert!(check_param("a\nb").is_err());
        assert!(check_param(&"A".repeat(100_000)).is_err());
    }
}
