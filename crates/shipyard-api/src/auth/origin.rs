//! Cross-site write protection for cookie-authenticated requests. Apps live on sibling
//! subdomains of the platform, which SameSite treats as same-site, so a write carrying the
//! session cookie must also come from the platform's own origin.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::{Method, header, request::Parts};

/// A write that came from no foreign page: extracting it runs the Origin check whether or not
/// the request carries a session (login, logout and signup set or end one, so a foreign page
/// must not be able to call them either).
#[derive(Debug, Clone, Copy)]
pub struct SameOrigin;

impl FromRequestParts<AppState> for SameOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        check(parts, &state.settings.platform_host).map(|()| SameOrigin)
    }
}

/// 403 when a cookie-authenticated write names a foreign `Origin`.
pub fn check(parts: &Parts, platform_host: &str) -> Result<(), ApiError> {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    // Clients without an Origin header (curl, scripts) cannot be tricked by a web page.
    let Some(origin) = parts.headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    // Over TLS only an HTTPS page is the platform's: a plain-HTTP page at the same host (served
    // by someone on the network before HSTS is known) is not.
    if super::Transport::of(parts).tls && !origin.starts_with("https://") {
        return Err(ApiError::forbidden(format!(
            "cross-origin write refused: Origin `{origin}` is not the platform's HTTPS origin"
        )));
    }
    let request_host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let origin_authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let same_as_request =
        origin_authority.is_some_and(|a| !request_host.is_empty() && a.eq_ignore_ascii_case(request_host));
    let origin_host = origin_authority.map(|a| a.rsplit_once(':').map_or(a, |(host, _)| host));
    let platform = origin_host.is_some_and(|h| h.eq_ignore_ascii_case(platform_host));
    if same_as_request || platform {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "cross-origin write refused: Origin `{origin}` is not the platform's origin"
        )))
    }
}
