//! The pages the edge itself answers with: no app at a host, an app that is not serving
//! (paused, suspended, not started), and a site's missing file when it has no `404.html`.

use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;max-width:40rem;margin:4rem auto\">\
         <h1>{title}</h1><p>{text}</p></body></html>"
    );
    (
        status,
        [(CONTENT_TYPE, "text/html; charset=utf-8"), (CACHE_CONTROL, "no-store")],
        body,
    )
        .into_response()
}

/// 404 page naming the host, so a user can spot a typo in the URL.
pub fn no_app(host: &str) -> Response {
    let host = escape(host);
    page(
        StatusCode::NOT_FOUND,
        &format!("404: no app at {host}"),
        &format!(
            "Shipyard serves no deployed app under the name <code>{host}</code>. \
             Check the project's live URL in the console or with \
             <code>GET /tenants/&lt;t&gt;/projects/&lt;p&gt;/environments/&lt;e&gt;/runtime</code>."
        ),
    )
}

/// 503 page for an app that is routed but not serving, saying why.
pub fn unavailable(host: &str, why: &str) -> Response {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!("503: {} is not serving", escape(host)),
        &escape(why),
    )
}

/// 404 page for a path a site does not have (and no `404.html` of its own).
pub fn not_in_site(path: &str) -> Response {
    page(
        StatusCode::NOT_FOUND,
        "404: not found",
        &format!("This site has no page at <code>{}</code>.", escape(path)),
    )
}

/// 502 page for an app whose instances did not answer.
pub fn bad_gateway(host: &str) -> Response {
    page(
        StatusCode::BAD_GATEWAY,
        &format!("502: {} did not answer", escape(host)),
        "None of the app's instances answered this request. If it keeps happening, look at the app's runtime logs.",
    )
}

/// 504 page for an app that did not start its answer within `idle`.
pub fn gateway_timeout(host: &str, idle: Duration) -> Response {
    page(
        StatusCode::GATEWAY_TIMEOUT,
        &format!("504: {} took too long", escape(host)),
        &format!("The app did not start answering within {} s.", idle.as_secs()),
    )
}

/// 408 page for a client whose request body stopped arriving for `idle`.
pub fn request_timeout(host: &str, idle: Duration) -> Response {
    page(
        StatusCode::REQUEST_TIMEOUT,
        &format!("408: the request to {} stalled", escape(host)),
        &format!("No part of the request body arrived for {} s.", idle.as_secs()),
    )
}

/// 500 for a platform request whose handler failed, in the API's error shape
/// (`{ statusCode, error, message }`), saying nothing of the cause.
pub fn internal_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(serde_json::json!({
            "statusCode": 500,
            "error": "Internal Server Error",
            "message": "the server failed while answering; the cause is in its log",
        })),
    )
        .into_response()
}

/// 400 page for a path that could never name a file of the site (`..`, `%2f`, NUL).
pub fn bad_path() -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "400: bad path",
        "The path is malformed or tries to leave the site.",
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
