//! The session cookie: HttpOnly, SameSite=Lax, scoped to the whole site. Over TLS it is
//! `__Host-shipyard_session` and Secure (CONTRACT.md): a cookie of that name can only have been
//! set over HTTPS by this host, so a plain-HTTP page of a neighbour cannot plant one.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use cookie::{Cookie, SameSite};
use std::convert::Infallible;

/// Name of the session cookie over plain HTTP.
pub const SESSION_COOKIE: &str = "shipyard_session";

/// Name of the session cookie over TLS.
pub const SECURE_SESSION_COOKIE: &str = "__Host-shipyard_session";

/// How long a session lasts.
pub const SESSION_DAYS: i64 = 30;

/// How the request reached the server: which session cookie it carries and gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transport {
    /// Whether it came over TLS.
    pub tls: bool,
}

impl Transport {
    /// Of a request's parts (the edge marks those that came over TLS).
    pub fn of(parts: &Parts) -> Self {
        Self {
            tls: parts.extensions.get::<shipyard_edge::tls::OverTls>().is_some(),
        }
    }

    /// The session cookie's name on this transport.
    fn cookie_name(self) -> &'static str {
        if self.tls {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        }
    }

    /// The session id the request carries, if any: only the cookie of its own transport, so a
    /// cookie planted over plain HTTP never authenticates an HTTPS request.
    pub fn session_value(self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|c| c.name() == self.cookie_name())
            .map(|c| c.value().to_owned())
    }

    /// `Set-Cookie` value that starts a session.
    pub fn session_cookie(self, value: &str) -> String {
        self.cookie(value.to_owned(), cookie::time::Duration::days(SESSION_DAYS))
    }

    /// `Set-Cookie` value that ends a session in the browser.
    pub fn clear_session_cookie(self) -> String {
        self.cookie(String::new(), cookie::time::Duration::ZERO)
    }

    fn cookie(self, value: String, max_age: cookie::time::Duration) -> String {
        Cookie::build((self.cookie_name(), value))
            .http_only(true)
            .secure(self.tls)
            .same_site(SameSite::Lax)
            .path("/")
            .max_age(max_age)
            .build()
            .to_string()
    }
}

impl<S: Sync> FromRequestParts<S> for Transport {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Self::of(parts))
    }
}
