//! Where an environment is live: `<project>-<env>.<workspace>.<apps-domain>`, and the one rule
//! its first label keeps (DNS allows 63 characters in a label).

use crate::Slug;
use crate::error::DomainError;

/// The longest DNS label.
const LABEL_MAX: usize = 63;

/// An environment's first label, `<project>-<env>`, checked to fit one DNS label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLabel(String);

impl HostLabel {
    /// The label of environment `env` of project `project`; refused when longer than DNS allows.
    pub fn new(project: &Slug, env: &Slug) -> Result<Self, DomainError> {
        let label = format!("{project}-{env}");
        if label.len() > LABEL_MAX {
            return Err(DomainError::HostLabelTooLong {
                len: label.len(),
                label,
            });
        }
        Ok(Self(label))
    }

    /// The label as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The live host of the environment labelled `label` in workspace `workspace` (lowercase: hosts
/// are compared as the edge receives them).
pub fn live_host(label: &str, workspace: &str, apps_domain: &str) -> String {
    format!("{label}.{workspace}.{apps_domain}").to_ascii_lowercase()
}

/// The URL of a live host, over HTTPS when `tls`, with the public port when it is not the
/// scheme's own (80, 443).
pub fn live_url(host: &str, port: Option<u16>, tls: bool) -> String {
    let (scheme, default) = if tls { ("https", 443) } else { ("http", 80) };
    let port = port
        .filter(|p| *p != default)
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    format!("{scheme}://{host}{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_fits_one_dns_label_and_hosts_are_lowercase() {
        let slug = |s: &str| Slug::parse(s).expect("slug");
        let label = HostLabel::new(&slug("shop"), &slug("production")).expect("label");
        assert_eq!(label.as_str(), "shop-production");
        let long = "a".repeat(40);
        let error = HostLabel::new(&slug(&long), &slug(&"b".repeat(23))).expect_err("64 characters");
        assert!(error.to_string().contains("64 characters"), "{error}");
        assert!(HostLabel::new(&slug(&long), &slug(&"b".repeat(22))).is_ok(), "63 fit");
        assert_eq!(live_host("Shop-Prod", "Acme", "apps.test"), "shop-prod.acme.apps.test");
        assert_eq!(live_url("a.b", Some(8080), false), "http://a.b:8080");
        assert_eq!(live_url("a.b", None, false), "http://a.b");
        assert_eq!(live_url("a.b", Some(80), false), "http://a.b");
        assert_eq!(live_url("a.b", Some(8443), true), "https://a.b:8443");
        assert_eq!(live_url("a.b", Some(443), true), "https://a.b");
    }
}
