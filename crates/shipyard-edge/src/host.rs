//! The host a request was sent to, normalised for routing.

use axum::http::Request;
use axum::http::header::HOST;
use axum::http::uri::Authority;

/// The request's host without port, lower-cased, without a trailing dot; None when absent
/// or unparsable.
pub fn request_host<B>(request: &Request<B>) -> Option<String> {
    let raw = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()))?;
    let authority: Authority = raw.parse().ok()?;
    let host = authority.host().trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn host_of(value: &str) -> Option<String> {
        let req = Request::builder()
            .header(HOST, value)
            .body(Body::empty())
            .expect("request");
        request_host(&req)
    }

    #[test]
    fn strips_port_case_and_trailing_dot() {
        assert_eq!(
            host_of("Web.Acme.LOCALHOST:8080").as_deref(),
            Some("web.acme.localhost")
        );
        assert_eq!(host_of("localhost.").as_deref(), Some("localhost"));
        assert_eq!(host_of("[::1]:8080").as_deref(), Some("[::1]"));
        assert_eq!(host_of("bad host"), None);
    }
}
