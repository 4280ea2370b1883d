//! What a worker does with a request: Host dispatch by hand (no router, no tower layer on an
//! app's path), an app's answer from its static files or its instances, and the platform's
//! requests handed to the control plane's runtime, where the API and its layers run.

use crate::access_log::{self, AccessLog};
use crate::idle::IdleBody;
use crate::listener::Busy;
use crate::proxy::Proxy;
use crate::routes::{RouteTable, Target};
use crate::tls::OverTls;
use crate::{EdgeConfig, HostKind, client_addr, cookies, misdirected, pages, request_host};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use hyper::body::Incoming;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tower::ServiceExt;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// The edge as every worker shares it: which hosts are whose, the route table, the access log,
/// and the API with the runtime it runs on.
#[derive(Clone)]
pub struct Edge {
    inner: Arc<Shared>,
}

struct Shared {
    config: EdgeConfig,
    api: Router,
    control: tokio::runtime::Handle,
    routes: RouteTable,
    access: AccessLog,
}

impl Edge {
    /// Host dispatch over `routes`; apps' requests go to `access`; the platform's to `api`, run
    /// on the runtime this is called on (it must be called on one: the control plane's). Request ids and a tracing span are the API's alone
    /// (#37): an app's request gets an id only when it brought none, made as it is passed on.
    pub fn new(config: EdgeConfig, api: Router, routes: RouteTable, access: AccessLog) -> Self {
        let api = api
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(TraceLayer::new_for_http())
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
        Self {
            inner: Arc::new(Shared {
                config,
                api,
                control: tokio::runtime::Handle::current(),
                routes,
                access,
            }),
        }
    }

    /// What one of `workers` workers serves with: this edge and upstream connections of its own
    /// (made on the worker's runtime, never shared with another worker).
    pub(crate) fn for_worker(&self, workers: usize) -> Worker {
        let config = &self.inner.config;
        Worker {
            proxy: Proxy::new(
                config.idle_timeout,
                config.inbound.clone(),
                cookies::CookieFence::new(&config.platform_host, &config.apps_domain),
                workers,
            ),
            edge: self.inner.clone(),
        }
    }
}

/// One worker's view of the edge.
pub(crate) struct Worker {
    edge: Arc<Shared>,
    proxy: Proxy,
}

/// The hyper service of one connection.
#[derive(Clone)]
pub(crate) struct Connection {
    pub(crate) worker: Arc<Worker>,
    pub(crate) peer: SocketAddr,
    pub(crate) busy: Arc<crate::listener::InFlight>,
    pub(crate) idle: Duration,
    /// Whether it came through the TLS listener.
    pub(crate) tls: bool,
}

impl hyper::service::Service<Request<Incoming>> for Connection {
    type Response = Response<BusyBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<BusyBody>, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let busy = Busy::new(&self.busy);
        let (worker, peer, idle, tls) = (self.worker.clone(), self.peer, self.idle, self.tls);
        Box::pin(async move {
            let (head, body) = worker.answer(request, peer, idle, tls).await.into_parts();
            Ok(Response::from_parts(
                head,
                BusyBody {
                    inner: body,
                    _busy: busy,
                },
            ))
        })
    }
}

impl Worker {
    /// Closes the worker's upstream connections idle for too long.
    pub(crate) fn sweep(&self) {
        self.proxy.sweep();
    }

    /// The answer to `request` from `peer`, whose body may go `idle` between its pieces; `tls`:
    /// it came over TLS. With HTTPS on, ACME's challenges are answered here, plain HTTP to a
    /// host with a certificate is redirected and HTTPS answers carry HSTS.
    async fn answer(&self, request: Request<Incoming>, peer: SocketAddr, idle: Duration, tls: bool) -> Response<Body> {
        let host = request_host(&request);
        let Some(https) = &self.edge.config.https else {
            return self.route(request, host, peer, idle, false).await;
        };
        if tls {
            let mut response = self.route(request, host, peer, idle, true).await;
            https.harden(&mut response);
            return response;
        }
        // The CA asks for its challenges over plain HTTP, and only the edge may answer them.
        if let Some(answer) = https.challenges.answer(request.uri().path()) {
            return answer;
        }
        match host.as_deref().and_then(|host| https.redirect(host, request.uri())) {
            Some(redirect) => redirect,
            None => self.route(request, host, peer, idle, false).await,
        }
    }

    /// The answer of whoever `host` names.
    async fn route(
        &self,
        request: Request<Incoming>,
        host: Option<String>,
        peer: SocketAddr,
        idle: Duration,
        tls: bool,
    ) -> Response<Body> {
        let edge = &self.edge;
        let (host, target) = match edge.config.classify(host.as_deref()) {
            HostKind::App(host) => match edge.routes.get(&host) {
                Some(target) => (host, target),
                None => return pages::no_app(&host),
            },
            // A verified custom domain is in the route table; any other host is not ours.
            HostKind::Foreign(host) => match edge.routes.get(&host) {
                Some(target) => (host, target),
                None => return misdirected::response(&host, &edge.config.platform_host),
            },
            HostKind::Platform => return self.platform(request, peer, idle, tls).await,
        };
        let asked = access_log::Asked {
            method: request.method().clone(),
            uri: request.uri().clone(),
            user_agent: request.headers().get(axum::http::header::USER_AGENT).cloned(),
            client: client_addr(Some(peer.ip()), request.headers(), &edge.config.trusted_proxies),
            started: std::time::Instant::now(),
        };
        let response = match target.as_ref() {
            Target::Static { site, .. } => {
                let (head, _body) = request.into_parts();
                site.respond(&head.method, head.uri.path(), &head.headers).await
            }
            Target::Proxy { upstreams, .. } => {
                let request = request.map(|body| Body::new(IdleBody::new(body, idle)));
                self.proxy.forward(upstreams, &host, Some(peer), tls, request).await
            }
            Target::Unavailable { why, .. } => pages::unavailable(&host, why),
        };
        edge.access.wrap(target.environment(), &host, asked, response)
    }

    /// The API's answer, worked out on the control plane's runtime (its handlers spawn work
    /// of their own there); abandoned with the request when the client goes.
    async fn platform(
        &self,
        request: Request<Incoming>,
        peer: SocketAddr,
        idle: Duration,
        tls: bool,
    ) -> Response<Body> {
        let (mut head, body) = request.into_parts();
        head.extensions.insert(ConnectInfo(peer));
        if tls {
            head.extensions.insert(OverTls);
        }
        let request = Request::from_parts(head, Body::new(IdleBody::new(body, idle)));
        let answer = AbortOnDrop(self.edge.control.spawn(self.edge.api.clone().oneshot(request)));
        match answer.await {
            Ok(Ok(response)) => response,
            Ok(Err(never)) => match never {},
            Err(e) => {
                tracing::error!(error = %e, "the API's handler failed");
                pages::internal_error()
            }
        }
    }
}

/// A task on the control plane aborted when the request waiting for it is dropped: the
/// request owns it.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A response body that keeps its request counted as in flight until it is done.
pub(crate) struct BusyBody {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for BusyBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
