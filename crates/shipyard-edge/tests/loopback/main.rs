//! The edge on loopback, in process: a listener, the route table and hand-written upstreams.

mod limits;
mod proxy_streaming;
mod upstream_pool;
mod workers;

use axum::Router;
use shipyard_edge::{
    AccessLog, ClientTimeouts, ConnectionLimits, Edge, EdgeConfig, RouteTable, Target, Upstream, Upstreams, Workers,
};
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The one app host the edge routes.
const HOST: &str = "web-production.acme.localhost";

/// An upstream answering every request on a connection with `size` bytes of `a` and the extra
/// header lines `headers`, holding the connection open (for a next request) until the test ends;
/// a WebSocket upgrade it agrees to, then holds the connection.
async fn upstream(size: usize, headers: &[&str]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let extra = extra.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while let Some(asked) = next_request(&mut stream, &mut seen).await {
                    // A protocol switch is agreed to, and the connection then just held.
                    if String::from_utf8_lossy(&asked)
                        .to_ascii_lowercase()
                        .contains("upgrade: websocket")
                    {
                        let switched =
                            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
                        if stream.write_all(switched.as_bytes()).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n{extra}\r\n");
                    if stream.write_all(head.as_bytes()).await.is_err()
                        || stream.write_all(&vec![b'a'; size]).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// The head of the next request a test's app gets on `stream` (bodiless requests only), `seen`
/// holding what was read past it; None once the client closes.
async fn next_request(stream: &mut TcpStream, seen: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(seen.drain(..end + 4).collect());
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// The status line and body of one answer to `GET /` for `HOST` on a kept-alive `stream`.
async fn ask(stream: &mut TcpStream) -> (String, String) {
    let request = format!("GET / HTTP/1.1\r\nHost: {HOST}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("request");
    answer(stream).await
}

/// The status line and body of the next answer on `stream` (within 10 s).
async fn answer(stream: &mut TcpStream) -> (String, String) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .expect("a content-length");
            if got.len() >= end + 4 + length {
                let status = text.lines().next().unwrap_or_default().to_owned();
                return (status, text[end + 4..end + 4 + length].to_owned());
            }
        }
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .expect("an answer within 10 s")
            .expect("read");
        assert!(n > 0, "closed before a whole answer: {got:?}");
        got.extend_from_slice(&buf[..n]);
    }
}

/// How the edge under test is set up.
struct Setup {
    limits: ConnectionLimits,
    header_timeout: Duration,
    workers: NonZeroUsize,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            limits: ConnectionLimits {
                total: 1024,
                per_client: 1024,
                exempt: Vec::new(),
            },
            header_timeout: Duration::from_secs(30),
            workers: NonZeroUsize::MIN,
        }
    }
}

/// An edge on a free port whose only app host proxies to `app`.
async fn edge(app: SocketAddr, setup: Setup) -> SocketAddr {
    edge_with(app, setup).await.0
}

/// An edge on a free port whose only app host proxies to `app`, with its route table and its
/// workers' counts.
async fn edge_with(app: SocketAddr, setup: Setup) -> (SocketAddr, RouteTable, Workers) {
    let routes = RouteTable::default();
    let upstreams = Upstreams::new(vec![Upstream::new(app, Arc::new(AtomicBool::new(true)))]);
    let target = Target::Proxy {
        environment: "env_a".into(),
        release: "rel_a".into(),
        upstreams,
    };
    routes.update(vec![(HOST.to_owned(), Some(Arc::new(target)))]);
    let (access, _entries) = AccessLog::new(1 << 16);
    let config = EdgeConfig {
        platform_host: "localhost".into(),
        apps_domain: "localhost".into(),
        trusted_proxies: Vec::new(),
        idle_timeout: Duration::from_secs(60),
        inbound: shipyard_edge::Inbound::default(),
        https: None,
    };
    let edge = Edge::new(config, Router::new(), routes.clone(), access);
    let listener = shipyard_edge::listen_exclusively("127.0.0.1:0".parse().expect("addr")).expect("bind");
    let listener = TcpListener::from_std(listener).expect("listener");
    let addr = listener.local_addr().expect("addr");
    let timeouts = ClientTimeouts {
        header: setup.header_timeout,
        idle: Duration::from_secs(60),
    };
    let workers = Workers::new(setup.workers);
    let serving = workers.clone();
    tokio::spawn(async move {
        shipyard_edge::serve(
            listener,
            None,
            edge,
            std::future::pending(),
            timeouts,
            setup.limits,
            &serving,
        )
        .await
    });
    (addr, routes, workers)
}
