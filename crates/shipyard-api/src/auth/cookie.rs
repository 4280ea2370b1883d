//! The session cookie: HttpOnly, SameSite=Lax, scoped to the whole site.

use axum::http::{HeaderMap, header};
use cookie::{Cookie, SameSite};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "shipyard_session";

/// How long a session lasts.
pub const SESSION_DAYS: i64 = 30;

/// The session id the request carries, if any.
pub fn session_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

/// `Set-Cookie` value that starts a session.
pub fn session_cookie(value: &str) -> String {
    Cookie::build((SESSION_COOKIE, value.to_owned()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(cookie::time::Duration::days(SESSION_DAYS))
        .build()
        .to_string()
}

/// `Set-Cookie` value that ends a session in the browser.
pub fn clear_session_cookie() -> String {
    Cookie::build((SESSION_COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}
