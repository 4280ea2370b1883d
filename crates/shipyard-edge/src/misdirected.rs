//! The answer to a Host that is neither the platform's nor an app's: 421 in the contract's
//! error shape, naming the host to use. A page that rebinds its own name to 127.0.0.1 sends
//! its own name as Host, so it never reaches the API (CONTRACT.md, "Hosts the listener answers").

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// 421 naming `platform_host`.
pub fn response(host: &str, platform_host: &str) -> Response {
    let body = serde_json::json!({
        "statusCode": 421,
        "error": "Misdirected Request",
        "message": format!(
            "this server does not answer for host `{host}`; use {platform_host} (or localhost, or an IP address of the machine)"
        ),
    });
    (StatusCode::MISDIRECTED_REQUEST, Json(body)).into_response()
}
