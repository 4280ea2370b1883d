//! The reverse proxy to a release's instances: keep-alive upstream connections in a bounded
//! idle pool of the worker's own (`upstream_pool`), round-robin over the instances that serve, request and
//! response bodies streamed, WebSocket (and other `Upgrade`) connections joined once the app
//! switches, `X-Forwarded-*` set by the edge (never taken from the client),
//! bounded connect time and idle times (`--idle-timeout`: for the answer to start, between its
//! pieces, and on a joined connection), a 408 page for a client whose body stalls, and a 502
//! page when no instance answers.

use crate::cookies::CookieFence;
use crate::idle::{self, IdleBody};
use crate::inbound::{Connector, Inbound};
use crate::pages;
use crate::upstream_pool::{Failed, Pool};
use axum::body::Body;
use axum::http::header::{CONNECTION, COOKIE, HOST, TE, TRAILER, TRANSFER_ENCODING, UPGRADE};
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode, Uri};
use axum::response::Response;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// The header that names a request across the edge and the app.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids for apps' requests that bring none: unique in this process and across its
/// restarts, without a system call per request (a UUID reads the kernel's random source).
mod request_id {
    use axum::http::HeaderValue;
    use std::hash::BuildHasher;
    use std::sync::LazyLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A random prefix per process (the standard library seeds its hasher keys from the OS).
    static PREFIX: LazyLock<u64> = LazyLock::new(|| std::collections::hash_map::RandomState::new().hash_one(0u8));
    static NEXT: AtomicU64 = AtomicU64::new(0);

    /// The next id: `<process prefix>-<counter>`, in hex.
    pub(super) fn next() -> HeaderValue {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{:016x}-{n:x}", *PREFIX)).unwrap_or(HeaderValue::from_static("-"))
    }
}

/// One instance as the edge sees it: an opaque address, and whether it takes requests now
/// (the driver clears the flag while the instance restarts or fails its health check).
#[derive(Debug, Clone)]
pub struct Upstream {
    /// Where it answers.
    addr: SocketAddr,
    /// Whether it takes requests.
    serving: Arc<AtomicBool>,
}

impl Upstream {
    /// An instance at `addr`, taking requests while `serving` says so.
    pub fn new(addr: SocketAddr, serving: Arc<AtomicBool>) -> Self {
        Self { addr, serving }
    }
}

/// A release's instances, as opaque addresses the driver handed over.
#[derive(Debug)]
pub struct Upstreams {
    all: Vec<Upstream>,
    next: AtomicUsize,
}

impl Upstreams {
    /// Round-robin over the serving ones of `all`.
    pub fn new(all: Vec<Upstream>) -> Self {
        Self {
            all,
            next: AtomicUsize::new(0),
        }
    }

    /// The addresses.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.all.iter().map(|u| u.addr).collect()
    }

    /// The next serving instance; None when none is.
    fn pick(&self) -> Option<&Upstream> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..self.all.len())
            .map(|i| &self.all[(start + i) % self.all.len()])
            .find(|u| u.serving.load(Ordering::Relaxed))
    }
}

/// One worker's proxy: every proxied request of the worker goes through its pool.
pub(crate) struct Proxy {
    pool: Arc<Pool>,
    idle: Duration,
    fence: CookieFence,
}

impl Proxy {
    /// A proxy of one of `workers` workers, dialling instances through `inbound`, whose apps get
    /// `idle` to start answering and between the pieces of an answer, and may not set cookies
    /// over `fence`.
    pub(crate) fn new(idle: Duration, inbound: Inbound, fence: CookieFence, workers: usize) -> Self {
        Self {
            pool: Pool::new(Connector::new(inbound), workers),
            idle,
            fence,
        }
    }

    /// Closes upstream connections idle for too long (the worker calls this now and then).
    pub(crate) fn sweep(&self) {
        self.pool.sweep();
    }
}

/// The protocol a request asks to switch to (`Connection: upgrade` with `Upgrade: …`).
fn requested_upgrade(headers: &HeaderMap) -> Option<HeaderValue> {
    let asks = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    asks.then(|| headers.get(UPGRADE).cloned()).flatten()
}

/// Headers that describe one hop and must not be passed on (RFC 9110 §7.6.1); as names made
/// once, so removing them hashes no string.
const HOP_BY_HOP: [HeaderName; 7] = [
    CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    TE,
    TRAILER,
    TRANSFER_ENCODING,
    UPGRADE,
];

/// Makes the request's cookies one `Cookie` header: HTTP/2 clients may send each in a header of
/// its own, and an HTTP/1.1 app may read only the first (RFC 9113 §8.2.3 says to join them).
fn join_cookies(headers: &mut HeaderMap) {
    let mut all = headers.get_all(COOKIE).iter();
    if all.nth(1).is_none() {
        return;
    }
    let joined: Vec<&[u8]> = headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes).collect();
    if let Ok(value) = HeaderValue::from_bytes(&joined.join(&b"; "[..])) {
        headers.insert(COOKIE, value);
    }
}

