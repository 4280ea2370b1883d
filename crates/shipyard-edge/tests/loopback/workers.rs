//! The data plane (#37): connections spread over the workers' sockets, every worker sees a route
//! swap at once, and the caps on connections hold across workers.

use crate::{HOST, Setup, ask, edge_with, upstream};
use shipyard_edge::ConnectionLimits;
use std::num::NonZeroUsize;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn two_workers(limits: ConnectionLimits) -> Setup {
    Setup {
        workers: NonZeroUsize::new(2).expect("two"),
        limits,
        ..Setup::default()
    }
}

#[tokio::test]
async fn two_workers_serve_connections_and_both_see_a_route_swap_at_once() {
    let app = upstream(5, &[]).await;
    let (addr, routes, workers) = edge_with(
        app,
        Setup {
            workers: NonZeroUsize::new(2).expect("two"),
            ..Setup::default()
        },
    )
    .await;
    // Kept-alive connections, each served once: the kernel spreads them over both sockets.
    let mut connections = Vec::new();
    for _ in 0..32 {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        assert_eq!(
            ask(&mut stream).await,
            ("HTTP/1.1 200 OK".to_owned(), "aaaaa".to_owned())
        );
        connections.push(stream);
    }
    let served = workers.connections_served();
    assert_eq!(served.len(), 2);
    assert_eq!(served.iter().sum::<u64>(), 32, "{served:?}");
    assert!(
        served.iter().all(|n| *n > 0),
        "both workers took connections: {served:?}"
    );
    // One swap: every connection, whichever worker holds it, sees the app gone on its next
    // request.
    routes.update(vec![(HOST.to_owned(), None)]);
    for stream in &mut connections {
        let (status, body) = ask(stream).await;
        assert_eq!(status, "HTTP/1.1 404 Not Found", "{body}");
        assert!(body.contains(&format!("no app at {HOST}")), "{body}");
    }
    assert_eq!(
        workers.connections_served().iter().sum::<u64>(),
        32,
        "no connection was made again"
    );
}

#[tokio::test]
async fn the_connection_caps_hold_across_workers() {
    let app = upstream(5, &[]).await;
    let limits = ConnectionLimits {
        total: 6,
        per_client: 6,
        exempt: Vec::new(),
    };
    let (addr, _routes, workers) = edge_with(app, two_workers(limits)).await;
    let mut held = Vec::new();
    for _ in 0..6 {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        assert_eq!(
            ask(&mut stream).await.0,
            "HTTP/1.1 200 OK",
            "positive control: within the cap"
        );
        held.push(stream);
    }
    // Whichever worker the next connections reach, the total is the edge's, not a worker's.
    for _ in 0..8 {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let request = format!("GET / HTTP/1.1\r\nHost: {HOST}\r\n\r\n");
        let _ = stream.write_all(request.as_bytes()).await;
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("closed within 10 s");
        assert!(matches!(read, Ok(0) | Err(_)), "past the total: closed unanswered");
    }
    let served = workers.connections_served();
    assert_eq!(
        served.iter().sum::<u64>(),
        6,
        "refused connections are not served: {served:?}"
    );
}
