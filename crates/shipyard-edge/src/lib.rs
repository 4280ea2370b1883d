//! Shipyard's public listener. It sees every request first and dispatches on the Host header
//! before any API middleware runs: a Host in the route table goes to its app (a static site is
//! served from its release's files), another Host under the apps domain gets a 404 page naming
//! it; the platform host, `localhost` and IP literals reach the API; any other Host is 421.
#![forbid(unsafe_code)]

mod access_log;
mod client_addr;
mod connections;
mod cookies;
mod host;
mod idle;
mod inbound;
mod listener;
mod misdirected;
mod pages;
mod proxy;
mod routes;
mod static_site;

pub use access_log::{AccessEntries, AccessEntry, AccessLog};
pub use client_addr::client_addr;
pub use connections::ConnectionLimits;
pub use host::request_host;
pub use idle::timed_out;
pub use inbound::{Inbound, Opened};
pub use listener::{ClientTimeouts, serve};
pub use proxy::{Proxy, Upstream, Upstreams};
pub use routes::{RouteTable, Table, Target};
pub use static_site::Site;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

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

struct Edge {
    config: EdgeConfig,
    api: Router,
    routes: RouteTable,
    proxy: Proxy,
    access: AccessLog,
}

/// The service the listener runs: Host dispatch over `routes`; apps' requests go to `access`.
/// Request ids and a tracing span are the API's alone (#37): an app's request passes no layer,
/// and gets a request id only when it brought none, made by `proxy` as it is passed on.
pub fn edge_router(config: EdgeConfig, api: Router, routes: RouteTable, access: AccessLog) -> Router {
    let api = api
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
    Router::new().fallback(dispatch).with_state(Arc::new(Edge {
        proxy: Proxy::new(
            config.idle_timeout,
            config.inbound.clone(),
            cookies::CookieFence::new(&config.platform_host, &config.apps_domain),
        ),
        config,
        api,
        routes,
        access,
    }))
}

async fn dispatch(State(edge): State<Arc<Edge>>, request: Request) -> Response {
    match edge.config.classify(request_host(&request).as_deref()) {
        HostKind::App(host) => {
            return match edge.routes.get(&host) {
                Some(target) => app(&edge, &host, target, request).await,
                None => pages::no_app(&host),
            };
        }
        // A verified custom domain is in the route table; any other host is not ours.
        HostKind::Foreign(host) => {
            return match edge.routes.get(&host) {
                Some(target) => app(&edge, &host, target, request).await,
                None => misdirected::response(&host, &edge.config.platform_host),
            };
        }
        HostKind::Platform => {}
    }
    match edge.api.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// The answer of `target`, the app at `host`.
async fn app(edge: &Edge, host: &str, target: Arc<Target>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let asked = access_log::Asked {
        method: request.method().clone(),
        uri: request.uri().clone(),
        user_agent: request.headers().get(axum::http::header::USER_AGENT).cloned(),
        client: client_addr(peer.map(|p| p.ip()), request.headers(), &edge.config.trusted_proxies),
        started: std::time::Instant::now(),
    };
    let response = match target.as_ref() {
        Target::Static { site, .. } => {
            // Only the head is needed (and the body is not `Sync`, so it cannot be held
            // across the file reads).
            let (head, _body) = request.into_parts();
            site.respond(&head.method, head.uri.path(), &head.headers).await
        }
        Target::Proxy { upstreams, .. } => edge.proxy.forward(upstreams, host, peer, request).await,
        Target::Unavailable { why, .. } => pages::unavailable(host, why),
    };
    edge.access.wrap(target.environment(), host, asked, response)
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
