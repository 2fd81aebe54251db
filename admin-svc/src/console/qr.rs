//! `GET /console/qr.svg?text=...`: a QR code of an enrollment URL, drawn here so that the
//! console needs no script or service from elsewhere to show one an iPhone camera can open.

use crate::error::ApiError;
use crate::extract::Query;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use qrcode::render::svg;
use qrcode::QrCode;
use serde::Deserialize;

/// The longest text encoded: an enrollment URL with its secret is ~150 bytes; a QR code of
/// more than this is too dense for a phone camera across a desk anyway.
const MAX_TEXT: usize = 1024;

/// The query of the QR endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QrQuery {
    /// What the code says.
    pub text: String,
}

/// The SVG QR code of `text`.
pub async fn qr(Query(query): Query<QrQuery>) -> Result<Response, ApiError> {
    if query.text.is_empty() || query.text.len() > MAX_TEXT {
        return Err(ApiError::Invalid(format!(
            "text must be 1 to {MAX_TEXT} bytes"
        )));
    }
    let code = QrCode::new(query.text.as_bytes())
        .map_err(|e| ApiError::Invalid(format!("cannot be a QR code: {e}")))?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    let mut response = (StatusCode::OK, image).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    super::assets::with_page_headers(headers);
    Ok(response)
}