/// The `X-Forwarded-*` headers the edge sets.
const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

impl Proxy {
    /// Sends `request` (for `host`, from `client`, over TLS when `tls`) to one of `upstreams`.
    pub async fn forward(
        &self,
        upstreams: &Upstreams,
        host: &str,
        client: Option<SocketAddr>,
        tls: bool,
        mut request: Request<Body>,
    ) -> Response {
        let Some(upstream) = upstreams.pick() else {
            return pages::bad_gateway(host);
        };
        // A protocol switch (WebSocket) asked for by the client: passed on, and once the app
        // agrees (101), the two connections are joined byte for byte.
        let switch = requested_upgrade(request.headers()).map(|protocol| (protocol, hyper::upgrade::on(&mut request)));
        let (mut head, body) = request.into_parts();
        // The request line names the path alone (origin form): an HTTP/1.1 request's URI is
        // passed on as it came; an HTTP/2 one's scheme and authority are dropped.
        if head.uri.scheme().is_some() || head.uri.authority().is_some() {
            let path = head
                .uri
                .path_and_query()
                .cloned()
                .unwrap_or_else(|| PathAndQuery::from_static("/"));
            head.uri = Uri::from(path);
        }
        if !head.headers.contains_key(REQUEST_ID) {
            head.headers.insert(REQUEST_ID, request_id::next());
        }
        for name in &HOP_BY_HOP {
            head.headers.remove(name);
        }
        join_cookies(&mut head.headers);
        if let Some((protocol, _)) = &switch {
            head.headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
            head.headers.insert(UPGRADE, protocol.clone());
        }
        // The client's own X-Forwarded-* say nothing trustworthy: the edge's replace them.
        match client.and_then(|client| HeaderValue::from_str(&client.ip().to_string()).ok()) {
            Some(client) => head.headers.insert(FORWARDED_FOR, client),
            None => head.headers.remove(FORWARDED_FOR),
        };
        let proto = if tls { "https" } else { "http" };
        head.headers.insert(FORWARDED_PROTO, HeaderValue::from_static(proto));
        if let Ok(value) = HeaderValue::from_str(host) {
            head.headers.insert(FORWARDED_HOST, value.clone());
            head.headers.insert(HOST, value);
        } else {
            head.headers.remove(FORWARDED_HOST);
        }
        // The app gets `idle` to start its answer once the request has been sent whole: at
        // once for a request without a body (most), else when its body has gone.
        let (body, sent_whole) = if http_body::Body::is_end_stream(&body) {
            (body, None)
        } else {
            let (done, sent_whole) = tokio::sync::watch::channel(false);
            (Body::new(idle::Sent::new(body, done)), Some(sent_whole))
        };
        let answer = self.pool.send(upstream.addr, Request::from_parts(head, body));
        let too_long = async {
            if let Some(mut sent_whole) = sent_whole {
                let _ = sent_whole.wait_for(|whole| *whole).await;
            }
            tokio::time::sleep(self.idle).await;
        };
        let sent = tokio::select! {
            answer = answer => Ok(answer),
            () = too_long => Err(()),
        };
        match sent {
            Ok(Ok(mut response)) => {
                let dropped = self.fence.filter(response.headers_mut());
                if dropped > 0 {
                    tracing::debug!(%host, dropped, "cookies for the platform or every app dropped from an app's answer");
                }
                let switched = response.status() == StatusCode::SWITCHING_PROTOCOLS;
                if let (true, Some((_, client))) = (switched, switch) {
                    let app = hyper::upgrade::on(&mut response);
                    let idle = self.idle;
                    tokio::spawn(async move {
                        if let (Ok(client), Ok(app)) = (client.await, app.await) {
                            idle::join(TokioIo::new(client), TokioIo::new(app), idle).await;
                        }
                    });
                    let (head, body) = response.into_parts();
                    return Response::from_parts(head, Body::new(body));
                }
                let (mut head, body) = response.into_parts();
                for name in &HOP_BY_HOP {
                    head.headers.remove(name);
                }
                Response::from_parts(head, Body::new(IdleBody::new(body, self.idle)))
            }
            Ok(Err(Failed::Sent(e))) if idle::timed_out(&e) => pages::request_timeout(host, self.idle),
            Ok(Err(e)) => {
                tracing::warn!(upstream = %upstream.addr, error = %e, "an instance did not answer");
                pages::bad_gateway(host)
            }
            Err(_) => pages::gateway_timeout(host, self.idle),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_sent_apart_reach_the_app_as_one_header() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1"));
        headers.append(COOKIE, HeaderValue::from_static("b=2"));
        join_cookies(&mut headers);
        let cookies: Vec<_> = headers.get_all(COOKIE).iter().collect();
        assert_eq!(cookies, [HeaderValue::from_static("a=1; b=2")]);
        let mut single = HeaderMap::new();
        single.insert(COOKIE, HeaderValue::from_static("c=3; d=4"));
        join_cookies(&mut single);
        assert_eq!(single[COOKIE], "c=3; d=4");
    }
}
