//! The idle timeout (#14, `--idle-timeout`) bounds slow and silent peers of the edge: a
//! request body that stops arriving (408, for an app and for the API), an app that stops
//! sending its answer, a client that stops reading one, and a WebSocket nobody uses. Each probe
//! has a control that is just as slow in total but keeps moving, and gets through.

use crate::support::TestServer;
use crate::support::fixtures::WEBSOCKET_ECHO_JS;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const IDLE: Duration = Duration::from_secs(2);

/// `/upload` answers with the length of its body; `/drip` sends a piece every 500 ms for 4 s;
/// `/stall` sends one piece and then nothing.
const SLOW_JS: &str = r#"
const http = require('http');
const server = http.createServer((q, r) => {
  if (q.url === '/upload') {
    let n = 0;
    q.on('data', (c) => { n += c.length; });
    q.on('end', () => r.end('got ' + n));
    return;
  }
  if (q.url === '/drip') {
    let left = 8;
    const tick = () => { r.write('drop;'); if (--left === 0) r.end('done'); else setTimeout(tick, 500); };
    return tick();
  }
  if (q.url === '/stall') { r.write('partial;'); return; }
  r.end('ok');
});
"#;

/// Sends `head`, then `body` in pieces of `piece` bytes `gap` apart (stopping after `stop`
/// bytes when given), and returns what came back before the connection ended, and when.
async fn send_slowly(
    server: &TestServer,
    head: String,
    body: &[u8],
    piece: usize,
    gap: Duration,
    stop: Option<usize>,
) -> (String, Duration) {
    let mut stream = TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    let started = Instant::now();
    let sent = stop.unwrap_or(body.len());
    for chunk in body[..sent].chunks(piece) {
        tokio::time::sleep(gap).await;
        // The edge may answer (and close) before the body is whole: the answer says why.
        if stream.write_all(chunk).await.is_err() {
            break;
        }
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer))
        .await
        .expect("the edge answers and closes in time");
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

fn post_head(host: &str, path: &str, length: usize, json: bool) -> String {
    let kind = if json { "Content-Type: application/json\r\n" } else { "" };
    format!("POST {path} HTTP/1.1\r\nHost: {host}\r\n{kind}Content-Length: {length}\r\nConnection: close\r\n\r\n")
}

#[tokio::test]
async fn slow_and_silent_peers_of_an_app_are_cut_off_after_the_idle_timeout() {
    let server = TestServer::start(&["--idle-timeout", "2s"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let (app, _) = ada
        .node_app_ready(&server, "slow", &format!("{SLOW_JS}{WEBSOCKET_ECHO_JS}"), json!({}))
        .await;
    let host = ada.live_host_of(&app).await;
    let body = [b'x'; 8];

    // A request body: one byte every 700 ms (5.6 s in all) arrives whole; three bytes and
    // then silence are answered 408 once the idle time has passed.
    let head = post_head(&host, "/upload", body.len(), false);
    let (steady, _) = send_slowly(&server, head.clone(), &body, 1, Duration::from_millis(700), None).await;
    assert!(
        steady.starts_with("HTTP/1.1 200") && steady.ends_with("got 8"),
        "{steady}"
    );
    let (stalled, after) = send_slowly(&server, head, &body, 1, Duration::ZERO, Some(3)).await;
    assert!(stalled.starts_with("HTTP/1.1 408"), "{stalled}");
    assert!(
        after >= IDLE - Duration::from_millis(100),
        "after the idle time: {after:?}"
    );

    // An answer: one that keeps dripping for 4 s arrives whole; one that stalls is cut.
    let client = crate::support::edge::edge_client();
    let get = |path: &'static str| {
        client
            .get(format!("{}{path}", server.base))
            .header("host", &host)
            .send()
    };
    let drip = get("/drip").await.expect("drip").text().await.expect("the whole drip");
    assert_eq!(drip, format!("{}done", "drop;".repeat(8)));
    let mut stall = get("/stall").await.expect("stall");
    let first = stall.chunk().await.expect("first piece").expect("a piece");
    assert_eq!(&first[..], b"partial;");
    let started = Instant::now();
    let rest = tokio::time::timeout(Duration::from_secs(20), stall.chunk())
        .await
        .expect("the edge ends a stalled answer");
    assert!(rest.is_err(), "cut off, not ended as if complete: {rest:?}");
    assert!(started.elapsed() >= IDLE - Duration::from_millis(100));

    // A WebSocket: messages every 500 ms for 4 s all echo; then 2 s of silence closes it.
    let url = format!("{}/ws", server.base.replace("http://", "ws://"));
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert("host", host.parse().expect("host header"));
    let (mut socket, _) = tokio::time::timeout(Duration::from_secs(20), tokio_tungstenite::connect_async(request))
        .await
        .expect("handshake in time")
        .expect("switched");
    for n in 0..8 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        socket.send(Message::text(format!("m{n}"))).await.expect("send");
        let reply = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a reply in time")
            .expect("a frame")
            .expect("a message");
        assert_eq!(reply, Message::text(format!("echo: m{n}")));
    }
    let started = Instant::now();
    let ended = tokio::time::timeout(Duration::from_secs(20), socket.next())
        .await
        .expect("the edge closes an idle WebSocket");
    assert!(
        !matches!(ended, Some(Ok(Message::Text(_)))),
        "no message, the end: {ended:?}"
    );
    assert!(started.elapsed() >= IDLE - Duration::from_millis(100));
}

