//! Runtime limits (#14, first part): an instance that allocates past `limits.memoryMb` is
//! killed by the kernel at its limit, reported with the reason on the runtime endpoint and in
//! its runtime log, and serves again after its restart.

use crate::support::TestServer;
use crate::support::edge::fetch;
use serde_json::json;
use std::time::{Duration, Instant};

/// Answers `ok`; `/hog` makes it allocate (and touch) 16 MiB every 10 ms until it is stopped.
const HOG_JS: &str = "const hog = [];\n\
    require('http').createServer((q, r) => {\n\
      if (q.url === '/hog') { setInterval(() => hog.push(Buffer.alloc(16 * 1024 * 1024, 1)), 10); }\n\
      r.end('ok');\n\
    }).listen(process.env.PORT);\n";

#[tokio::test]
async fn an_instance_past_its_memory_limit_is_killed_reported_and_serves_again() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let (app, done) = ada
        .node_app_ready(&server, "hog", HOG_JS, json!({ "limits": { "memoryMb": 128 } }))
        .await;
    let host = ada.live_host_of(&app).await;
    // Control: it serves, and nothing has killed it yet.
    assert_eq!(fetch(&server, &host, "/", &[]).await.text(), "ok");
    let before = ada.runtime_view(&app).await;
    assert_eq!(before["instances"][0]["restarts"], 0, "{before}");
    assert!(before["instances"][0]["lastExitReason"].is_null(), "{before}");

    assert_eq!(fetch(&server, &host, "/hog", &[]).await.text(), "ok");
    let deadline = Instant::now() + Duration::from_secs(60);
    let after = loop {
        let view = ada.runtime_view(&app).await;
        let i = &view["instances"][0];
        if i["restarts"] == 1 && i["status"] == "healthy" {
            break view;
        }
        assert!(Instant::now() < deadline, "no restart after the limit: {view}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let instance = &after["instances"][0];
    assert_eq!(
        instance["lastExitReason"], "killed: out of memory at 128 MiB",
        "{after}"
    );
    assert_eq!(instance["lastExitCode"], 137, "{after}");
    let release = done["releaseId"].as_str().expect("release");
    let log = ada.runtime_log_text(release, |t| t.contains("out of memory")).await;
    assert!(
        log.contains("instance 1 killed: out of memory at 128 MiB; restarting in 1 s"),
        "{log}"
    );
    assert_eq!(fetch(&server, &host, "/", &[]).await.text(), "ok", "it serves again");
}
