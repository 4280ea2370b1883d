//! Cookies an app may not set: one whose `Domain` covers the platform host would ride on every
//! request to the API and console (a planted session: login CSRF, session fixation), and one
//! whose `Domain` covers the apps domain itself would reach every other workspace's apps. Such
//! `Set-Cookie` headers are dropped from the app's answer; cookies for the app's own host (or
//! its workspace's subdomain) pass.

use axum::http::HeaderMap;
use axum::http::header::SET_COOKIE;

/// The hosts no app's cookie may cover.
#[derive(Debug, Clone)]
pub(crate) struct CookieFence {
    protected: Vec<String>,
}

/// Whether a cookie for `domain` is sent to `host` (RFC 6265 §5.1.3 domain-match).
fn covers(domain: &str, host: &str) -> bool {
    host == domain || host.strip_suffix(domain).is_some_and(|rest| rest.ends_with('.'))
}

/// Every `Domain` attribute of a `Set-Cookie` value, lower-cased without its leading dot.
/// Read leniently, as browsers read it (the last one wins there; any one counts here), rather
/// than with a strict parser that would pass a value it cannot read. An empty one means the
/// app's own host, as browsers ignore it.
fn domains(value: &[u8]) -> impl Iterator<Item = String> + '_ {
    value.split(|b| *b == b';').skip(1).filter_map(|attribute| {
        let attribute = String::from_utf8_lossy(attribute);
        let (name, domain) = attribute.split_once('=')?;
        name.trim().eq_ignore_ascii_case("domain").then(|| {
            domain
                .trim()
                .trim_matches('"')
                .trim_start_matches('.')
                .trim_end_matches('.')
                .to_ascii_lowercase()
        })
    })
}

impl CookieFence {
    /// A fence around `platform_host` and `apps_domain`.
    pub(crate) fn new(platform_host: &str, apps_domain: &str) -> Self {
        Self {
            protected: vec![platform_host.to_ascii_lowercase(), apps_domain.to_ascii_lowercase()],
        }
    }

    /// Drops from `headers` each `Set-Cookie` whose `Domain` covers a protected host; how many.
    pub(crate) fn filter(&self, headers: &mut HeaderMap) -> usize {
        if !headers.contains_key(SET_COOKIE) {
            return 0;
        }
        let all: Vec<_> = headers.get_all(SET_COOKIE).iter().cloned().collect();
        let (kept, dropped): (Vec<_>, Vec<_>) = all.into_iter().partition(|value| {
            !domains(value.as_bytes()).any(|d| {
                // What a browser might read as another host (escapes, odd characters) is
                // refused rather than guessed at.
                let plain = d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
                !d.is_empty() && (!plain || self.protected.iter().any(|host| covers(&d, host)))
            })
        });
        headers.remove(SET_COOKIE);
        for value in kept {
            headers.append(SET_COOKIE, value);
        }
        dropped.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_covering_the_platform_or_every_app_are_dropped_and_the_apps_own_pass() {
        let fence = CookieFence::new("shipyard.example.com", "apps.example.com");
        let mut headers = HeaderMap::new();
        for value in [
            "own=1; Path=/",
            "host=1; Domain=web-production.acme.apps.example.com",
            "workspace=1; Domain=.acme.apps.example.com; Secure",
            "platform=1; Domain=shipyard.example.com",
            "parent=1; path=/; DOMAIN=.Example.COM",
            "every-app=1; Domain=apps.example.com",
            "empty=1; Domain=",
            "dotted=1; Domain=example.com.",
            "escaped=1; Domain=%65xample.com",
            "quoted=1; Domain=\"localhost\"",
        ] {
            headers.append(SET_COOKIE, HeaderValue::from_static(value));
        }
        assert_eq!(fence.filter(&mut headers), 5);
        let left: Vec<_> = headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| {
                v.to_str()
                    .expect("text")
                    .split('=')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        assert_eq!(left, ["own", "host", "workspace", "empty", "quoted"]);
        // On a fresh install the platform host and the apps domain are both `localhost`.
        let local = CookieFence::new("localhost", "localhost");
        let mut headers = HeaderMap::new();
        headers.append(SET_COOKIE, HeaderValue::from_static("s=1; Domain=localhost"));
        headers.append(
            SET_COOKIE,
            HeaderValue::from_static("t=1; Domain=web-production.acme.localhost"),
        );
        assert_eq!(local.filter(&mut headers), 1);
        assert!(!covers("ample.com", "example.com"), "a label is matched whole");
    }
}
