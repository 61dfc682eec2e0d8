//! The kiosk files, embedded in the binary so the appliance serves them without a disk
//! layout to get wrong. Nothing here loads anything from outside the appliance.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub const INDEX_HTML: &str = include_str!("../../kiosk/index.html");
pub const APP_JS: &str = include_str!("../../kiosk/app.js");
pub const APP_CSS: &str = include_str!("../../kiosk/app.css");

fn file(body: &'static str, mime: &'static str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // The kiosk may only talk to the appliance itself.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'",
        ),
    );
    r
}

pub async fn index() -> Response {
    file(INDEX_HTML, "text/html; charset=utf-8")
}
pub async fn app_js() -> Response {
    file(APP_JS, "text/javascript; charset=utf-8")
}
pub async fn app_css() -> Response {
    file(APP_CSS, "text/css; charset=utf-8")
}
