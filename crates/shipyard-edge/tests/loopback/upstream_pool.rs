//! A worker's upstream connections (#37): kept and reused while the app keeps them, never reused
//! once the app has closed one (said or silent), so neither costs the client an error.

use crate::{Setup, answer, ask, edge_with, next_request};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// How the test's app ends a connection after each answer.
#[derive(Clone, Copy)]
enum Ends {
    /// It keeps it for the next request.
    Never,
    /// It says `Connection: close` and closes it.
    Saying,
    /// It closes it 100 ms later without a word (as an app's keep-alive timeout does).
    Silently,
}

/// An app answering `ok` to each request, counting the connections it accepts.
async fn app(ends: Ends) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while next_request(&mut stream, &mut seen).await.is_some() {
                    let close = if matches!(ends, Ends::Saying) {
                        "Connection: close\r\n"
                    } else {
                        ""
                    };
                    let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n{close}\r\nok");
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                    match ends {
                        Ends::Never => {}
                        Ends::Saying => return,
                        Ends::Silently => {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            return;
                        }
                    }
                }
            });
        }
    });
    (addr, accepted)
}

/// Ten requests on one client connection, `pause` apart; each must be answered `ok`.
async fn ten_requests(edge: SocketAddr, pause: Duration) {
    let mut client = TcpStream::connect(edge).await.expect("connect");
    for i in 0..10 {
        assert_eq!(
            ask(&mut client).await,
            ("HTTP/1.1 200 OK".to_owned(), "ok".to_owned()),
            "request {i}"
        );
        tokio::time::sleep(pause).await;
    }
}

#[tokio::test]
async fn a_kept_upstream_connection_is_reused() {
    let (app, accepted) = app(Ends::Never).await;
    let (edge, _routes, _workers) = edge_with(app, Setup::default()).await;
    ten_requests(edge, Duration::ZERO).await;
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "one upstream connection for ten requests"
    );
}

#[tokio::test]
async fn a_connection_the_app_closed_is_never_reused() {
    for (ends, pause) in [
        (Ends::Saying, Duration::ZERO),
        (Ends::Silently, Duration::from_millis(300)),
    ] {
        let (app, accepted) = app(ends).await;
        let (edge, _routes, _workers) = edge_with(app, Setup::default()).await;
        ten_requests(edge, pause).await;
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            10,
            "a new upstream connection for each request"
        );
    }
}

#[tokio::test]
async fn a_connection_still_sending_a_body_is_not_lent_to_the_next_request() {
    let (app, accepted) = app(Ends::Never).await;
    let (edge, _routes, _workers) = edge_with(app, Setup::default()).await;
    // A client whose upload stalls after 10 of 100 bytes: the app answers it at once (as apps
    // refusing an upload do), so the answer ends while the upstream connection still owes the
    // app 90 bytes of body.
    let mut slow = TcpStream::connect(edge).await.expect("connect");
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Length: 100\r\n\r\n0123456789",
        crate::HOST
    );
    slow.write_all(head.as_bytes()).await.expect("request");
    assert_eq!(
        answer(&mut slow).await,
        ("HTTP/1.1 200 OK".to_owned(), "ok".to_owned()),
        "positive control: answered before its body was sent"
    );
    // The next request gets a connection that is free, not that one (it would wait for the
    // stalled upload until the idle timeout).
    let mut next = TcpStream::connect(edge).await.expect("connect");
    assert_eq!(ask(&mut next).await, ("HTTP/1.1 200 OK".to_owned(), "ok".to_owned()));
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "a second upstream connection");
    drop(slow);
}
