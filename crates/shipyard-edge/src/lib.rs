//! Shipyard's public listener. It sees every request first and dispatches on the Host header
//! before any API middleware runs: a Host in the route table goes to its app (a static site is
//! served from its release's files), another Host under the apps domain gets a 404 page naming
//! it; the platform host, `localhost` and IP literals reach the API; any other Host is 421.
//! Connections are served by worker threads of their own (`data_plane`), apart from the
//! control plane's runtime, which sees only the platform's requests.
#![forbid(unsafe_code)]

mod access_log;
mod client_addr;
mod connections;
mod cookies;
mod data_plane;
mod dispatch;
mod host;
mod idle;
mod inbound;
mod listener;
mod misdirected;
mod pages;
mod proxy;
mod routes;
mod sockets;
mod static_site;
pub mod tls;
mod upstream_pool;

pub use access_log::{AccessEntries, AccessEntry, AccessLog};
pub use client_addr::client_addr;
pub use connections::ConnectionLimits;
pub use data_plane::{Workers, serve};
pub use dispatch::Edge;
pub use host::request_host;
pub use idle::timed_out;
pub use inbound::{Inbound, Opened};
pub use listener::ClientTimeouts;
pub use proxy::{Upstream, Upstreams};
pub use routes::{RouteTable, Table, Target};
pub use sockets::listen_exclusively;
pub use static_site::Site;

/// Which hosts are the platform's and which are apps'.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// Where the API and console answer.
    pub platform_host: String,
    /// Apps live on subdomains of this.
    pub apps_domain: String,
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long an app may take to start answering, and to send the next piece of its answer;
    /// how long a joined (WebSocket) connection may sit idle (`--idle-timeout`).
    pub idle_timeout: std::time::Duration,
    /// How the proxy dials instances (the runtime opens a way in for each).
    pub inbound: Inbound,
    /// The TLS listener's port and certificates (`--listen-tls`), when there is one.
    pub https: Option<tls::Https>,
}

/// Who answers a request, by its Host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKind {
    /// The API and console.
    Platform,
    /// An app (or the 404 page naming it).
    App(String),
    /// Neither: a verified custom domain when the route table has it, else 421.
    Foreign(String),
}

impl EdgeConfig {
    /// Who answers `host` (None: the request named no host, as HTTP/1.0 clients may).
    pub fn classify(&self, host: Option<&str>) -> HostKind {
        let Some(host) = host else {
            return HostKind::Platform;
        };
        if self.is_app_host(host) {
            return HostKind::App(host.to_owned());
        }
        let ip_literal = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .parse::<std::net::IpAddr>()
            .is_ok();
        if host == self.platform_host || host == "localhost" || ip_literal {
            HostKind::Platform
        } else {
            HostKind::Foreign(host.to_owned())
        }
    }

    /// Whether `host` names an app (a subdomain of the apps domain that is not the platform).
    pub fn is_app_host(&self, host: &str) -> bool {
        host != self.platform_host
            && host
                .strip_suffix(self.apps_domain.as_str())
                .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_hosts_are_subdomains_of_the_apps_domain_only() {
        let config = EdgeConfig {
            platform_host: "localhost".into(),
            apps_domain: "localhost".into(),
            trusted_proxies: Vec::new(),
            idle_timeout: std::time::Duration::from_secs(60),
            inbound: Inbound::default(),
            https: None,
        };
        assert!(config.is_app_host("web-production.acme.localhost"));
        assert!(!config.is_app_host("localhost"));
        assert!(!config.is_app_host("127.0.0.1"));
        assert!(!config.is_app_host("notlocalhost"));
        assert!(!config.is_app_host(".localhost"));
        let split = EdgeConfig {
            platform_host: "shipyard.example.com".into(),
            apps_domain: "example.com".into(),
            trusted_proxies: Vec::new(),
            idle_timeout: std::time::Duration::from_secs(60),
            inbound: Inbound::default(),
            https: None,
        };
        assert!(!split.is_app_host("shipyard.example.com"));
        assert!(split.is_app_host("web.acme.example.com"));
    }

    #[test]
    fn only_the_platform_host_localhost_and_ip_literals_reach_the_api() {
        let config = EdgeConfig {
            platform_host: "shipyard.example.com".into(),
            apps_domain: "apps.example.com".into(),
            trusted_proxies: Vec::new(),
            idle_timeout: std::time::Duration::from_secs(60),
            inbound: Inbound::default(),
            https: None,
        };
        for platform in ["shipyard.example.com", "localhost", "127.0.0.1", "10.1.2.3", "[::1]"] {
            assert_eq!(config.classify(Some(platform)), HostKind::Platform, "{platform}");
        }
        assert_eq!(config.classify(None), HostKind::Platform);
        assert_eq!(
            config.classify(Some("web.acme.apps.example.com")),
            HostKind::App("web.acme.apps.example.com".into())
        );
        for foreign in [
            "rebind.example",
            "example.com",
            "localhost.evil.com",
            "127.0.0.1.nip.io",
        ] {
            assert_eq!(
                config.classify(Some(foreign)),
                HostKind::Foreign(foreign.into()),
                "{foreign}"
            );
        }
    }
}
