//! Streaming through the edge (#14): a WebSocket connection is joined to the app once it
//! switches protocols, an SSE response passes through unbuffered, and a large answer arrives
//! whole while the app keeps its connection open.

use crate::support::TestServer;
use crate::support::fixtures::WEBSOCKET_ECHO_JS;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// An SSE stream whose second event comes 2 s after its first, 64 MiB at `/big` on a connection
/// the app keeps open for 2 minutes (and the WebSocket echo).
const STREAMING_JS: &str = r#"
const http = require('http');
const server = http.createServer((q, r) => {
  if (q.url === '/events') {
    r.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    r.write('data: first\n\n');
    setTimeout(() => { r.write('data: second\n\n'); r.end(); }, 2000);
    return;
  }
  if (q.url === '/big') { r.end(Buffer.alloc(64 << 20, 97)); return; }
  r.end('ok');
});
server.keepAliveTimeout = 120000;
"#;

#[tokio::test]
async fn websockets_and_server_sent_events_pass_through_the_edge() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let (app, _) = ada
        .node_app_ready(
            &server,
            "streams",
            &format!("{STREAMING_JS}{WEBSOCKET_ECHO_JS}"),
            json!({}),
        )
        .await;
    let host = ada.live_host_of(&app).await;

    // WebSocket: the upgrade reaches the app, and messages go both ways.
    let url = format!("{}/ws", server.base.replace("http://", "ws://"));
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert("host", host.parse().expect("host header"));
    let (mut socket, response) =
        tokio::time::timeout(Duration::from_secs(20), tokio_tungstenite::connect_async(request))
            .await
            .expect("handshake in time")
            .expect("the edge switches protocols");
    assert_eq!(response.status().as_u16(), 101);
    for text in ["hello", "again"] {
        socket.send(Message::text(text)).await.expect("send");
        let reply = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("a reply in time")
            .expect("a frame")
            .expect("a message");
        assert_eq!(reply, Message::text(format!("echo: {text}")));
    }
    let _ = socket.close(None).await;

    // SSE: the first event comes through on its own, before the app has sent the second.
    let mut events = crate::support::edge::edge_client()
        .get(format!("{}/events", server.base))
        .header("host", &host)
        .send()
        .await
        .expect("events");
    assert_eq!(events.status().as_u16(), 200);
    let first = tokio::time::timeout(Duration::from_secs(20), events.chunk())
        .await
        .expect("a first chunk in time")
        .expect("read")
        .expect("a chunk");
    let first = String::from_utf8_lossy(&first).into_owned();
    assert!(
        first.contains("data: first") && !first.contains("second"),
        "unbuffered: {first:?}"
    );
    let mut rest = String::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(20), events.chunk())
        .await
        .expect("the rest in time")
        .expect("read")
    {
        rest.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        rest.contains("data: second"),
        "control: the second event came too: {rest:?}"
    );

    // 64 MiB, three times: all of it arrives long before the app would close its connection
    // (through pasta's forward, the last megabyte or so waited for that close).
    for _ in 0..3 {
        let big = tokio::time::timeout(
            Duration::from_secs(30),
            crate::support::edge::edge_client()
                .get(format!("{}/big", server.base))
                .header("host", &host)
                .send(),
        )
        .await
        .expect("headers in time")
        .expect("big");
        let body = tokio::time::timeout(Duration::from_secs(30), big.bytes())
            .await
            .expect("the whole answer without the app closing its connection")
            .expect("read");
        assert_eq!(body.len(), 64 << 20);
    }
}
