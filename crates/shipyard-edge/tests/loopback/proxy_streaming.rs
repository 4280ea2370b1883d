//! The edge's proxy end to end on loopback: a large answer through an upstream that keeps its
//! keep-alive connection open, as app servers do.

use crate::{HOST, edge, upstream};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_answer_arrives_whole_while_the_app_keeps_its_connection_open() {
    let size = 32 << 20;
    let edge = edge(upstream(size, &[]).await, Default::default()).await;
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
