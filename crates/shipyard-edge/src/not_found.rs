//! The page for a host under the apps domain that no app serves.

use axum::http::StatusCode;
use axum::response::Html;

/// 404 page naming the host, so a user can spot a typo in the URL.
pub fn page(host: &str) -> (StatusCode, Html<String>) {
    let host = escape(host);
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>No app at {host}</title></head>\
         <body style=\"font-family:sans-serif;max-width:40rem;margin:4rem auto\">\
         <h1>404: no app at {host}</h1>\
         <p>Shipyard serves no deployed app under the name <code>{host}</code>. \
         Check the project's live URL in the console or with \
         <code>GET /tenants/&lt;t&gt;/projects/&lt;p&gt;/environments/&lt;e&gt;/runtime</code>.</p>\
         </body></html>"
    );
    (StatusCode::NOT_FOUND, Html(body))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
