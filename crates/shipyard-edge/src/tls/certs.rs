//! The certificates the TLS listener presents, chosen by the name the client asks for (SNI).
//! The whole set is swapped at once, so a handshake sees the old set or the new one, never a
//! half-made one, and a reload never leaves a moment with no certificate.

use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::HashSet;
use std::sync::Arc;

/// The names a certificate is valid for (its subject alternative names), lower-cased.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Names {
    /// Names matched as they are.
    exact: HashSet<String>,
    /// `*.example.com` kept as `example.com`: one label more matches.
    wildcard: HashSet<String>,
}

impl Names {
    /// The names of `dns_names` (`*.` marks a wildcard).
    pub fn new<'a>(dns_names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut names = Self::default();
        for name in dns_names {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            match name.strip_prefix("*.") {
                Some(parent) => names.wildcard.insert(parent.to_owned()),
                None => names.exact.insert(name),
            };
        }
        names
    }

    /// Whether a certificate with these names is valid for `host` (lower-case): a wildcard
    /// covers exactly one label, as browsers match it (RFC 6125 §6.4.3).
    pub fn cover(&self, host: &str) -> bool {
        self.exact.contains(host)
            || host
                .split_once('.')
                .is_some_and(|(label, parent)| !label.is_empty() && self.wildcard.contains(parent))
    }

    /// Whether there is no name at all.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.wildcard.is_empty()
    }
}

/// A certificate with its chain and key, and the names it covers.
#[derive(Debug, Clone)]
pub struct Certified {
    /// What a handshake sends and signs with.
    pub key: Arc<CertifiedKey>,
    /// Where it is valid.
    pub names: Names,
}

/// Every certificate the listener may present.
#[derive(Debug, Default, Clone)]
struct Set {
    /// The operator's own (`--tls-cert`): for the names it covers, and for a client that names
    /// no host (an IP literal).
    given: Option<Certified>,
}

impl Set {
    fn find(&self, host: &str) -> Option<&Certified> {
        self.given.as_ref().filter(|given| given.names.cover(host))
    }
}

/// The listener's certificates, shared by every worker and the tasks that renew them.
#[derive(Debug, Clone, Default)]
pub struct Certificates {
    current: Arc<ArcSwap<Set>>,
}

impl Certificates {
    /// No certificate yet: every handshake fails until one is set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes `given` the operator's certificate (replacing the one before, whole).
    pub fn set_given(&self, given: Certified) {
        self.current.rcu(|set| {
            let mut next = Set::clone(set);
            next.given = Some(given.clone());
            next
        });
    }

    /// Whether a client asking for `host` (lower-case) gets a certificate valid for it: plain
    /// HTTP for such a host is redirected to HTTPS.
    pub fn cover(&self, host: &str) -> bool {
        self.current.load().find(host).is_some()
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let set = self.current.load();
        match hello.server_name() {
            Some(name) => set.find(&name.to_ascii_lowercase()).map(|c| c.key.clone()),
            None => set.given.as_ref().map(|given| given.key.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_covers_one_label_and_names_match_whole() {
        let names = Names::new(["Shipyard.Example.com", "*.apps.example.com."]);
        assert!(names.cover("shipyard.example.com"));
        // Live hosts are two labels below the apps domain: a wildcard of it does not cover them.
        assert!(!names.cover("web-production.acme.apps.example.com"));
        assert!(names.cover("acme.apps.example.com"));
        assert!(!names.cover("apps.example.com"));
        assert!(!names.cover(".apps.example.com"));
        assert!(!names.cover("example.com"));
        assert!(!names.cover("evilshipyard.example.com"));
        assert!(!Names::new([]).cover("localhost"));
    }
}
