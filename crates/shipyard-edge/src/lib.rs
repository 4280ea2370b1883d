//! Shipyard's public listener. It sees every request first and dispatches on the Host header
//! before any API middleware runs: a Host under the apps domain belongs to an app (none are
//! routed yet, so those get a 404 page naming the host); every other Host reaches the API.
#![forbid(unsafe_code)]

mod host;
mod not_found;

pub use host::request_host;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
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
}

impl EdgeConfig {
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
}

/// The service the listener runs: Host dispatch, request ids and request tracing.
pub fn edge_router(config: EdgeConfig, api: Router) -> Router {
    Router::new()
        .fallback(dispatch)
        .with_state(Arc::new(Edge { config, api }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

async fn dispatch(State(edge): State<Arc<Edge>>, request: Request) -> Response {
    let host = request_host(&request);
    if let Some(host) = host.filter(|h| edge.config.is_app_host(h)) {
        return not_found::page(&host).into_response();
    }
    match edge.api.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_hosts_are_subdomains_of_the_apps_domain_only() {
        let config = EdgeConfig {
            platform_host: "localhost".into(),
            apps_domain: "localhost".into(),
        };
        assert!(config.is_app_host("web-production.acme.localhost"));
        assert!(!config.is_app_host("localhost"));
        assert!(!config.is_app_host("127.0.0.1"));
        assert!(!config.is_app_host("notlocalhost"));
        assert!(!config.is_app_host(".localhost"));
        let split = EdgeConfig {
            platform_host: "shipyard.example.com".into(),
            apps_domain: "example.com".into(),
        };
        assert!(!split.is_app_host("shipyard.example.com"));
        assert!(split.is_app_host("web.acme.example.com"));
    }
}
