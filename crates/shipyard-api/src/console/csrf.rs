//! Cross-site request forgery: every console form that changes something carries a token a
//! foreign page cannot know. Signed in, it is derived from the session (so it needs no storage
//! and ends with the session); before sign-in, from a random cookie of its own (so a foreign
//! page cannot sign a visitor in to the attacker's account either). Checked with the Origin rule
//! of the API (`auth::origin`), not instead of it.

use crate::auth::Transport;
use axum::http::HeaderMap;
use cookie::{Cookie, SameSite};
use shipyard_core::OpaqueToken;

/// Name of the pre-sign-in cookie on a transport (`__Host-` over TLS, as the session's).
fn pre_cookie_name(transport: Transport) -> &'static str {
    if transport.tls {
        "__Host-shipyard_csrf"
    } else {
        "shipyard_csrf"
    }
}

/// The token for a secret (a session id or the pre-sign-in cookie's value). Domain-separated,
/// so it is never the session's stored hash.
pub fn token_for(secret: &str) -> String {
    OpaqueToken::hash_of(&format!("shipyard-console-csrf:{secret}"))
}

/// Whether `given` is the token for `secret`, compared in constant time.
pub fn matches(secret: &str, given: &str) -> bool {
    let want = token_for(secret);
    want.len() == given.len() && want.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The pre-sign-in secret the request carries, if any.
pub fn pre_secret(transport: Transport, headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == pre_cookie_name(transport))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// A new pre-sign-in secret and the `Set-Cookie` value that hands it to the browser.
pub fn new_pre_secret(transport: Transport) -> (String, String) {
    let secret = OpaqueToken::generate("").plain;
    let cookie = Cookie::build((pre_cookie_name(transport), secret.clone()))
        .http_only(true)
        .secure(transport.tls)
        .same_site(SameSite::Strict)
        .path("/")
        .build()
        .to_string();
    (secret, cookie)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_secrets_own_token_matches() {
        let token = token_for("abc");
        assert!(matches("abc", &token));
        assert!(!matches("abd", &token));
        assert!(!matches("abc", ""));
        assert!(!matches("abc", &token[1..]));
        assert_ne!(token, OpaqueToken::hash_of("abc"), "never the session's stored hash");
    }
}
