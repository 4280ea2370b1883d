//! Red team (#29): what a stranger can make the listener hold. Connections are capped per client
//! and in all, an HTTP/2 connection with nothing in flight is closed, and an app cannot set a
//! cookie for the platform's host.

use crate::{HOST, Setup, edge, upstream};
use shipyard_edge::ConnectionLimits;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A connection to `edge` from source address `from`.
async fn connect_from(from: &str, edge: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{from}:0").parse().expect("address"))
        .expect("bind the source address");
    socket.connect(edge).await.expect("connect")
}

/// Whether `stream` is served: a request on it gets an HTTP answer (not a closed connection).
async fn served(stream: &mut TcpStream, host: &str) -> bool {
    let request = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
        Ok(Ok(n)) => buf[..n].starts_with(b"HTTP/1.1"),
        Ok(Err(_)) => false,
        Err(_) => panic!("neither served nor closed within 10 s"),
    }
}

/// An edge holding at most `total` connections, `per_client` from one address.
async fn capped_edge(total: usize, per_client: usize) -> SocketAddr {
    let limits = ConnectionLimits {
        total,
        per_client,
        exempt: Vec::new(),
    };
    let setup = Setup {
        limits,
        ..Setup::default()
    };
    edge(upstream(2, &[]).await, setup).await
}

#[tokio::test]
async fn a_client_gets_its_share_of_connections_and_the_total_holds() {
    let edge = capped_edge(6, 4).await;
    // Four connections from one address are held open doing nothing; the fifth is closed.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(connect_from("127.0.0.1", edge).await);
    }
    assert!(
        served(&mut held[0], HOST).await,
        "positive control: a held connection is served"
    );
    let mut fifth = connect_from("127.0.0.1", edge).await;
    assert!(!served(&mut fifth, HOST).await, "a fifth from one client");
    // Another client still gets in, until the total is reached.
    let mut other = Vec::new();
    for _ in 0..2 {
        let mut stream = connect_from("127.0.0.2", edge).await;
        assert!(served(&mut stream, HOST).await, "another client");
        other.push(stream);
    }
    let mut seventh = connect_from("127.0.0.3", edge).await;
    assert!(!served(&mut seventh, HOST).await, "past the total");
    // A connection that ends gives its place back.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut again = connect_from("127.0.0.1", edge).await;
        if served(&mut again, HOST).await {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the ended connection's place never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_websocket_keeps_its_place_among_its_clients_connections() {
    let edge = capped_edge(100, 2).await;
    // Two WebSockets, switched and then silent: the HTTP connections that made them are over,
    // the sockets are not.
    let mut sockets = Vec::new();
    for _ in 0..2 {
        let mut stream = connect_from("127.0.0.1", edge).await;
        let ask = format!(
            "GET /ws HTTP/1.1\r\nHost: {HOST}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        );
        stream.write_all(ask.as_bytes()).await.expect("ask");
        let mut buf = [0u8; 12];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("an answer")
            .expect("read");
        assert!(buf[..n].starts_with(b"HTTP/1.1 101"), "positive control: switched");
        sockets.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = connect_from("127.0.0.1", edge).await;
    assert!(
        !served(&mut third, HOST).await,
        "two open WebSockets fill a client's share"
    );
    let mut other = connect_from("127.0.0.2", edge).await;
    assert!(served(&mut other, HOST).await, "another client still gets in");
}

#[tokio::test]
async fn an_http2_connection_with_nothing_in_flight_is_closed() {
    let edge = edge(
        upstream(2, &[]).await,
        Setup {
            header_timeout: Duration::from_secs(1),
            ..Setup::default()
        },
    )
    .await;
    let mut stream = TcpStream::connect(edge).await.expect("connect");
    // The client preface, an empty SETTINGS frame and the ACK of the server's: a client that
    // speaks HTTP/2, answers pings, and never asks for anything.
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    hello.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    hello.extend_from_slice(&[0, 0, 0, 4, 1, 0, 0, 0, 0]);
    stream.write_all(&hello).await.expect("preface");
    let opened = Instant::now();
    let mut got = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut got)).await;
    assert!(closed.is_ok(), "the idle HTTP/2 connection is still open after 15 s");
    assert!(
        opened.elapsed() >= Duration::from_millis(900),
        "closed for being idle, not at once: {:?}",
        opened.elapsed()
    );
    // The server spoke HTTP/2 (its SETTINGS frame, type 4) and said goodbye (GOAWAY, type 7).
    let mut types = Vec::new();
    let mut rest = got.as_slice();
    while rest.len() >= 9 {
        let len = usize::from(rest[0]) << 16 | usize::from(rest[1]) << 8 | usize::from(rest[2]);
        types.push(rest[3]);
        rest = rest.get(9 + len..).unwrap_or_default();
    }
    assert_eq!(types.first(), Some(&4), "{got:?}");
    assert!(types.contains(&7), "a GOAWAY among frames {types:?}");
}

#[tokio::test]
async fn an_app_cannot_set_a_cookie_for_the_platform_host() {
    let cookies = [
        "Set-Cookie: planted=1; Domain=localhost; Path=/",
        "Set-Cookie: own=1; Path=/",
    ];
    let edge = edge(upstream(2, &cookies).await, Setup::default()).await;
    let mut stream = TcpStream::connect(edge).await.expect("connect");
    let request = format!("GET / HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("request");
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut got))
        .await
        .expect("an answer")
        .expect("read");
    let answer = String::from_utf8_lossy(&got).to_ascii_lowercase();
    assert!(answer.contains("set-cookie: own=1"), "positive control: {answer}");
    assert!(!answer.contains("planted"), "{answer}");
}
