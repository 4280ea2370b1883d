//! The console's own stylesheet and script, served under names that carry a hash of their
//! contents: a browser may keep them forever, and a new build is a new name.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shipyard_core::OpaqueToken;
use std::sync::LazyLock;

const CSS: &str = include_str!("../../assets/console.css");
const JS: &str = include_str!("../../assets/console.js");

/// Where the stylesheet and the script are served.
#[derive(Debug)]
pub struct Assets {
    /// `/app/static/console-<hash>.css`
    pub css: String,
    /// `/app/static/console-<hash>.js`
    pub js: String,
}

fn named(ext: &str, body: &str) -> String {
    format!("/app/static/console-{}.{ext}", &OpaqueToken::hash_of(body)[..16])
}

/// The paths of this build's assets.
pub static ASSETS: LazyLock<Assets> = LazyLock::new(|| Assets {
    css: named("css", CSS),
    js: named("js", JS),
});

/// `GET /app/static/<name>`: an asset by its hashed name; any other name is 404.
pub async fn serve(Path(name): Path<String>) -> Response {
    let path = format!("/app/static/{name}");
    let (body, kind) = if path == ASSETS.css {
        (CSS, "text/css; charset=utf-8")
    } else if path == ASSETS.js {
        (JS, "text/javascript; charset=utf-8")
    } else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        body,
    )
        .into_response()
}