#[tokio::test]
async fn an_api_request_whose_body_stops_arriving_is_408_in_the_error_shape() {
    let server = TestServer::start(&["--idle-timeout", "2s"]);
    let body = json!({ "email": "slow@example.com", "password": "correct horse battery", "workspaceName": "Slow" })
        .to_string()
        .into_bytes();
    let head = post_head("localhost", "/auth/signup", body.len(), true);
    // Control: the same body, a few bytes every 300 ms (longer than the idle time in all).
    let (steady, _) = send_slowly(&server, head.clone(), &body, 8, Duration::from_millis(300), None).await;
    assert!(!steady.starts_with("HTTP/1.1 408"), "a steady body is read: {steady}");
    assert!(steady.contains("slow@example.com"), "and served: {steady}");
    let (stalled, _) = send_slowly(&server, head, &body, 8, Duration::ZERO, Some(16)).await;
    assert!(stalled.starts_with("HTTP/1.1 408"), "{stalled}");
    let json_part = stalled.split("\r\n\r\n").nth(1).unwrap_or_default();
    let error: serde_json::Value = serde_json::from_str(json_part).expect("a JSON error");
    assert_eq!(error["statusCode"], 408, "{error}");
    assert!(
        error["message"].as_str().is_some_and(|m| m.contains("--idle-timeout")),
        "{error}"
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_and_one_that_reads_gets_everything() {
    let server = TestServer::start(&["--idle-timeout", "2s"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let build = crate::support::deploy::static_build("mkdir dist && yes a | head -c 67108864 > dist/big.bin");
    let files = [("README.md", "a site with one big file\n")];
    let site = ada.deployable(&server, "big", "static", &files, build).await;
    let done = ada
        .finished(ada.deploy(&site).await["id"].as_str().expect("id"), 120)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let host = ada.live_host_of(&site).await;
    let whole = 64 << 20;
    let read_big = |pause: Duration| {
        let server = &server;
        let host = &host;
        async move {
            let mut stream = TcpStream::connect(server.base.trim_start_matches("http://"))
                .await
                .expect("connect");
            let head = format!("GET /big.bin HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            stream.write_all(head.as_bytes()).await.expect("request");
            tokio::time::sleep(pause).await;
            let mut got = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut got))
                .await
                .expect("the answer ends in time");
            got.len()
        }
    };
    let read = read_big(Duration::ZERO).await;
    assert!(read > whole, "control: all of it and a head: {read}");
    let unread = read_big(IDLE * 3).await;
    assert!(
        unread < whole,
        "a client that stopped reading was cut off: {unread} bytes"
    );
}
