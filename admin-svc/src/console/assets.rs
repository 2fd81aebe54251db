//! The console's files, compiled into the binary from `admin-svc/console/`: a deployment is one
//! binary, and a page never loads anything from elsewhere (it works on a machine with no
//! internet). Every answer carries a Content-Security-Policy that allows only our own scripts and
//! styles, so text a device or an admin sent can never run as script in an administrator's page.

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use include_dir::{include_dir, Dir};

use crate::error::ApiError;

static FILES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/console");

/// Only our own files; no inline script or style; never framed; no `<base>` to redirect links.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
    style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; \
    base-uri 'none'; form-action 'self'; object-src 'none'";

/// `GET /`: the console's page.
pub async fn index() -> Response {
    file("index.html")
}

/// `GET /console/{*path}`: one of its scripts, styles or images.
pub async fn asset(Path(path): Path<String>) -> Response {
    // index.html is served at `/` only, where its relative URLs resolve.
    if path == "index.html" {
        return ApiError::NoRoute.into_response();
    }
    file(&path)
}

fn file(path: &str) -> Response {
    let Some(file) = FILES.get_file(path) else {
        return ApiError::NoRoute.into_response();
    };
    let mut response = (StatusCode::OK, file.contents()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media_type(path)),
    );
    with_page_headers(headers);
    response
}

/// The headers every console answer carries.
pub fn with_page_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

fn media_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_entry_script_are_compiled_in() {
        assert!(FILES.get_file("index.html").is_some());
        assert!(FILES.get_file("app.js").is_some());
        assert_eq!(media_type("js/api.js"), "text/javascript; charset=utf-8");
        assert_eq!(media_type("x"), "application/octet-stream");
    }

    #[test]
    fn every_script_is_a_file_of_ours_and_none_is_inline() {
        let page = std::str::from_utf8(FILES.get_file("index.html").expect("page").contents())
            .expect("UTF-8");
        for script in page.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap_or_default();
            assert!(
                tag.contains("src=\"/console/"),
                "inline or foreign script: {tag}"
            );
        }
    }
}
