//! The edge's proxy end to end on loopback: a listener, the route table and a hand-written
//! upstream that answers and then keeps its keep-alive connection open, as app servers do.

use axum::Router;
use shipyard_edge::{AccessLog, ClientTimeouts, EdgeConfig, RouteTable, Target, Upstream, Upstreams};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const HOST: &str = "web-production.acme.localhost";

/// An upstream answering every request on a connection with `size` bytes of `a`, holding the
/// connection open (for a next request) until the test ends.
async fn upstream(size: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let Ok(n) = stream.read(&mut buf).await else { return };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n");
                        if stream.write_all(head.as_bytes()).await.is_err()
                            || stream.write_all(&vec![b'a'; size]).await.is_err()
                        {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

/// An edge on a free port whose only app host proxies to `app`.
async fn edge(app: SocketAddr) -> SocketAddr {
    let routes = RouteTable::default();
    let upstreams = Upstreams::new(vec![Upstream {
        addr: app,
        serving: Arc::new(AtomicBool::new(true)),
    }]);
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
    };
    let router = shipyard_edge::edge_router(config, Router::new(), routes, access);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let timeouts = ClientTimeouts {
        header: Duration::from_secs(30),
        idle: Duration::from_secs(60),
    };
    tokio::spawn(shipyard_edge::serve(listener, router, std::future::pending(), timeouts));
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_answer_arrives_whole_while_the_app_keeps_its_connection_open() {
    let size = 32 << 20;
    let edge = edge(upstream(size).await).await;
    for _ in 0..3 {
        let mut client = TcpStream::connect(edge).await.expect("connect");
        let request = format!("GET /big HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n");
        client.write_all(request.as_bytes()).await.expect("request");
        let mut got = Vec::new();
        // The app never closes, so only the proxy's own forwarding can finish the answer.
        tokio::time::timeout(Duration::from_secs(30), client.read_to_end(&mut got))
            .await
            .expect("the whole answer without the app closing its connection")
            .expect("read");
        let body = got
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|end| got.len() - end - 4);
        assert_eq!(body, Some(size), "the whole body");
    }
}
