//! The certificates the TLS listener presents, chosen by the name the client asks for (SNI).
//! The whole set is swapped at once, so a handshake sees the old set or the new one, never a
//! half-made one, and a reload never leaves a moment with no certificate.

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::{HashMap, HashSet};
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
    /// When it expires.
    pub not_after: DateTime<Utc>,
}

/// What is wrong with a certificate chain and key given as PEM.
#[derive(Debug, thiserror::Error)]
pub enum PemError {
    /// The chain cannot be read, or its leaf names no host.
    #[error("the certificate: {0}")]
    Cert(String),
    /// The key cannot be read.
    #[error("the key: {0}")]
    Key(String),
    /// The key does not sign for the certificate, or is of a kind the TLS library cannot use.
    #[error("the key does not go with the certificate: {0}")]
    Mismatch(rustls::Error),
}

impl Certified {
    /// The certificate of a PEM chain (leaf first) and its PEM private key (PKCS#8, PKCS#1 or
    /// SEC1).
    pub fn from_pem(chain: &[u8], key: &[u8]) -> Result<Self, PemError> {
        let chain = CertificateDer::pem_slice_iter(chain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PemError::Cert(format!("cannot read a PEM certificate chain: {e}")))?;
        let leaf = chain
            .first()
            .ok_or_else(|| PemError::Cert("holds no certificate (-----BEGIN CERTIFICATE-----)".into()))?;
        let (names, not_after) = read_leaf(leaf).map_err(PemError::Cert)?;
        let key = PrivateKeyDer::from_pem_slice(key)
            .map_err(|e| PemError::Key(format!("cannot read a PEM private key: {e}")))?;
        let key = CertifiedKey::from_der(chain, key, &super::provider()).map_err(PemError::Mismatch)?;
        Ok(Self {
            key: Arc::new(key),
            names,
            not_after,
        })
    }
}

/// Every certificate the listener may present.
#[derive(Debug, Default, Clone)]
struct Set {
    /// The operator's own (`--tls-cert`): for the names it covers, and for a client that names
    /// no host (an IP literal).
    given: Option<Certified>,
    /// Certificates issued for one hostname each (ACME), by that name: they win over the
    /// operator's for their name.
    issued: Arc<HashMap<String, Certified>>,
}

impl Set {
    fn find(&self, host: &str) -> Option<&Certified> {
        self.issued
            .get(host)
            .or_else(|| self.given.as_ref().filter(|given| given.names.cover(host)))
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

    /// Makes `certified` the certificate of `host` (lower-case), replacing the one before.
    pub fn set_issued(&self, host: &str, certified: Certified) {
        self.current.rcu(|set| {
            let mut next = Set::clone(set);
            let mut issued = HashMap::clone(&set.issued);
            issued.insert(host.to_owned(), certified.clone());
            next.issued = Arc::new(issued);
            next
        });
    }

    /// Stops presenting the issued certificates of hosts `keep` says no to (a domain deleted or
    /// no longer verified).
    pub fn retain_issued(&self, keep: impl Fn(&str) -> bool) {
        self.current.rcu(|set| {
            let mut next = Set::clone(set);
            let issued: HashMap<_, _> = set
                .issued
                .iter()
                .filter(|(host, _)| keep(host))
                .map(|(host, certified)| (host.clone(), certified.clone()))
                .collect();
            next.issued = Arc::new(issued);
            next
        });
    }

    /// Hosts with an issued certificate.
    pub fn issued_hosts(&self) -> Vec<String> {
        self.current.load().issued.keys().cloned().collect()
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

/// The DNS names of a certificate's subject alternative names, and when it expires.
fn read_leaf(leaf: &CertificateDer<'_>) -> Result<(Names, DateTime<Utc>), String> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map_err(|e| format!("the first certificate cannot be parsed: {e}"))?;
    let san = cert
        .subject_alternative_name()
        .map_err(|e| format!("the certificate's subject alternative names cannot be read: {e}"))?;
    let names = Names::new(san.iter().flat_map(|san| {
        san.value.general_names.iter().filter_map(|name| match name {
            GeneralName::DNSName(name) => Some(*name),
            _ => None,
        })
    }));
    if names.is_empty() {
        return Err("the certificate names no host (no DNS subject alternative name)".into());
    }
    let not_after = DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
        .ok_or_else(|| "the certificate's expiry is out of range".to_owned())?;
    Ok((names, not_after))
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
